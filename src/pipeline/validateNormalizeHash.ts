import { recordIdentity, type RawRecord } from '../ctgov/rawRecord.js';
import { validateCtgovStudy } from '../ctgov/schema.js';
import { StudyValidationError } from '../errors.js';
import { studyContentHash } from '../studies/canonical.js';
import type { NctId } from '../ctgov/nctId.js';
import { normalizeValidated } from '../studies/normalize.js';
import { rawRecordText, rawTextHash } from '../studies/rawHash.js';
import type { FailureRecord } from '../sql/runs.js';
import { failureOf } from './failureOf.js';
import type { Observation } from './observation.js';

export type Validated = { ok: true; observation: Observation } | { ok: false; failure: FailureRecord };

/**
 * validate → normalize → hash for one raw record. A record that fails becomes a failure record
 * (quarantined with its stage and reason) instead of an exception: the batch goes on.
 *
 * `storedRawHashes` (the studies' stored raw hashes, read before the batch) let a record whose
 * raw hash is among them skip all of that: it is a quick observation, unchanged. The hash is of
 * the record's text, so a record given as bytes is not even decoded or parsed then.
 */
export function validateNormalizeHash(record: RawRecord, storedRawHashes?: ReadonlyMap<string, string>): Validated {
  // The source's own text when it had one (a page, a file), else ours, serialised once for hash and version.
  const text = 'json' in record ? undefined : rawRecordText(record.raw, record.rawJson);
  const rawHash = 'json' in record ? rawTextHash(record.json) : text?.hash;
  if (rawHash !== undefined && storedRawHashes?.size) {
    const { nctId } = recordIdentity(record);
    // Only a stored (hence valid) NCT ID has a stored hash.
    if (nctId !== undefined && storedRawHashes.get(nctId) === rawHash) {
      return { ok: true, observation: { kind: 'quick', nctId: nctId as NctId, record, rawHash } };
    }
  }
  let stage: FailureRecord['stage'] = 'validate';
  let raw: unknown = 'raw' in record ? record.raw : undefined;
  // Bytes stay bytes: the version is written from them, and the decoded text lives only to be parsed.
  let rawJson: string | Buffer | undefined = text?.json;
  try {
    if ('json' in record) {
      stage = 'parse';
      rawJson = record.json;
      raw = parseJson(record.json.toString('utf8'), record.source);
      stage = 'validate';
    }
    if (rawJson === undefined || rawHash === undefined) throw new Error('the record cannot be serialised as JSON');
    const validated = validateCtgovStudy(raw);
    const { record: study } = validated;
    // A `fields=`-limited answer is a partial record: stored, it would read as every other field removed.
    if (typeof study.hasResults !== 'boolean') {
      throw new StudyValidationError(study.protocolSection.identificationModule.nctId, [
        { path: 'hasResults', message: 'missing: a partial (fields-limited) record, not a whole study' },
      ]);
    }
    stage = 'normalize';
    const normalized = normalizeValidated(validated);
    const observation: Observation = { kind: 'full', nctId: normalized.nctId, study: normalized, hash: studyContentHash(normalized), rawJson, rawHash };
    return { ok: true, observation };
  } catch (err) {
    const nctId = err instanceof StudyValidationError ? (err.nctId ?? null) : (recordIdentity(record).nctId ?? null);
    return { ok: false, failure: failureOf(nctId, stage, err, rawJson?.toString() ?? safeStringify(raw)) };
  }
}

/** JSON.parse, with a message that says what was being read. */
function parseJson(text: string, source: string | undefined): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new Error(`${source ?? 'the record'}: not valid JSON: ${(err as Error).message}`);
  }
}

function safeStringify(raw: unknown): string {
  try {
    return JSON.stringify(raw) ?? String(raw);
  } catch {
    return String(raw);
  }
}
