import type { Job } from '../src/worker/job.js';
import { discoverStudies } from '../src/sync/discoverStudies.js';

/** New studies matching the watchlist's queries: tracked and synced. */
export const discover: Job = {
  name: 'discover',
  schedule: (config) => config.schedules.discover,
  usesCtgov: true,
  run: (ctx, signal) => discoverStudies(ctx, signal),
};
