import { readFile } from 'node:fs/promises';
import type { AppContext } from '../app.js';
import { parseNctIds } from '../ctgov/nctId.js';
import { InputError, InterruptedError, UsageError } from '../errors.js';
import { parseQueryExpression } from '../pipeline/apiSources.js';
import { assertMirrorWritable, mirrorToKeepInSync } from '../pipeline/mirrorTarget.js';
import { syncPlan } from '../pipeline/syncPlan.js';
import { watchlistPlan } from '../sync/watchlistPlan.js';
import { ctgovClientFromConfig } from '../ctgovClient.js';
import { EXIT_OK, EXIT_SOME_FAILED, type CliIo } from './io.js';
import { printRunSummary } from './output.js';
import { cumulative, progressBar } from './progress.js';
import { reportStoppedRun } from './stoppedRun.js';

export interface SyncOptions {
  file?: string;
  query?: string[];
  max?: string;
}

/**
 * `sync [NCT…] [--file F] [--query EXPR]`: fetch now from CT.gov and store (a manual resync, in
 * process). With neither IDs nor queries it syncs the configured watchlist.
 */
export async function runSync(app: AppContext, io: CliIo, args: string[], options: SyncOptions): Promise<number> {
  const ids = parseNctIds([...args, ...(options.file ? await readIdFile(options.file) : [])]);
  const queries = (options.query ?? []).map((q) => ({ expr: q, params: parseQueryOrThrow(q) }));
  const useWatchlist = ids.length === 0 && queries.length === 0 && !options.file;
  const plan = useWatchlist ? watchlistPlan(app.config) : { ids, queries };
  const maxQueryStudies = options.max === undefined ? undefined : parseMax(options.max);
  await assertMirrorWritable(mirrorToKeepInSync(app.config));
  const abort = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => abort.abort(new InterruptedError(signal));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const client = ctgovClientFromConfig(app.config, app.log, { signal: abort.signal });
  const progress = progressBar(io.stderr);
  let total = plan.ids.length;
  progress.start(total);
  let runId: number | undefined;
  try {
    const summary = await syncPlan(app, client, plan, {
      source: useWatchlist ? 'config' : 'cli',
      trigger: 'cli',
      signal: abort.signal,
      onProgress: cumulative(progress),
      onQueryTotal: (n) => progress.setTotal((total += n)),
      onRunStarted: (id) => (runId = id),
      ...(maxQueryStudies ? { maxQueryStudies } : {}),
    }).catch(async (err: unknown) => {
      progress.stop();
      const code = runId === undefined ? undefined : await reportStoppedRun(app.db.pool, io, 'sync', runId, err);
      if (code === undefined) throw err;
      return code;
    });
    if (typeof summary === 'number') return summary;
    progress.stop();
    printRunSummary(io.stdout, 'sync', summary);
    return summary.counts.failed > 0 ? EXIT_SOME_FAILED : EXIT_OK;
  } finally {
    progress.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await client.close({ abort: true });
  }
}

export async function readIdFile(path: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new InputError(`--file: cannot read ${path}: ${(err as Error).message}`);
  }
  return text
    .split('\n')
    .map((line) => line.replace(/#.*/, ''))
    .flatMap((line) => line.split(/[\s,]+/))
    .filter(Boolean);
}

function parseMax(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1) throw new UsageError(`--max: expected a positive whole number, got ${JSON.stringify(value)}`);
  return n;
}

function parseQueryOrThrow(expr: string) {
  try {
    return parseQueryExpression(expr);
  } catch (err) {
    throw new UsageError(`--query: ${(err as Error).message}`);
  }
}
