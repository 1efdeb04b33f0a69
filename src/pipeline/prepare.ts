import { parseCtgovStudy, peekNctId } from '../ctgov/schema.js';
import { StudyValidationError } from '../errors.js';
import { studyContentHash } from '../studies/canonical.js';
import { normalizeStudy } from '../studies/normalize.js';
import type { FailureRecord, Observation } from '../studies/store.js';

export type Prepared = { ok: true; observation: Observation } | { ok: false; failure: FailureRecord };

const EXCERPT_CHARS = 2000;

/**
 * validate → normalize → hash for one raw record. A record that fails becomes a failure record
 * (quarantined with its stage and reason) instead of an exception: the batch goes on.
 */
export function prepareRecord(raw: unknown, rawJson?: string): Prepared {
  let stage: FailureRecord['stage'] = 'validate';
  try {
    const record = parseCtgovStudy(raw);
    // A `fields=`-limited answer is a partial record: stored, it would read as every other field removed.
    if (typeof record.hasResults !== 'boolean') {
      throw new StudyValidationError(record.protocolSection.identificationModule.nctId, [
        { path: 'hasResults', message: 'missing: a partial (fields-limited) record, not a whole study' },
      ]);
    }
    stage = 'normalize';
    const study = normalizeStudy(record);
    return { ok: true, observation: { study, hash: studyContentHash(study), rawJson: rawJson ?? JSON.stringify(raw) } };
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
