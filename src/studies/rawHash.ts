import { createHash } from 'node:crypto';
import { isPlainObject } from '../isPlainObject.js';

/**
 * Part of every raw hash. Bump it when validation or normalization rules change: every stored
 * raw hash then misses once, and each study is read again (validated, normalized, compared) by
 * the new rules instead of being taken as unchanged on its bytes.
 */
export const RAW_HASH_VERSION = '1';

export interface RawText {
  /** The record as JSON text (what a new version stores). */
  json: string;
  /** See rawRecordText. */
  hash: string;
}

/**
 * A raw CT.gov record as JSON text, and the hash of that text with the
 * `derivedSection.miscInfoModule.versionHolder` member left out (it moves on every CT.gov data
 * refresh, for every study). The text is the one the record arrived as (`received`: a study's
 * slice of a /studies page, a file) when there is one, so an unchanged record costs a hash of
 * bytes already in hand; else JSON.stringify writes it. Equal hashes mean the same text, hence
 * the same record: such a record is unchanged without validating, normalizing or diffing it
 * again, which is most of the cost of a re-sync. Other text for the same record (CT.gov changed
 * its spacing or escapes) only misses: the study takes the full path once, finds its content
 * unchanged and adopts the new hash, without a version. CT.gov's pages are minified the way
 * JSON.stringify writes, so their hashes are the same either way.
 *
 * Undefined when there is no text and the record cannot be serialised (then the study takes the
 * full path).
 */
export function rawRecordText(raw: unknown, received?: string): RawText | undefined {
  let json = received;
  if (json === undefined) {
    try {
      json = JSON.stringify(raw);
    } catch {
      return undefined;
    }
    if (json === undefined) return undefined;
  }
  const hash = createHash('sha256').update(`${RAW_HASH_VERSION}\n`);
  const holder = miscInfo(raw)?.versionHolder;
  // Only a string is left out: anything else is not what CT.gov sends, and must still count.
  const cut = typeof holder === 'string' ? holderMember(json, holder) : undefined;
  if (!cut) hash.update(json);
  else hash.update(json.slice(0, cut[0])).update(json.slice(cut[1]));
  return { json, hash: hash.digest('base64url') };
}

/** rawRecordText's hash alone. */
export function rawRecordHash(raw: unknown, received?: string): string | undefined {
  return rawRecordText(raw, received)?.hash;
}

const HOLDER_KEY = '"versionHolder"';

/**
 * Where `"versionHolder":"<holder>"` is in the text, as [start, end). The derived section comes
 * last in a record, hence the search from the end. The key must open an object member (after
 * `{` or `,`): quotes inside JSON strings are escaped, so such a match is a key, never text.
 */
function holderMember(json: string, holder: string): [number, number] | undefined {
  const value = JSON.stringify(holder);
  for (let at = json.lastIndexOf(HOLDER_KEY); at >= 0; at = at > 0 ? json.lastIndexOf(HOLDER_KEY, at - 1) : -1) {
    let i = skipSpace(json, at + HOLDER_KEY.length, 1);
    if (json[i] !== ':') continue;
    i = skipSpace(json, i + 1, 1);
    if (!json.startsWith(value, i)) continue;
    const before = json[skipSpace(json, at - 1, -1)];
    if (before === '{' || before === ',') return [at, i + value.length];
  }
  return undefined;
}

/** The first index from `i`, stepping by `step`, that is not JSON whitespace. */
function skipSpace(json: string, i: number, step: 1 | -1): number {
  while (i >= 0 && i < json.length && ' \n\r\t'.includes(json[i]!)) i += step;
  return i;
}

function miscInfo(raw: unknown): Record<string, unknown> | undefined {
  const derived = isPlainObject(raw) ? raw.derivedSection : undefined;
  const misc = isPlainObject(derived) ? derived.miscInfoModule : undefined;
  return isPlainObject(misc) ? misc : undefined;
}
