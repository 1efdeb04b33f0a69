import { FetchError } from '../errors.js';
import { ctgovUrl, type ClientContext } from './clientContext.js';
import { parseStudiesPage } from './schema.js';
import { splitStudiesPage } from './splitStudiesPage.js';

export interface StudiesPageResult {
  /** Raw records as parsed JSON; validation is the caller's stage. */
  studies: unknown[];
  /**
   * Each record's JSON text as CT.gov sent it, in the order of `studies` (what the raw hash is
   * taken of, and what a new version stores). Absent when the page could not be split.
   */
  texts?: string[];
  /** Only on the first page, and only when countTotal was asked for. */
  totalCount?: number;
  nextPageToken?: string;
}

/** A page read as its envelope and, when it could be split, each study parsed from its own text. */
interface PageJson {
  envelope: unknown;
  studies?: { raw: unknown[]; texts: string[] };
}

/**
 * A page's body read study by study: each study's text is decoded and parsed on its own, so the
 * page is never one big string, and each record comes with the text it was parsed from. A page
 * that cannot be split is parsed whole (its records then have no text).
 */
function readStudiesPage(body: Buffer): PageJson {
  const split = splitStudiesPage(body);
  if (!split) return { envelope: JSON.parse(body.toString('utf8')) };
  const envelope: unknown = JSON.parse(split.envelope);
  return { envelope, studies: { raw: split.studies.map((text): unknown => JSON.parse(text)), texts: split.studies } };
}

function parsePage(json: unknown): StudiesPageResult {
  const { envelope, studies } = json as PageJson;
  const page = parseStudiesPage(envelope);
  return studies ? { ...page, studies: studies.raw, texts: studies.texts } : page;
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
    const res = await ctx.http.get(url, { endpoint: '/studies', read: readStudiesPage, parse: parsePage, signal });
    if (!('value' in res)) throw new FetchError(`GET ${url.href} answered HTTP ${res.status}`, url.href, res.status, false);
    const { studies, texts, totalCount, nextPageToken } = res.value;
    yield { studies, ...(texts ? { texts } : {}), totalCount, nextPageToken };
    if (!nextPageToken) return;
    if (seen.has(nextPageToken)) throw new FetchError(`CT.gov repeated pageToken ${nextPageToken}`, url.href, 200, false);
    seen.add(nextPageToken);
    token = nextPageToken;
  }
}
