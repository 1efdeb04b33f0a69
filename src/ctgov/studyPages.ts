import { FetchError } from '../errors.js';
import { ctgovUrl, type ClientContext } from './clientContext.js';
import { parseStudiesPage } from './schema.js';
import { withStudies, type RawRecord } from './rawRecord.js';
import { splitStudiesPage } from './splitStudiesPage.js';

export interface StudiesPageResult {
  /**
   * Each study as received: its bytes, cut out of the page (what the raw hash is taken of, what a
   * new version stores, parsed only when its content is needed), or the parsed record when the
   * page could not be cut into studies and was parsed whole.
   */
  records: RawRecord[];
  /** The records parsed (on first use: the sync reads `records`). */
  readonly studies: unknown[];
  /** Only on the first page, and only when countTotal was asked for. */
  totalCount?: number;
  nextPageToken?: string;
}

/** A page read as its envelope and, when it could be split, each study's bytes. */
interface PageJson {
  envelope: unknown;
  studies?: Buffer[];
}

/**
 * A page's body cut into its studies' bytes before anything is decoded: only the envelope is
 * parsed here; each study is decoded and parsed when its content is needed (never, for a study
 * whose bytes hash to the stored raw hash). A page that cannot be split is parsed whole.
 */
function readStudiesPage(body: Buffer): PageJson {
  const split = splitStudiesPage(body);
  if (!split) return { envelope: JSON.parse(body.toString('utf8')) };
  return { envelope: JSON.parse(split.envelope), studies: split.studies };
}

function parsePage(json: unknown): Omit<StudiesPageResult, 'studies'> {
  const { envelope, studies } = json as PageJson;
  const { studies: parsed, ...page } = parseStudiesPage(envelope);
  return { ...page, records: studies ? studies.map((bytes) => ({ json: bytes })) : parsed.map((raw) => ({ raw })) };
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
    const { nextPageToken } = res.value;
    yield withStudies(res.value);
    if (!nextPageToken) return;
    if (seen.has(nextPageToken)) throw new FetchError(`CT.gov repeated pageToken ${nextPageToken}`, url.href, 200, false);
    seen.add(nextPageToken);
    token = nextPageToken;
  }
}
