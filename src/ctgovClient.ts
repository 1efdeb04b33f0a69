import type { Config } from './config.js';
import { createCtgovClient, type ClientEvent, type CtgovClient } from './ctgov/client.js';
import type { Logger } from './log.js';

/** The CT.gov client as configured: one per process, so its rate limiter is the process's. */
export function ctgovClientFromConfig(
  config: Config,
  log: Logger,
  options: { signal?: AbortSignal; onEvent?: (e: ClientEvent) => void } = {},
): CtgovClient {
  const c = config.ctgov;
  return createCtgovClient({
    baseUrl: c.baseUrl,
    historyUrl: c.historyUrl,
    rateLimitPerMinute: c.rateLimitPerMinute,
    concurrency: c.concurrency,
    idBatchSize: c.idBatchSize,
    pageSize: c.pageSize,
    timeoutMs: c.timeoutMs,
    retry: c.retry,
    userAgent: c.userAgent,
    logger: log,
    ...options,
  });
}
