import type { Job } from '../src/worker/job.js';
import { startupSync } from '../src/sync/startupSync.js';

/** On start-up only: the watchlist, when the database has never synced it (or new IDs in it). */
export const sync: Job = {
  name: 'sync',
  schedule: () => null,
  usesCtgov: true,
  run: (ctx, signal) => startupSync(ctx, signal),
};
