import { createHash } from 'node:crypto';
import { COLON, COMMA, isSpace, OPEN_BRACE, QUOTE, skipSpace, stringEnd } from '../ctgov/jsonText.js';

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
  return { json, hash: rawTextHash(json) };
}

/** rawRecordText's hash alone. */
export function rawRecordHash(raw: unknown, received?: string): string | undefined {
  return rawRecordText(raw, received)?.hash;
}

/**
 * The raw hash of a record's JSON text, read from the text alone: the record need not be parsed
 * (an unchanged study never is). Bytes are UTF-8, so a page's bytes and the decoded text of the
 * same record hash alike.
 */
export function rawTextHash(text: string | Buffer): string {
  const bytes = typeof text === 'string' ? Buffer.from(text) : text;
  const hash = createHash('sha256').update(`${RAW_HASH_VERSION}\n`);
  const cut = holderMember(bytes);
  if (!cut) hash.update(bytes);
  else hash.update(bytes.subarray(0, cut[0])).update(bytes.subarray(cut[1]));
  return hash.digest('base64url');
}

const HOLDER_KEY = Buffer.from('"versionHolder"');

/**
 * Where the last `"versionHolder":"…"` member is in the text, as [start, end). The derived
 * section comes last in a record, hence the search from the end. The key must open an object
 * member (after `{` or `,`): quotes inside JSON strings are escaped, so such a match is a key,
 * never text. Only a string value is left out: anything else is not what CT.gov sends, and must
 * still count. (CT.gov has the key once, in derivedSection.miscInfoModule; normalization reads no
 * key of that name anywhere.)
 */
function holderMember(json: Buffer): [number, number] | undefined {
  for (let at = json.lastIndexOf(HOLDER_KEY); at >= 0; at = at > 0 ? json.lastIndexOf(HOLDER_KEY, at - 1) : -1) {
    let i = skipSpace(json, at + HOLDER_KEY.length);
    if (json[i] !== COLON) continue;
    i = skipSpace(json, i + 1);
    const before = json[skipSpaceBack(json, at - 1)];
    if (before !== OPEN_BRACE && before !== COMMA) continue;
    if (json[i] !== QUOTE) return undefined;
    const end = stringEnd(json, i);
    return end < 0 ? undefined : [at, end];
  }
  return undefined;
}

/** The last index at or before `i` that is not JSON whitespace (-1 if none). */
function skipSpaceBack(json: Buffer, i: number): number {
  while (i >= 0 && isSpace(json[i]!)) i--;
  return i;
}
