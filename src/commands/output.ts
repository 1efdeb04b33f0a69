import { UsageError } from '../errors.js';
import type { RunSummary } from '../pipeline/runBatches.js';
import { plural } from './plural.js';

export interface Out {
  write(s: string): unknown;
  isTTY?: boolean;
}

/** The one-line summary every sync-like command ends with, then the failed studies. */
export function printRunSummary(out: Out, label: string, s: RunSummary): void {
  const c = s.counts;
  out.write(
    `${label} run ${s.runId} ${s.status}: ${plural(c.fetched, 'study', 'studies')} stored — ${c.inserted} new, ${c.changed} changed, ` +
      `${c.unchanged} unchanged, ${c.removed} removed, ${c.failed} failed; ` +
      `${plural(s.exported.written, 'mirror page', 'mirror pages')} written\n`,
  );
  for (const f of s.failures) out.write(`  failed ${f.nctId ?? '(unknown study)'} at ${f.stage}: ${f.error}\n`);
  if (c.failed > s.failures.length) out.write(`  … and ${c.failed - s.failures.length} more (see ctgov.sync_failures where run_id = ${s.runId})\n`);
}

/** Parses an ISO 8601 instant given on the command line. */
export function parseInstant(value: string, flag: string): Date {
  const d = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(d.getTime())) {
    throw new UsageError(`${flag}: expected an ISO 8601 date or instant such as 2026-01-01T00:00:00Z, got ${JSON.stringify(value)}`);
  }
  return d;
}
