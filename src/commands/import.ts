import type { AppContext } from '../app.js';
import { runBatches } from '../pipeline/runBatches.js';
import { listStudyFiles, readStudyFiles } from '../pipeline/readStudyFiles.js';
import { EXIT_OK, EXIT_SOME_FAILED, type CliIo } from './io.js';
import { assertMirrorWritable, mirrorToKeepInSync } from '../pipeline/mirrorTarget.js';
import { UsageError } from '../errors.js';
import { parseInstant, printRunSummary } from './output.js';
import { cumulative, progressBar } from './progress.js';

/** Clocks differ a little between machines; a minute ahead is not "the future". */
const FUTURE_SLACK_MS = 60_000;
import { webhookMatches } from '../webhooks/hookMatch.js';
/**
 * Records read per batch, like a filter.ids answer: their stored hashes are looked up in one
 * query, and sync.storeBatchSize cuts the transactions by the studies they write.
 */
const FILES_PER_BATCH = 200;

export interface ImportOptions {
  observedAt?: string;
}

/** `import <path…>`: study JSON from files through the same pipeline, observed at the given time. */
export async function runImport(app: AppContext, io: CliIo, paths: string[], options: ImportOptions): Promise<number> {
  const observedAt = options.observedAt ? parseInstant(options.observedAt, '--observed-at') : app.clock();
  // A future instant would put changes ahead of every later sync (and of "now" in every view).
  if (observedAt.getTime() > app.clock().getTime() + FUTURE_SLACK_MS) {
    throw new UsageError(`--observed-at: ${options.observedAt} is in the future`);
  }
  const files = await listStudyFiles(paths); // a missing path stops here, before a run is recorded
  const mirror = mirrorToKeepInSync(app.config);
  await assertMirrorWritable(mirror);
  // Files are the estimate: most hold one study (an array or a zip grows the total as it goes).
  const progress = progressBar(io.stderr);
  progress.start(files.length);
  const summary = await runBatches(
    { pool: app.db.pool, log: app.log, mirror, webhooks: webhookMatches(app.config.webhooks) },
    {
      job: 'import',
      trigger: 'import',
      observedAt,
      params: { paths },
      track: { source: 'import', reason: paths.join(', ') },
      maxWrittenPerBatch: app.config.sync.storeBatchSize,
    },
    readStudyFiles(files, FILES_PER_BATCH),
    cumulative(progress),
  ).finally(() => progress.stop());
  printRunSummary(io.stdout, 'import', summary);
  const c = summary.counts;
  if (c.fetched + c.failed === 0) io.stderr.write(`ctgov-sync: warning: no study found in ${paths.join(', ')}\n`);
  return summary.counts.failed > 0 ? EXIT_SOME_FAILED : EXIT_OK;
}
