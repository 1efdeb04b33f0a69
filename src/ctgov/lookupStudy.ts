import { FetchError } from '../errors.js';
import { ctgovUrl, requireObject, type ClientContext } from './clientContext.js';
import { parseNctId, type NctId } from './nctId.js';
import { peekNctId } from './schema.js';

/** What `/studies/{id}` says about one ID; the record is raw (unvalidated) JSON. */
export type StudyLookup =
  | { kind: 'found'; nctId: NctId; raw: unknown }
  | { kind: 'alias'; requested: NctId; canonical: NctId; raw: unknown }
  | { kind: 'notFound'; nctId: NctId }
  | { kind: 'invalid'; nctId: string; message: string; url: string };

/**
 * GET /studies/{id}. CT.gov answers an alias (an ID merged into another study) with 301 to the
 * canonical record; the redirect is followed once, by hand, so the alias can be reported.
 */
export async function lookupStudy(ctx: ClientContext, id: NctId, signal?: AbortSignal): Promise<StudyLookup> {
  const url = ctgovUrl(ctx.baseUrl, `/studies/${encodeURIComponent(id)}`);
  const res = await ctx.http.get(url, { endpoint: '/studies/{id}', parse: requireObject, passStatuses: [301, 400, 404], signal });
  if (res.status === 200 && 'value' in res) {
    const served = canonicalOrUndefined(peekNctId(res.value));
    // Served under another ID without a redirect: still an alias, never a silent substitution.
    if (served && served !== id) return { kind: 'alias', requested: id, canonical: served, raw: res.value };
    return { kind: 'found', nctId: id, raw: res.value };
  }
  const text = 'text' in res ? res.text : '';
  if (res.status === 404) return { kind: 'notFound', nctId: id };
  if (res.status === 400) return { kind: 'invalid', nctId: id, message: text.trim(), url: url.href };
  return followAlias(ctx, id, url, 'location' in res ? res.location : undefined, signal);
}

async function followAlias(
  ctx: ClientContext,
  id: NctId,
  from: URL,
  location: string | undefined,
  signal?: AbortSignal,
): Promise<StudyLookup> {
  const target = location ? new URL(location, from) : undefined;
  const canonical = canonicalOrUndefined(target?.pathname.split('/').pop());
  if (!target || !canonical || target.origin !== from.origin) {
    throw new FetchError(`GET ${from.href} redirected to an unusable location ${JSON.stringify(location)}`, from.href, 301, false);
  }
  const res = await ctx.http.get(target, { endpoint: '/studies/{id}', parse: requireObject, signal });
  if (!('value' in res)) throw new FetchError(`alias ${id} led to HTTP ${res.status}`, target.href, res.status, false);
  return { kind: 'alias', requested: id, canonical, raw: res.value };
}

export function canonicalOrUndefined(id: string | undefined): NctId | undefined {
  if (id === undefined) return undefined;
  try {
    return parseNctId(decodeURIComponent(id));
  } catch {
    return undefined;
  }
}
