import { FetchError } from '../errors.js';
import type { GetOptions, HttpResult } from './getOptions.js';
import { parseRetryAfter, type RetryReason } from './retry.js';
import { bodyText, type RawResponse } from './sendOnce.js';

/** What one attempt amounts to: an answer for the caller, a reason to try again, or a final error. */
export type Outcome<T> =
  | { kind: 'done'; result: HttpResult<T> }
  | { kind: 'fail'; error: FetchError }
  | {
      kind: 'retry';
      reason: RetryReason;
      detail: string;
      status?: number;
      retryAfterMs?: number;
      bodyExcerpt?: string;
      cause?: unknown;
    };

const EXCERPT_CHARS = 300;

export function bodyExcerpt(text: string): string {
  // Collapsing whitespace only shortens: the head of a multi-MB body is enough.
  const flat = text.slice(0, EXCERPT_CHARS * 8).replace(/\s+/g, ' ').trim();
  return flat.length > EXCERPT_CHARS ? `${flat.slice(0, EXCERPT_CHARS)}…` : flat;
}

/** The head of a body as text: enough for an excerpt or a sniff, without decoding megabytes. */
function bodyHead(res: RawResponse): string {
  // 4 bytes per character at most: the first EXCERPT_CHARS * 8 characters are all there.
  return res.body.toString('utf8', 0, EXCERPT_CHARS * 8 * 4);
}

function header(res: RawResponse, name: string): string | undefined {
  const v = res.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

export function classifyResponse<T>(res: RawResponse, url: URL, o: GetOptions<T>): Outcome<T> {
  if (res.status === 200) return classifyOk(res, url, o);
  const excerpt = bodyExcerpt(bodyHead(res));
  if (o.passStatuses?.includes(res.status)) {
    return { kind: 'done', result: { status: res.status, text: bodyText(res), location: header(res, 'location'), url: url.href } };
  }
  const retryAfterMs = parseRetryAfter(res.headers['retry-after']);
  const detail = `HTTP ${res.status}: ${excerpt}`;
  if (res.status === 429) return { kind: 'retry', reason: 'rateLimited', status: 429, retryAfterMs, detail, bodyExcerpt: excerpt };
  if (res.status >= 500) {
    return { kind: 'retry', reason: 'serverError', status: res.status, retryAfterMs, detail, bodyExcerpt: excerpt };
  }
  return { kind: 'fail', error: new FetchError(`GET ${url.href} answered ${detail}`, url.href, res.status, false, excerpt) };
}

/**
 * Proxies and CDNs in front of CT.gov answer outages with an HTML page and status 200, and a
 * dropped connection can end a chunked body early: both are retried, not handed on.
 */
function classifyOk<T>(res: RawResponse, url: URL, o: GetOptions<T>): Outcome<T> {
  // The excerpt is made only for a bad body: a good one is megabytes that nobody reads twice.
  const badBody = (detail: string, cause?: unknown): Outcome<T> => {
    const excerpt = bodyExcerpt(bodyHead(res));
    return { kind: 'retry', reason: 'badBody', status: 200, detail: `HTTP 200 with ${detail}: ${excerpt}`, bodyExcerpt: excerpt, cause };
  };
  if (/html/i.test(header(res, 'content-type') ?? '') || /^\s*</.test(bodyHead(res))) return badBody('an HTML page instead of JSON');
  let json: unknown;
  try {
    json = o.read ? o.read(res.body) : JSON.parse(bodyText(res));
  } catch (err) {
    return badBody(`invalid JSON (${res.body.length} bytes)`, err);
  }
  try {
    return { kind: 'done', result: { status: 200, value: o.parse(json), url: url.href } };
  } catch (err) {
    return badBody(`unexpected JSON (${err instanceof Error ? err.message : String(err)})`, err);
  }
}

/** Errors from undici carry a `code` (UND_ERR_SOCKET, ECONNRESET, …); zlib's start with Z_. */
export function classifyThrown<T>(err: unknown, url: URL): Outcome<T> {
  const code = errorCode(err) ?? errorCode((err as { cause?: unknown } | null)?.cause);
  const message = err instanceof Error ? err.message : String(err);
  if (code?.startsWith('Z_')) return { kind: 'retry', reason: 'badBody', detail: `corrupt gzip body (${code})`, cause: err };
  if (code && code !== 'UND_ERR_INVALID_ARG') {
    return { kind: 'retry', reason: 'connection', detail: `${code}: ${message}`, cause: err };
  }
  return {
    kind: 'fail',
    error: new FetchError(`GET ${url.href} failed: ${message}`, url.href, undefined, false, undefined, { cause: err }),
  };
}

function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}
