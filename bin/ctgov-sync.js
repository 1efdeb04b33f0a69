#!/usr/bin/env node
// `npm ci` builds dist/ (the `prepare` script); a checkout that skipped it gets one line, not a stack.
let main;
try {
  ({ main } = await import('../dist/src/cli.js'));
} catch (err) {
  if (err?.code !== 'ERR_MODULE_NOT_FOUND' || !String(err.message).includes('dist/src/cli.js')) throw err;
  process.stderr.write('ctgov-sync: the program is not built (dist/ is missing): run `npm run build` first\n');
  process.exit(2);
}

// `ctgov-sync history … | head`: a reader that went away is not an error of ours.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

process.exitCode = await main(process.argv.slice(2));
