import { memberAt } from './jsonText.js';
import { peekNctId, peekNctIdAliases } from './schema.js';

/**
 * A study record as a source gave it: the parsed record (with the text it was parsed from, when
 * the source had it), or only its JSON text as UTF-8 bytes (a study's slice of a /studies page,
 * a file of the bulk download: `source` names it), which is decoded and parsed only when its
 * content is needed: an unchanged study never is.
 */
export type RawRecord = { raw: unknown; rawJson?: string } | { json: Buffer; source?: string };

/** What a record says it is, before it is validated: its nctId and aliases, as given. */
export interface RecordIdentity {
  nctId: string | undefined;
  aliases: string[];
}

/**
 * The record's nctId and aliases. From bytes, only the identification module is cut out and
 * parsed (the first `protocolSection` and `identificationModule` keys: CT.gov repeats no key).
 */
export function recordIdentity(record: RawRecord): RecordIdentity {
  if ('raw' in record) return { nctId: peekNctId(record.raw), aliases: peekNctIdAliases(record.raw) };
  // Asked for at each step a record passes (matched to the IDs asked for, its batch's stored
  // hashes looked up, its own compared): read once.
  let identity = identities.get(record);
  if (!identity) {
    const raw = identificationOnly(record.json);
    identity = { nctId: peekNctId(raw), aliases: peekNctIdAliases(raw) };
    identities.set(record, identity);
  }
  return identity;
}

const identities = new WeakMap<RawRecord, RecordIdentity>();

/** The record parsed (bytes are decoded and parsed now: a SyntaxError if they are not JSON). */
export function recordValue(record: RawRecord): unknown {
  return 'raw' in record ? record.raw : JSON.parse(record.json.toString('utf8'));
}

/** The record's JSON text, for a quarantine excerpt: as received, else serialised now ('' if it cannot be). */
export function recordText(record: RawRecord): string {
  if ('json' in record) return record.json.toString('utf8');
  try {
    return record.rawJson ?? JSON.stringify(record.raw) ?? '';
  } catch {
    return '';
  }
}

/** `value` with a `studies` list: its records parsed when first read (the sync reads the records). */
export function withStudies<T extends { records: readonly RawRecord[] }>(value: T): T & { readonly studies: unknown[] } {
  let studies: unknown[] | undefined;
  return Object.defineProperty(value, 'studies', {
    get: () => (studies ??= value.records.map(recordValue)),
    enumerable: true,
  }) as T & { readonly studies: unknown[] };
}

function identificationOnly(json: Buffer): unknown {
  const module = memberAt(json, ['protocolSection', 'identificationModule']);
  if (!module) return undefined;
  try {
    return { protocolSection: { identificationModule: JSON.parse(json.toString('utf8', module.valueStart, module.valueEnd)) } };
  } catch {
    return undefined;
  }
}
