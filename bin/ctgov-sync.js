#!/usr/bin/env node
import { main } from '../dist/src/cli.js';

// `ctgov-sync history … | head`: a reader that went away is not an error of ours.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

process.exitCode = await main(process.argv.slice(2));
