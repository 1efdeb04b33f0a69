import { peekNctId, validateCtgovStudy } from '../ctgov/schema.js';
import { StudyValidationError } from '../errors.js';
import { studyContentHash } from '../studies/canonical.js';
import type { NctId } from '../ctgov/nctId.js';
import { normalizeValidated } from '../studies/normalize.js';
import { rawRecordText } from '../studies/rawHash.js';
import type { FailureRecord } from '../sql/runs.js';
import { failureOf } from './failureOf.js';
import type { Observation } from './observation.js';

export type Validated = { ok: true; observation: Observation } | { ok: false; failure: FailureRecord };

/**
 * validate → normalize → hash for one raw record. A record that fails becomes a failure record
 * (quarantined with its stage and reason) instead of an exception: the batch goes on.
 *
 * `storedRawHashes` (the studies' stored raw hashes, read before the batch) let a record whose
 * raw hash is among them skip all of that: it is a quick observation, unchanged.
 */
export function validateNormalizeHash(raw: unknown, rawJson?: string, storedRawHashes?: ReadonlyMap<string, string>): Validated {
  // The source's own text when it had one (a page, a file), else ours, serialised once for hash and version.
  const text = rawRecordText(raw, rawJson);
  const rawHash = text?.hash;
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
    if (text === undefined) throw new Error('the record cannot be serialised as JSON');
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
    const observation: Observation = { kind: 'full', nctId: study.nctId, study, hash: studyContentHash(study), rawJson: text.json, rawHash: text.hash };
    return { ok: true, observation };
  } catch (err) {
    const nctId = err instanceof StudyValidationError ? (err.nctId ?? null) : (peekNctId(raw) ?? null);
    return { ok: false, failure: failureOf(nctId, stage, err, rawJson ?? safeStringify(raw)) };
  }
}

function safeStringify(raw: unknown): string {
  try {
    return JSON.stringify(raw) ?? String(raw);
  } catch {
    return String(raw);
  }
}
