import type { AppContext } from '../app.js';
import type { BackfillProgress, BackfillSummary } from '../backfill/backfillRun.js';
import { runBackfill } from '../backfill/backfillRun.js';
import { studiesNeverBackfilled, trackedStoredStudies } from '../backfill/selectStudies.js';
import { parseNctIds } from '../ctgov/nctId.js';
import { UsageError } from '../errors.js';
import { assertMirrorWritable, mirrorToKeepInSync } from '../pipeline/mirrorTarget.js';
import { ctgovClientFromConfig } from '../ctgovClient.js';
import { EXIT_OK, EXIT_SOME_FAILED, type CliIo } from './io.js';
import type { Out } from './output.js';
import { readIdFile } from './sync.js';

export interface BackfillOptions {
  file?: string;
  all?: boolean;
  force?: boolean;
}

/**
 * `backfill [NCT…] [--file F] [--all] [--force]`: a study's whole change history from CT.gov's
 * record versions. With no IDs, the tracked studies never backfilled.
 */
export async function runBackfillCommand(app: AppContext, io: CliIo, args: string[], options: BackfillOptions): Promise<number> {
  const named = parseNctIds([...args, ...(options.file ? await readIdFile(options.file) : [])]);
  if (options.all && (named.length > 0 || options.file)) throw new UsageError('backfill: NCT IDs (or --file) and --all exclude each other');
  const ids = options.all
    ? await trackedStoredStudies(app.db.pool)
    : named.length > 0 || options.file
      ? named
      : await studiesNeverBackfilled(app.db.pool);
  const mirror = mirrorToKeepInSync(app.config);
  await assertMirrorWritable(mirror);
  const abort = new AbortController();
  const onSignal = () => abort.abort(new Error('interrupted'));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const client = ctgovClientFromConfig(app.config, app.log, { signal: abort.signal });
  const progress = backfillProgressLine(io.stderr, app.clock);
  try {
    const summary = await runBackfill(
      { pool: app.db.pool, log: app.log, history: client.history, ...(mirror ? { mirror } : {}) },
      { ids, trigger: 'cli', observedAt: app.clock(), force: options.force ?? false, signal: abort.signal, httpRequests: () => client.stats().requests },
      progress,
    );
    progress.end();
    printBackfillSummary(io.stdout, summary, client.stats().requests);
    return summary.failures.length > 0 ? EXIT_SOME_FAILED : EXIT_OK;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await client.close({ abort: true });
  }
}

export function printBackfillSummary(out: Out, s: BackfillSummary, requests: number): void {
  out.write(
    `backfill run ${s.runId} ${s.status}: ${s.backfilled} studies backfilled, ${s.unchanged} unchanged, ` +
      `${s.noHistory} without history, ${s.failures.length} failed; ${s.versionsFetched} versions fetched, ` +
      `${requests} requests, ${s.rows} change rows written, ${s.pagesWritten} mirror page(s) written\n`,
  );
  for (const f of s.failures) out.write(`  failed ${f.nctId} at history: ${f.error}\n`);
}

/**
 * A progress line on a terminal (stderr): studies done / total, versions fetched, rate and ETA;
 * nothing otherwise.
 */
export function backfillProgressLine(err: Out, clock: () => Date): ((p: BackfillProgress) => void) & { end(): void } {
  const tty = Boolean(err.isTTY);
  const started = clock().getTime();
  let shown = false;
  const fn = (p: BackfillProgress) => {
    if (!tty) return;
    shown = true;
    const minutes = Math.max((clock().getTime() - started) / 60_000, 1e-6);
    const rate = p.done / minutes;
    const eta = rate > 0 ? `, ETA ${formatMinutes((p.total - p.done) / rate)}` : '';
    err.write(
      `\r  ${p.done}/${p.total} studies, ${p.versionsFetched} versions fetched${p.failed ? `, ${p.failed} failed` : ''}` +
        `, ${rate.toFixed(1)} studies/min${eta}   `,
    );
  };
  return Object.assign(fn, {
    end() {
      if (shown) err.write('\n');
    },
  });
}

function formatMinutes(minutes: number): string {
  if (minutes < 1) return `${Math.ceil(minutes * 60)} s`;
  if (minutes < 90) return `${Math.round(minutes)} min`;
  return `${(minutes / 60).toFixed(1)} h`;
}
