import type pg from 'pg';
import { coerceError, DbConnectionError } from '../errors.js';
import { selectRunCounts, selectRunFailures, type RunCounts } from '../sql/runs.js';
import { EXIT_SOME_FAILED, type CliIo } from './io.js';
import { plural } from './plural.js';

const LISTED = 5;

/**
 * A run that stopped on an error after storing something is not "nothing written" (exit 2): it
 * says what was stored and what stopped it, and exits 1. Returns undefined when the run stored
 * nothing (or cannot be read back, e.g. the database is gone): the caller rethrows the error.
 */
export async function reportStoppedRun(pool: pg.Pool, io: CliIo, label: string, runId: number, error: unknown): Promise<number | undefined> {
  // A lost database connection keeps its own exit code and message (the run is completed by the next one).
  if (coerceError(error) instanceof DbConnectionError) return undefined;
  let counts: RunCounts;
  let failures: Array<{ nct_id: string | null; stage: string; error: string }>;
  try {
    const run = await selectRunCounts(pool, runId);
    if (!run) return undefined;
    counts = run;
    if (counts.fetched + counts.removed + counts.failed === 0) return undefined;
    failures = await selectRunFailures(pool, runId, LISTED);
  } catch {
    return undefined;
  }
  const c = counts;
  io.stdout.write(
    `${label} run ${runId} failed after storing ${plural(c.fetched, 'study', 'studies')} — ${c.inserted} new, ${c.changed} changed, ` +
      `${c.unchanged} unchanged, ${c.removed} removed, ${c.failed} failed\n`,
  );
  for (const f of failures) io.stdout.write(`  failed ${f.nct_id ?? '(unknown study)'} at ${f.stage}: ${f.error}\n`);
  if (c.failed > failures.length) io.stdout.write(`  … and ${c.failed - failures.length} more (see ctgov-sync runs)\n`);
  io.stderr.write(`ctgov-sync: ${coerceError(error).message} (what was stored before it is kept)\n`);
  return EXIT_SOME_FAILED;
}
