import type { RetryReason } from './retry.js';

/** Low-cardinality name of a CT.gov endpoint, for metrics labels. */
export type Endpoint = '/studies' | '/studies/{id}' | '/version' | '/history' | '/history/{v}';

/** What the client reports for metrics (see CtgovClientOptions.onEvent). */
export type ClientEvent =
  /**
   * One HTTP exchange; `status` is undefined when no response arrived (reset, timeout). A request
   * aborted by its caller's signal (shutdown) is no exchange: the worker's CT.gov state must not
   * read it as CT.gov not answering.
   */
  | { type: 'request'; endpoint: Endpoint; status: number | undefined; durationMs: number }
  | { type: 'retry'; endpoint: Endpoint; reason: RetryReason; attempt: number; delayMs: number }
  /** Time spent not sending: our own limiter, or CT.gov's 429 Retry-After. */
  | { type: 'rateLimitWait'; ms: number; source: 'limiter' | 'server' };
