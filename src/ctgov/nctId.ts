import { InvalidNctIdError } from '../errors.js';

declare const nctIdBrand: unique symbol;
/** A validated, canonical NCT ID: `NCT` followed by exactly 8 digits. */
export type NctId = string & { readonly [nctIdBrand]: true };

const ANY_CASE = /^nct(\d{8})$/i;
const ZERO = /^nct0{8}$/i;

/**
 * Parses user or API input into a canonical NctId: `NCT` (any case) and exactly 8 digits. CT.gov
 * itself accepts dropped leading zeros, but a short ID is more often a typo (a digit left out)
 * than a shorthand, and padding it would quietly fetch a different study.
 */
export function parseNctId(input: string): NctId {
  const trimmed = input.trim();
  const m = ANY_CASE.exec(trimmed);
  if (!m || ZERO.test(trimmed)) throw new InvalidNctIdError(input);
  return `NCT${m[1]!}` as NctId;
}

export function isNctId(input: string): input is NctId {
  return /^NCT\d{8}$/.test(input);
}

/** Parses a list; throws on the first bad entry (naming it). */
export function parseNctIds(inputs: readonly string[]): NctId[] {
  return [...new Set(inputs.map(parseNctId))];
}

/**
 * The least and greatest of these IDs (at least one). A statement that selects rows by `nct_id =
 * any` of a batch's IDs also bounds them by this range: a planner without statistics on the
 * table (never analyzed: autovacuum off, or a first load outpacing it) reads `= any` of a few
 * hundred IDs as much of the table and scans all of it, where it takes a range as narrow.
 */
export function idRange(ids: readonly string[]): [string, string] {
  let first = ids[0]!;
  let last = first;
  for (const id of ids) {
    if (id < first) first = id;
    if (id > last) last = id;
  }
  return [first, last];
}
