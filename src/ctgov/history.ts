import { FetchError } from '../errors.js';
import { ctgovUrl, requireObject } from './clientContext.js';
import type { CtgovHttp } from './http.js';
import type { NctId } from './nctId.js';
import { parseHistoryIndex, parseHistoryVersion, type HistoryIndex, type HistoryVersion } from './historySchema.js';

export type { HistoryChange, HistoryIndex, HistoryVersion } from './historySchema.js';
export { HistoryShapeError } from './historySchema.js';

/** What the history endpoints say about one study. */
export type HistoryIndexResult = { kind: 'found'; index: HistoryIndex } | { kind: 'notFound'; nctId: NctId; message: string };

export interface HistoryClient {
  /** `GET …/studies/{id}/history`. 404 (unknown or merged ID) is an answer, not an error. */
  getIndex(id: NctId, options?: { signal?: AbortSignal }): Promise<HistoryIndexResult>;
  /** `GET …/studies/{id}/history/{v}`. */
  getVersion(id: NctId, version: number, options?: { signal?: AbortSignal }): Promise<HistoryVersion>;
}

/**
 * The history base URL: `historyUrl` when set, else CT.gov's own layout, where the internal API
 * sits next to v2 (`…/api/v2` → `…/api/int`).
 */
export function historyBaseUrl(baseUrl: string, historyUrl?: string | null): string {
  if (historyUrl) return historyUrl.replace(/\/+$/, '');
  const url = new URL(baseUrl);
  const path = url.pathname.replace(/\/+$/, '');
  url.pathname = /\/api\/v2$/.test(path) ? path.replace(/\/api\/v2$/, '/api/int') : `${path}/api/int`;
  return url.href.replace(/\/+$/, '');
}

/**
 * The history endpoints over the v2 client's HTTP layer: the same rate limiter, retries,
 * timeouts and abort signal. Bodies are parsed as JSON objects by the HTTP layer (anything else
 * is retried like a broken v2 answer), then checked for their shape here: an unknown shape
 * throws HistoryShapeError, which the backfill records as that study's failure.
 */
export function createHistoryClient(http: CtgovHttp, base: string): HistoryClient {
  return {
    async getIndex(id, { signal } = {}) {
      const url = ctgovUrl(base, `/studies/${encodeURIComponent(id)}/history`);
      const res = await http.get(url, { endpoint: '/history', parse: requireObject, passStatuses: [404], signal });
      if ('value' in res) return { kind: 'found', index: parseHistoryIndex(id, res.value) };
      return { kind: 'notFound', nctId: id, message: res.text.trim() };
    },
    async getVersion(id, version, { signal } = {}) {
      const url = ctgovUrl(base, `/studies/${encodeURIComponent(id)}/history/${version}`);
      const res = await http.get(url, { endpoint: '/history/{v}', parse: requireObject, passStatuses: [404], signal });
      if (!('value' in res)) {
        throw new FetchError(`GET ${url.href} answered HTTP ${res.status}: ${res.text.trim().slice(0, 200)}`, url.href, res.status, false);
      }
      return parseHistoryVersion(id, version, res.value);
    },
  };
}
