import type { Logger } from 'pino';
import { z } from 'zod';
import { FetchError } from '../errors.js';
import { ctgovUrl, type ClientContext } from './clientContext.js';
import type { ClientEvent } from './clientEvent.js';
import { fetchStudiesByIds, type IdBatch } from './fetchStudiesByIds.js';
import { createHistoryClient, historyBaseUrl, type HistoryClient } from './history.js';
import { createHttp, type HttpStats } from './http.js';
import { lookupStudy } from './lookupStudy.js';
import type { NctId } from './nctId.js';
import type { RetryPolicy } from './retry.js';
import { parseCtgovStudy, type CtgovStudy } from './schema.js';
import { buildSearchParams, type SearchParams } from './searchParams.js';
import { iterateStudyPages, type StudiesPageResult } from './studyPages.js';

export type { ClientEvent } from './clientEvent.js';
export type { IdBatch } from './fetchStudiesByIds.js';
export type { RetryPolicy } from './retry.js';
export type { SearchParams } from './searchParams.js';
export type { StudiesPageResult } from './studyPages.js';

export interface CtgovClientOptions {
  /** e.g. https://clinicaltrials.gov/api/v2 */
  baseUrl: string;
  /** The record-history endpoints' base; derived from baseUrl (`…/api/v2` → `…/api/int`) when unset. */
  historyUrl?: string | null;
  /** Never more requests than this in any window of rateWindowMs (retries included). */
  rateLimitPerMinute: number;
  /** The window rateLimitPerMinute applies to; 60 000 except in tests that shrink time. */
  rateWindowMs?: number;
  /** HTTP requests in flight at once (and /studies batches fetched ahead). */
  concurrency: number;
  /** IDs per filter.ids request. */
  idBatchSize: number;
  /** Studies per /studies page; CT.gov caps it at 1000. */
  pageSize: number;
  /** Per attempt, body included. */
  timeoutMs: number;
  retry: RetryPolicy;
  userAgent: string;
  logger: Logger;
  /** Aborting it aborts every request in flight and every wait, and refuses new ones. */
  signal?: AbortSignal;
  onEvent?: (e: ClientEvent) => void;
  /** Jitter source for backoff; tests pass a seeded one. */
  random?: () => number;
}

export const CLIENT_DEFAULTS = {
  rateLimitPerMinute: 50,
  concurrency: 4,
  idBatchSize: 200,
  pageSize: 1000,
  timeoutMs: 60_000,
  retry: { maxAttempts: 6, baseDelayMs: 1_000, maxDelayMs: 30_000, runBudget: 200 },
  userAgent: 'ctgov-sync/0.1.0 (ClinicalTrials.gov API v2 mirror to Postgres)',
} satisfies Partial<CtgovClientOptions>;

/** Options as callers give them: anything but baseUrl and logger may be left to CLIENT_DEFAULTS. */
export type CtgovClientInit = Pick<CtgovClientOptions, 'baseUrl' | 'logger'> &
  Partial<Omit<CtgovClientOptions, 'baseUrl' | 'logger' | 'retry'>> & { retry?: Partial<RetryPolicy> };

export interface CallOptions {
  signal?: AbortSignal;
}

export type GetStudyResult =
  | { kind: 'found'; study: CtgovStudy; raw: unknown }
  | { kind: 'notFound'; nctId: NctId }
  | { kind: 'alias'; requested: NctId; canonical: NctId; study: CtgovStudy; raw: unknown };

export interface ApiVersion {
  apiVersion: string;
  /** UTC `yyyy-MM-ddTHH:mm:ss`; moves when CT.gov refreshes its data. */
  dataTimestamp: string;
}

export interface CtgovClient {
  /** One study. Throws StudyValidationError for a record of the wrong shape, FetchError on 400. */
  getStudy(id: NctId, options?: CallOptions): Promise<GetStudyResult>;
  /** Batches of raw records, in request order; see IdBatch for what happens to each ID. */
  getStudiesByIds(ids: readonly NctId[], options?: CallOptions): AsyncGenerator<IdBatch>;
  /** Streams /studies pages for a query (records raw). */
  searchStudies(params: SearchParams, options?: CallOptions): AsyncGenerator<StudiesPageResult>;
  getVersion(options?: CallOptions): Promise<ApiVersion>;
  /** CT.gov's record history (`/api/int`), through the same rate limiter, retries and signal. */
  readonly history: HistoryClient;
  /** Requests, retries and retry budget left so far (for run summaries and benchmarks). */
  stats(): HttpStats;
  /** Refuses new calls, waits for those in flight (aborting them if asked), closes connections. */
  close(options?: { abort?: boolean }): Promise<void>;
}

const versionSchema = z.looseObject({ apiVersion: z.string(), dataTimestamp: z.string() });

export function createCtgovClient(init: CtgovClientInit): CtgovClient {
  const opts = resolveOptions(init);
  const http = createHttp(opts);
  const ctx: ClientContext = {
    http,
    baseUrl: opts.baseUrl,
    idBatchSize: opts.idBatchSize,
    pageSize: opts.pageSize,
    concurrency: opts.concurrency,
    logger: opts.logger,
  };

  return {
    async getStudy(id, { signal } = {}) {
      const found = await lookupStudy(ctx, id, signal);
      switch (found.kind) {
        case 'notFound':
          return found;
        case 'invalid':
          throw new FetchError(`CT.gov rejected NCT ID ${id}: ${found.message}`, found.url, 400, false, found.message);
        case 'alias':
          return { ...found, study: parseCtgovStudy(found.raw) };
        case 'found':
          return { kind: 'found', study: parseCtgovStudy(found.raw), raw: found.raw };
      }
    },
    getStudiesByIds: (ids, { signal } = {}) => fetchStudiesByIds(ctx, ids, signal),
    searchStudies: (params, { signal } = {}) =>
      iterateStudyPages(ctx, buildSearchParams(params, opts.pageSize), signal),
    async getVersion({ signal } = {}) {
      const url = ctgovUrl(opts.baseUrl, '/version');
      const res = await http.get(url, { endpoint: '/version', parse: (j) => versionSchema.parse(j), signal });
      if (!('value' in res)) throw new FetchError(`GET ${url.href} answered HTTP ${res.status}`, url.href, res.status, false);
      return { apiVersion: res.value.apiVersion, dataTimestamp: res.value.dataTimestamp };
    },
    history: createHistoryClient(http, historyBaseUrl(opts.baseUrl, opts.historyUrl)),
    stats: () => http.stats(),
    close: (options) => http.close(options),
  };
}

function resolveOptions(init: CtgovClientInit): CtgovClientOptions {
  const opts: CtgovClientOptions = {
    ...CLIENT_DEFAULTS,
    ...stripUndefined(init),
    retry: { ...CLIENT_DEFAULTS.retry, ...stripUndefined(init.retry ?? {}) },
    logger: init.logger.child({ component: 'ctgov' }),
  };
  const positive = { concurrency: opts.concurrency, idBatchSize: opts.idBatchSize, pageSize: opts.pageSize };
  for (const [name, value] of Object.entries(positive)) {
    if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, got ${value}`);
  }
  if (!(opts.retry.maxAttempts >= 1)) throw new RangeError('retry.maxAttempts must be at least 1');
  // CT.gov silently coerces larger page sizes down to 1000.
  return { ...opts, pageSize: Math.min(opts.pageSize, 1000) };
}

function stripUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
