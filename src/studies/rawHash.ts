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
  /** See rawRecordHash. */
  hash: string;
}

/**
 * A raw CT.gov record as JSON text, and its hash with `derivedSection.miscInfoModule.versionHolder`
 * left out (it moves on every CT.gov data refresh, for every study). Equal hashes mean the same
 * record in the same key order: such a record is unchanged without validating, normalizing or
 * diffing it again, which is most of the cost of a re-sync. Undefined when the record cannot be
 * serialised (then the study takes the full path).
 */
export function rawRecordText(raw: unknown): RawText | undefined {
  let json: string | undefined;
  try {
    json = JSON.stringify(raw);
  } catch {
    return undefined;
  }
  if (json === undefined) return undefined;
  const hash = createHash('sha256').update(`${RAW_HASH_VERSION}\n`);
  const holder = miscInfo(raw)?.versionHolder;
  // Only a string is left out: anything else is not what CT.gov sends, and must still count.
  // Quotes inside JSON strings are escaped, so this text can only be a key and its value; the
  // derived section comes last in a record, hence the search from the end.
  const cut = typeof holder === 'string' ? json.lastIndexOf(`"versionHolder":${JSON.stringify(holder)}`) : -1;
  if (cut < 0) hash.update(json);
  else hash.update(json.slice(0, cut)).update(json.slice(cut + `"versionHolder":${JSON.stringify(holder)}`.length));
  return { json, hash: hash.digest('base64url') };
}

/** rawRecordText's hash alone. */
export function rawRecordHash(raw: unknown): string | undefined {
  return rawRecordText(raw)?.hash;
}

function miscInfo(raw: unknown): Record<string, unknown> | undefined {
  const derived = isPlainObject(raw) ? raw.derivedSection : undefined;
  const misc = isPlainObject(derived) ? derived.miscInfoModule : undefined;
  return isPlainObject(misc) ? misc : undefined;
}
