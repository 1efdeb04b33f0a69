import { FetchError } from '../errors.js';
import { ctgovUrl, type ClientContext } from './clientContext.js';
import { parseStudiesPage } from './schema.js';

export interface StudiesPageResult {
  /** Raw records as parsed JSON; validation is the caller's stage. */
  studies: unknown[];
  /** Only on the first page, and only when countTotal was asked for. */
  totalCount?: number;
  nextPageToken?: string;
}

/**
 * Walks `/studies` page by page. CT.gov requires every later page to repeat the same parameters
 * plus the previous nextPageToken; countTotal only matters on the first.
 */
export async function* iterateStudyPages(
  ctx: ClientContext,
  params: Record<string, string | undefined>,
  signal?: AbortSignal,
): AsyncGenerator<StudiesPageResult> {
  const seen = new Set<string>();
  let token: string | undefined;
  for (;;) {
    const query = token ? { ...params, countTotal: undefined, pageToken: token } : params;
    const url = ctgovUrl(ctx.baseUrl, '/studies', query);
    const res = await ctx.http.get(url, { endpoint: '/studies', parse: parseStudiesPage, signal });
    if (!('value' in res)) throw new FetchError(`GET ${url.href} answered HTTP ${res.status}`, url.href, res.status, false);
    const { studies, totalCount, nextPageToken } = res.value;
    yield { studies, totalCount, nextPageToken };
    if (!nextPageToken) return;
    if (seen.has(nextPageToken)) throw new FetchError(`CT.gov repeated pageToken ${nextPageToken}`, url.href, 200, false);
    seen.add(nextPageToken);
    token = nextPageToken;
  }
}
