import type { Logger } from 'pino';
import type { CtgovHttp } from './http.js';

/** What the endpoint functions share; built once by createCtgovClient. */
export interface ClientContext {
  http: CtgovHttp;
  baseUrl: string;
  idBatchSize: number;
  pageSize: number;
  concurrency: number;
  logger: Logger;
}

/**
 * `base + path ? params`. Commas stay literal (CT.gov lists use them and they are legal in a
 * query); spaces become %20 rather than `+`.
 */
export function ctgovUrl(base: string, path: string, params: Record<string, string | undefined> = {}): URL {
  const url = new URL(base.replace(/\/+$/, '') + path);
  const query = Object.entries(params)
    .filter((e): e is [string, string] => e[1] !== undefined)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v).replace(/%2C/gi, ',')}`)
    .join('&');
  url.search = query;
  return url;
}

/** A study or page body must at least be a JSON object; anything else is a broken answer. */
export function requireObject(json: unknown): Record<string, unknown> {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new TypeError('expected a JSON object');
  return json as Record<string, unknown>;
}
