import type { AppContext } from '../app.js';
import { UsageError } from '../errors.js';
import { describeFailedStudies, NAMED_FAILURES } from '../pipeline/failedStudies.js';
import { selectFirstFailures, selectRecentRuns } from '../sql/runs.js';
import { EXIT_OK, type CliIo } from './io.js';

/** `runs [--limit N]`: recent sync runs with their counts, newest first. */
export async function runRuns(app: AppContext, io: CliIo, options: { limit?: string }): Promise<number> {
  const limit = options.limit === undefined ? 20 : Number(options.limit);
  if (!Number.isInteger(limit) || limit <= 0 || limit > 10_000) throw new UsageError('--limit: expected a whole number from 1 to 10000');
  const rows = await selectRecentRuns(app.db.pool, limit);
  const failedRuns = rows.filter((r) => Number(r.failed) > 0).map((r) => Number(r.id));
  const failedIds = await selectFirstFailures(app.db.pool, failedRuns, NAMED_FAILURES);
  const header = ['id', 'job', 'trigger', 'status', 'started_at', 'secs', 'fetched', 'new', 'changed', 'unchanged', 'removed', 'failed', 'http'];
  const table = rows.map((r) => [
    String(r.id),
    String(r.job),
    String(r.trigger),
    String(r.status),
    (r.started_at as Date).toISOString(),
    r.finished_at ? (((r.finished_at as Date).getTime() - (r.started_at as Date).getTime()) / 1000).toFixed(1) : '-',
    String(r.fetched),
    String(r.inserted),
    String(r.changed),
    String(r.unchanged),
    String(r.removed),
    String(r.failed),
    String(r.http_requests),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  io.stdout.write(`${line(header)}\n`);
  for (const [i, row] of table.entries()) {
    io.stdout.write(`${line(row)}\n`);
    const error = rows[i]!.error;
    if (error) io.stdout.write(`    error: ${String(error)}\n`);
    const failed = Number(rows[i]!.failed);
    if (failed > 0) io.stdout.write(`    failed: ${describeFailedStudies(failedIds.get(Number(rows[i]!.id)) ?? [], failed)}\n`);
  }
  return EXIT_OK;
}

