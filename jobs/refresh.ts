import type { Job } from '../src/worker/job.js';
import { refreshTracked } from '../src/sync/refreshTracked.js';

/** Rolling re-fetch of the least recently seen tracked studies (removals, silent edits). */
export const refresh: Job = {
  name: 'refresh',
  schedule: (config) => config.schedules.refresh,
  usesCtgov: true,
  run: (ctx, signal) => refreshTracked(ctx, signal),
};
