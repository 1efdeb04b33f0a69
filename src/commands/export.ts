import type { AppContext } from '../app.js';
import { parseNctIds } from '../ctgov/nctId.js';
import { UsageError } from '../errors.js';
import { exportAll, exportIndex, exportPages } from '../pipeline/exportMirror.js';
import { EXIT_OK, type CliIo } from './io.js';
import { assertMirrorWritable, mirrorTarget } from '../pipeline/mirrorTarget.js';
import { parseInstant } from './output.js';
import { plural } from './plural.js';
import { progressBar } from './progress.js';

export interface ExportOptions {
  all?: boolean;
  now?: string;
  out?: string;
}

/** `export [NCT…] [--all] [--now ISO] [--out DIR]`: (re)render mirror pages as of an instant. */
export async function runExport(app: AppContext, io: CliIo, ids: string[], options: ExportOptions): Promise<number> {
  if (ids.length === 0 && !options.all) throw new UsageError('export: name NCT IDs or pass --all');
  if (ids.length > 0 && options.all) throw new UsageError('export: NCT IDs and --all exclude each other');
  const now = options.now ? parseInstant(options.now, '--now') : app.clock();
  const nctIds = options.all ? [] : parseNctIds(ids);
  const target = mirrorTarget(app.config, options.out);
  await assertMirrorWritable(target);
  const progress = progressBar(io.stderr, ['page', 'pages']);
  progress.start(options.all ? await studyCount(app) : nctIds.length);
  const onChunk = (n: number) => progress.tick(n);
  const counts = await (options.all
    ? exportAll(app.db.pool, target, now, app.log, { onChunk })
    : exportPages(app.db.pool, target, nctIds, now, { onChunk })
  ).finally(() => progress.stop());
  if (!options.all) await exportIndex(app.db.pool, target, now);
  io.stdout.write(
    `export: ${plural(counts.written, 'page', 'pages')} written, ${counts.unchanged} unchanged` +
      (counts.skipped ? `, ${counts.skipped} not in the database at ${now.toISOString()}` : '') +
      ` in ${target.dir}\n`,
  );
  return EXIT_OK;
}

/** How many pages `export --all` writes at most: the progress bar's total. */
async function studyCount(app: AppContext): Promise<number> {
  return (await app.db.pool.query<{ n: number }>('select count(*)::int as n from ctgov.studies')).rows[0]!.n;
}
