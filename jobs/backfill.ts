import { backfillTracked } from '../src/backfill/backfillJob.js';
import type { Job } from '../src/worker/job.js';

/** Change history from CT.gov's record versions for newly tracked studies (backfill.enabled). */
export const backfill: Job = {
  name: 'backfill',
  schedule: (config) => config.schedules.backfill,
  usesCtgov: true,
  run: (ctx, signal) => backfillTracked(ctx, signal),
};
