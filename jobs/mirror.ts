import type { Job } from '../src/worker/job.js';
import { refreshMirror } from '../src/sync/refreshMirror.js';

/** Pages whose "recent changes" window moved, pages missing on disk, and the index. */
export const mirror: Job = {
  name: 'mirror',
  schedule: (config) => config.schedules.mirror,
  usesCtgov: false,
  run: (ctx) => refreshMirror(ctx),
};
