import { InvalidNctIdError } from '../errors.js';

declare const nctIdBrand: unique symbol;
/** A validated, canonical NCT ID: `NCT` followed by exactly 8 digits. */
export type NctId = string & { readonly [nctIdBrand]: true };

const LOOSE = /^nct0*([1-9]\d{0,7})$/i;
const ZERO = /^nct0{8}$/i;

/**
 * Parses user or API input into a canonical NctId. Accepts any case and dropped leading zeros
 * (CT.gov itself does: `nct4437511` is `NCT04437511`), rejects everything else.
 */
export function parseNctId(input: string): NctId {
  const trimmed = input.trim();
  const m = LOOSE.exec(trimmed);
  if (!m || ZERO.test(trimmed)) throw new InvalidNctIdError(input);
  return `NCT${m[1]!.padStart(8, '0')}` as NctId;
}

export function isNctId(input: string): input is NctId {
  return /^NCT\d{8}$/.test(input);
}

/** Parses a list; throws on the first bad entry (naming it). */
export function parseNctIds(inputs: readonly string[]): NctId[] {
  return [...new Set(inputs.map(parseNctId))];
}
