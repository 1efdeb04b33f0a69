/** How many failed studies a log line or `runs` names before it gives a count. */
export const NAMED_FAILURES = 5;

/**
 * The failed studies of a run in a few words: `NCT00000001, NCT00000002 and 12 more`. `ids` are
 * the first failures (at most NAMED_FAILURES are named); `total` is the run's failed count.
 */
export function describeFailedStudies(ids: ReadonlyArray<string | null | undefined>, total: number): string {
  const named = ids.slice(0, NAMED_FAILURES).map((id) => id ?? '(unknown study)');
  const more = total - named.length;
  return more > 0 ? `${named.join(', ')} and ${more} more` : named.join(', ');
}
