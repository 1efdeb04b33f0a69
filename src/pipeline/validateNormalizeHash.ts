import { peekNctId, validateCtgovStudy } from '../ctgov/schema.js';
import { StudyValidationError } from '../errors.js';
import { studyContentHash } from '../studies/canonical.js';
import type { NctId } from '../ctgov/nctId.js';
import { normalizeValidated } from '../studies/normalize.js';
import { rawRecordText } from '../studies/rawHash.js';
import type { FailureRecord, Observation } from '../studies/store.js';

export type Prepared = { ok: true; observation: Observation } | { ok: false; failure: FailureRecord };

const EXCERPT_CHARS = 2000;

/**
 * validate → normalize → hash for one raw record. A record that fails becomes a failure record
 * (quarantined with its stage and reason) instead of an exception: the batch goes on.
 *
 * `storedRawHashes` (the studies' stored raw hashes, read before the batch) let a record whose
 * raw hash is among them skip all of that: it is a quick observation, unchanged.
 */
export function prepareRecord(raw: unknown, rawJson?: string, storedRawHashes?: ReadonlyMap<string, string>): Prepared {
  const text = rawRecordText(raw);
  const rawHash = text?.hash;
  // The source's own text when it had one (a file), else ours, serialised once for hash and version.
  rawJson ??= text?.json;
  if (rawHash !== undefined && storedRawHashes?.size) {
    const nctId = peekNctId(raw);
    // Only a stored (hence valid) NCT ID has a stored hash.
    if (nctId !== undefined && storedRawHashes.get(nctId) === rawHash) {
      // Unchanged: its text is not kept (only a new version needs it).
      return { ok: true, observation: { kind: 'quick', nctId: nctId as NctId, raw, rawHash } };
    }
  }
  let stage: FailureRecord['stage'] = 'validate';
  try {
    const validated = validateCtgovStudy(raw);
    const { record } = validated;
    // A `fields=`-limited answer is a partial record: stored, it would read as every other field removed.
    if (typeof record.hasResults !== 'boolean') {
      throw new StudyValidationError(record.protocolSection.identificationModule.nctId, [
        { path: 'hasResults', message: 'missing: a partial (fields-limited) record, not a whole study' },
      ]);
    }
    stage = 'normalize';
    const study = normalizeValidated(validated);
    const observation: Observation = { kind: 'full', nctId: study.nctId, study, hash: studyContentHash(study), raw, rawHash, ...(rawJson === undefined ? {} : { rawJson }) };
    return { ok: true, observation };
  } catch (err) {
    const nctId = err instanceof StudyValidationError ? (err.nctId ?? null) : (peekNctId(raw) ?? null);
    return { ok: false, failure: failureOf(nctId, stage, err, rawJson ?? safeStringify(raw)) };
  }
}

export function failureOf(nctId: string | null, stage: FailureRecord['stage'], err: unknown, payload?: string): FailureRecord {
  return {
    nctId: nctId === null ? null : storableText(nctId),
    stage,
    error: storableText(err instanceof Error ? err.message : String(err)),
    payloadExcerpt: payload === undefined ? null : storableText(payload.slice(0, EXCERPT_CHARS)),
  };
}

// Postgres text cannot hold U+0000; a quarantine record must never fail to be stored because of
// the very bytes that made its study bad.
function storableText(s: string): string {
  return s.includes('\u0000') ? s.replaceAll('\u0000', '\uFFFD') : s;
}

function safeStringify(raw: unknown): string {
  try {
    return JSON.stringify(raw) ?? String(raw);
  } catch {
    return String(raw);
  }
}
