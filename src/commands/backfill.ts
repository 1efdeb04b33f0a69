import type { AppContext } from '../app.js';
import type { BackfillProgress, BackfillSummary } from '../backfill/backfillRun.js';
import { runBackfill } from '../backfill/backfillRun.js';
import { studiesNeverBackfilled, trackedStoredStudies } from '../backfill/selectStudies.js';
import { parseNctIds } from '../ctgov/nctId.js';
import { InterruptedError, UsageError } from '../errors.js';
import { assertMirrorWritable, mirrorToKeepInSync } from '../pipeline/mirrorTarget.js';
import { ctgovClientFromConfig } from '../ctgovClient.js';
import { EXIT_OK, EXIT_SOME_FAILED, type CliIo } from './io.js';
import type { Out } from './output.js';
import { plural } from './plural.js';
import { progressBar } from './progress.js';
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
  const onSignal = (signal: NodeJS.Signals) => abort.abort(new InterruptedError(signal));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const client = ctgovClientFromConfig(app.config, app.log, { signal: abort.signal });
  const bar = progressBar(io.stderr);
  bar.start(ids.length);
  let reported = 0;
  const progress = (p: BackfillProgress) => {
    bar.tick(p.done - reported);
    reported = p.done;
    bar.note(`${plural(p.versionsFetched, 'version', 'versions')} fetched${p.failed ? `, ${p.failed} failed` : ''}`);
  };
  try {
    const summary = await runBackfill(
      { pool: app.db.pool, log: app.log, history: client.history, ...(mirror ? { mirror } : {}) },
      { ids, trigger: 'cli', observedAt: app.clock(), force: options.force ?? false, signal: abort.signal, httpRequests: () => client.stats().requests },
      progress,
    );
    bar.stop();
    printBackfillSummary(io.stdout, summary, client.stats().requests);
    return summary.failures.length > 0 ? EXIT_SOME_FAILED : EXIT_OK;
  } finally {
    bar.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await client.close({ abort: true });
  }
}

export function printBackfillSummary(out: Out, s: BackfillSummary, requests: number): void {
  out.write(
    `backfill run ${s.runId} ${s.status}: ${plural(s.backfilled, 'study', 'studies')} backfilled, ${s.unchanged} unchanged, ` +
      `${s.noHistory} without history, ${s.failures.length} failed; ${s.versionsFetched} versions fetched, ` +
      `${requests} requests, ${plural(s.rows, 'change row', 'change rows')} written, ${plural(s.pagesWritten, 'mirror page', 'mirror pages')} written\n`,
  );
  for (const f of s.failures) out.write(`  failed ${f.nctId} at history: ${f.error}\n`);
}
