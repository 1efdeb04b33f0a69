import { sameValue, studyContentHash } from '../studies/canonical.js';
import { diffStudies } from '../studies/diff.js';
import type { FieldChange, Json, Study } from '../studies/model.js';
import { comparableValue } from './historyRecord.js';

/** One CT.gov history version, already turned into a v2 record and normalized. */
export interface HistoryState {
  version: number;
  /** `changes[].date` of the index: the version's submission date (YYYY-MM-DD). */
  date: string;
  study: Study;
  /** The v2 form of the version's record (what study_versions stores). */
  raw: unknown;
  /** lastUpdatePostDate inside the version, if any. */
  postDate: string | null;
}

export interface BuiltVersion extends HistoryState {
  /** The study as stored: values equal (canonically) to the next newer ones take their form. */
  adjusted: Study;
  hash: string;
  /** The changes this version made to the one before it (every value for the first). */
  changes: FieldChange[];
}

export interface BuiltHistory {
  versions: BuiltVersion[];
  /** From the newest history version to the first live observation. */
  bridge: FieldChange[];
}

/**
 * A study's history from its versions (ascending) and its first live observation. Pure.
 *
 * Values are compared on a canonical form (comparableValue): a version that only re-renders its
 * neighbour's text differently changes nothing. Where a value equals the next newer one's
 * canonically, the newer one's form is kept, back from the live record: a value that never
 * changed since is stored exactly as API v2 gives it, and others in their converted form.
 * `canonical: false` compares exactly (for tests that show what canonicalisation prevents).
 */
export function buildHistory(states: readonly HistoryState[], live: Study, options: { canonical?: boolean } = {}): BuiltHistory {
  const canonical = options.canonical ?? true;
  const adjusted: Study[] = new Array(states.length);
  let newer: Record<string, Json> = live.fields;
  for (let k = states.length - 1; k >= 0; k--) {
    const fields: Record<string, Json> = {};
    for (const [path, value] of Object.entries(states[k]!.study.fields)) {
      const next = Object.hasOwn(newer, path) ? newer[path] : undefined;
      fields[path] = next !== undefined && sameAs(path, value, next, canonical) ? next : value;
    }
    adjusted[k] = { nctId: live.nctId, fields };
    newer = fields;
  }
  const versions = states.map((s, k) => ({
    ...s,
    adjusted: adjusted[k]!,
    hash: studyContentHash(adjusted[k]!),
    changes: diffStudies(k === 0 ? undefined : adjusted[k - 1], adjusted[k]!),
  }));
  const newest = adjusted[adjusted.length - 1];
  return { versions, bridge: newest ? diffStudies(newest, live) : [] };
}

function sameAs(path: string, value: Json, next: Json, canonical: boolean): boolean {
  return sameValue(value, next) || comparableValue(path, value, canonical) === comparableValue(path, next, canonical);
}
