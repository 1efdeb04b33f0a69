import { readFile } from 'node:fs/promises';
import type { AppContext } from '../app.js';
import { parseNctIds } from '../ctgov/nctId.js';
import { InputError, UsageError } from '../errors.js';
import { parseQueryExpression } from '../pipeline/apiSources.js';
import { assertMirrorWritable, syncMirror } from '../pipeline/mirrorTarget.js';
import { syncPlan } from '../pipeline/syncPlan.js';
import { ctgovClientFromConfig } from './ctgovClient.js';
import { EXIT_OK, EXIT_SOME_FAILED, type CliIo } from './io.js';
import { printRunSummary, progressPrinter } from './output.js';

export interface SyncOptions {
  file?: string;
  query?: string[];
}

/**
 * `sync [NCT…] [--file F] [--query EXPR]`: fetch now from CT.gov and store (a manual resync, in
 * process). With neither IDs nor queries it syncs the configured watchlist.
 */
export async function runSync(app: AppContext, io: CliIo, args: string[], options: SyncOptions): Promise<number> {
  const ids = parseNctIds([...args, ...(options.file ? await readIdFile(options.file) : [])]);
  const queries = (options.query ?? []).map((q) => ({ expr: q, params: parseQueryOrThrow(q) }));
  const useWatchlist = ids.length === 0 && queries.length === 0 && !options.file;
  const plan = useWatchlist
    ? { ids: parseNctIds(app.config.watchlist.ids), queries: app.config.watchlist.queries.map((q) => ({ expr: q, params: parseQueryOrThrow(q) })) }
    : { ids, queries };
  await assertMirrorWritable(syncMirror(app.config));
  const abort = new AbortController();
  const onSignal = () => abort.abort(new Error('interrupted'));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const client = ctgovClientFromConfig(app.config, app.log, { signal: abort.signal });
  const progress = progressPrinter(io.stderr);
  try {
    const summary = await syncPlan(app, client, plan, {
      source: useWatchlist ? 'config' : 'cli',
      trigger: 'cli',
      signal: abort.signal,
      onProgress: progress,
    });
    progress.end();
    printRunSummary(io.stdout, 'sync', summary);
    return summary.counts.failed > 0 ? EXIT_SOME_FAILED : EXIT_OK;
  } finally {
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

function parseQueryOrThrow(expr: string) {
  try {
    return parseQueryExpression(expr);
  } catch (err) {
    throw new UsageError(`--query: ${(err as Error).message}`);
  }
}
