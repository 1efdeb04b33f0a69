import type { AppContext } from '../app.js';
import { runBatches } from '../pipeline/runBatches.js';
import { listStudyFiles, readStudyFiles } from '../pipeline/readStudyFiles.js';
import { EXIT_OK, EXIT_SOME_FAILED, type CliIo } from './io.js';
import { assertMirrorWritable, syncMirror } from '../pipeline/mirrorTarget.js';
import { parseInstant, printRunSummary, progressPrinter } from './output.js';
import { webhookMatches } from '../webhooks/hookMatch.js';

export interface ImportOptions {
  observedAt?: string;
}

/** `import <path…>`: study JSON from files through the same pipeline, observed at the given time. */
export async function runImport(app: AppContext, io: CliIo, paths: string[], options: ImportOptions): Promise<number> {
  const observedAt = options.observedAt ? parseInstant(options.observedAt, '--observed-at') : app.clock();
  const files = await listStudyFiles(paths); // a missing path stops here, before a run is recorded
  const mirror = syncMirror(app.config);
  await assertMirrorWritable(mirror);
  const progress = progressPrinter(io.stderr);
  const summary = await runBatches(
    { pool: app.db.pool, log: app.log, mirror, webhooks: webhookMatches(app.config.webhooks) },
    { job: 'import', trigger: 'import', observedAt, params: { paths }, track: { source: 'import', reason: paths.join(', ') } },
    readStudyFiles(files, app.config.sync.storeBatchSize),
    progress,
  );
  progress.end();
  printRunSummary(io.stdout, 'import', summary);
  return summary.counts.failed > 0 ? EXIT_SOME_FAILED : EXIT_OK;
}
