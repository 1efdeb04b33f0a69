import type { Config } from '../config.js';
import { ctgovClientFromConfig } from '../ctgovClient.js';
import type { CtgovClient } from '../ctgov/client.js';
import type { Logger } from '../log.js';
import type { CtgovState } from './ctgovState.js';
import type { WorkerMetrics } from './metrics.js';

export type ClientFactory = (signal: AbortSignal) => CtgovClient;

/**
 * A fresh CT.gov client per run: its own retry budget (an outage fails that run fast, not every
 * later one) and request count (sync_runs.http_requests), aborted with the run. Runs take turns
 * in the CT.gov lane, so one client at a time sends and the process keeps to the rate limit.
 */
export function clientFactory(config: Config, log: Logger, metrics: WorkerMetrics, ctgov?: CtgovState): ClientFactory {
  return (signal) =>
    ctgovClientFromConfig(config, log, {
      signal,
      onEvent: (e) => {
        metrics.onClientEvent(e);
        ctgov?.onClientEvent(e);
      },
    });
}
