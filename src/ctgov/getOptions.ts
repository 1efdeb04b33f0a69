import type { Endpoint } from './clientEvent.js';

// The shape of one GET, shared by the HTTP layer and the classification of its outcomes
// (outcome.ts), which http.ts uses: a file of its own so that neither imports the other.

export interface GetOptions<T> {
  endpoint: Endpoint;
  /**
   * Reads a 200 body as JSON (JSON.parse of its UTF-8 text when unset); throwing means invalid
   * JSON, and the request is retried.
   */
  read?: (body: Buffer) => unknown;
  /** Checks a 200 body's JSON; throwing means the body is garbage and the request is retried. */
  parse: (json: unknown) => T;
  /** Statuses handed back to the caller as text instead of being treated as failures. */
  passStatuses?: readonly number[];
  signal?: AbortSignal;
}

export type HttpResult<T> =
  | { status: 200; value: T; url: string }
  | { status: number; text: string; location: string | undefined; url: string };
