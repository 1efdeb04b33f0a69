import type { Job } from '../src/worker/job.js';
import { incrementalSync } from '../src/sync/incrementalSync.js';

/** What CT.gov updated since the watermark, for the watchlist and tracked studies. */
export const incremental: Job = {
  name: 'incremental',
  schedule: (config) => config.schedules.incremental,
  usesCtgov: true,
  run: (ctx, signal) => incrementalSync(ctx, signal),
};
