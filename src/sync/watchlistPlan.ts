import type { Config } from '../config.js';
import { parseNctIds } from '../ctgov/nctId.js';
import { ConfigError } from '../errors.js';
import { parseQueryExpression } from '../pipeline/apiSources.js';
import type { SyncPlan } from '../pipeline/syncPlan.js';

/** The configured watchlist as a sync plan (IDs and parsed queries). */
export function watchlistPlan(config: Config): SyncPlan {
  return {
    ids: parseNctIds(config.watchlist.ids),
    queries: config.watchlist.queries.map((expr) => {
      try {
        return { expr, params: parseQueryExpression(expr) };
      } catch (err) {
        throw new ConfigError('watchlist.queries', (err as Error).message);
      }
    }),
  };
}
