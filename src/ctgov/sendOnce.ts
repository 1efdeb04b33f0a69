import type { Dispatcher } from 'undici';
import { gunzipWhole } from './gunzip.js';

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The body, decompressed. */
  body: Buffer;
}

/** The body as UTF-8 text. */
export function bodyText(res: RawResponse): string {
  return res.body.toString('utf8');
}

/**
 * One GET: sends, reads the whole body, gunzips it. Throws whatever undici or zlib throw
 * (resets, aborts, corrupt gzip); deciding what is retryable is the caller's job.
 */
export async function sendOnce(
  dispatcher: Dispatcher,
  url: URL,
  headers: Record<string, string>,
  signal: AbortSignal,
): Promise<RawResponse> {
  const res = await dispatcher.request({
    origin: url.origin,
    path: url.pathname + url.search,
    method: 'GET',
    headers,
    signal,
  });
  // A whole page is needed before JSON.parse can run anyway; one buffer is the cheapest read.
  // It stays bytes: a /studies page is decoded study by study (splitStudiesPage), never whole.
  const buffer = Buffer.from(await res.body.arrayBuffer());
  const encoding = String(res.headers['content-encoding'] ?? '').toLowerCase();
  const body = encoding === 'gzip' || encoding === 'x-gzip' ? await gunzipWhole(buffer) : buffer;
  return { status: res.statusCode, headers: res.headers, body };
}
