/** The synthetic catalog's NCT IDs (NCT8xxxxxxx): study i is catalogId(i). */
const FIRST_ID = 80_000_000;

export function catalogId(i: number): string {
  return `NCT${FIRST_ID + i}`;
}

export function catalogIds(n: number): string[] {
  return Array.from({ length: n }, (_, i) => catalogId(i));
}
