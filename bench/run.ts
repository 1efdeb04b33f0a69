import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config.js';
import { Catalog, catalogIds } from './catalog.js';
import { measureCeiling } from './ceiling.js';
import { openBenchDatabase, serverVersion } from './database.js';
import { EDIT_KINDS, editStudy } from './edits.js';
import { intEnv } from './env.js';
import { formatTable, resultsJson, writeResults, type Measured } from './report.js';
import { idBatchUrls, startCatalogServer, warm } from './server.js';
import { runParseCeiling, runStage, type StageResult } from './stage.js';

/*
 * `npm run bench`: one synthetic catalog through every stage in one run (see README.md).
 * BENCH_N (default 20000), BENCH_DATABASE_URL (a server to create the bench databases on;
 * embedded PGlite otherwise), BENCH_SMALL_N (the smaller first load that shows RSS does not grow
 * with N), BENCH_ID_BATCH (filter.ids batch size; the configured one by default), BENCH_PROFILE
 * (a folder for --cpu-prof profiles of each stage), BENCH_NODE_FLAGS (node flags for the stage
 * processes), BENCH_KEEP=1 (keep the databases).
 */

// `BENCH_SCALE=1 npm run bench` is `npm run bench:scale`.
if (process.env.BENCH_SCALE === '1') {
  await import('./scale.js');
  process.exit(process.exitCode ?? 0);
}

const RESULTS_DIR = fileURLToPath(new URL('./results', import.meta.url));
// An incremental sync's query: what CT.gov updated since the last run, i.e. the edited studies.
const QUERY_FROM = '2026-11-20';
const QUERY = `filter.advanced=AREA[LastUpdatePostDate]RANGE[${QUERY_FROM},MAX]`;
const EDIT_EVERY = 10; // 10% of the studies change between the syncs

const n = intEnv('BENCH_N', 20_000);
const smallN = intEnv('BENCH_SMALL_N', Math.max(1_000, Math.round(n / 10)));
const defaults = loadConfig({});
const idBatchSize = intEnv('BENCH_ID_BATCH', defaults.ctgov.idBatchSize);
const t0 = performance.now();
const say = (msg: string) => process.stderr.write(`[bench ${((performance.now() - t0) / 1000).toFixed(0).padStart(4)} s] ${msg}\n`);

if (!process.env.BENCH_DATABASE_URL) {
  say('WARNING: BENCH_DATABASE_URL is not set: measuring the embedded PGlite database, whose figures');
  say('WARNING: say nothing about a real Postgres. Set BENCH_DATABASE_URL=postgres://user@host:5432/postgres.');
}
const started = new Date();
const loadBefore = os.loadavg();
say(`catalog: ${n} studies from the fixtures, served by the fake CT.gov`);
const catalog = new Catalog(n);
const fake = await startCatalogServer(catalog);
say('catalog served');
const db = await openBenchDatabase('ctgov_bench');
// On the project's disk, not /tmp (often another filesystem, or one where creating files right
// after many were deleted is slow): the export stage writes every page there.
const SCRATCH = fileURLToPath(new URL('./.scratch/', import.meta.url));
mkdirSync(SCRATCH, { recursive: true });
const mirrorDir = mkdtempSync(join(SCRATCH, 'mirror-'));
const fullMirrorDir = mkdtempSync(join(SCRATCH, 'mirror-full-'));
const ids = catalogIds(n);
const spec = { n, dbUrl: db.url, baseUrl: fake.url, idBatchSize, embedded: db.kind === 'embedded' };

/** One stage in its own process, with the requests the fake CT.gov saw meanwhile. */
async function stage(name: string, kind: 'ids' | 'query' | 'export', observedAt: string, extra: object = {}): Promise<Measured> {
  fake.resetCounts();
  say(`${name} …`);
  const r = await runStage({ ...spec, stage: name, kind, observedAt, ...extra });
  const requests = fake.requestCount();
  say(`${name}: ${r.processed} in ${r.seconds.toFixed(1)} s (${Math.round(r.processed / r.seconds)}/s), ${requests} requests, peak RSS ${Math.round(r.peakRssMb)} MB`);
  return { ...r, requests };
}

/** 10% of the catalog edited on the fake CT.gov: status, dates, enrollment, a site added or removed. */
function editCatalog(): number {
  let edited = 0;
  for (let i = 3; i < n; i += EDIT_EVERY) {
    const raw = catalog.study(i);
    editStudy(raw, EDIT_KINDS[Math.floor(i / EDIT_EVERY) % EDIT_KINDS.length]!, i);
    fake.setStudy(raw);
    edited++;
  }
  return edited;
}

try {
  say(`ceiling: bulk insert into a bare JSONB table (${db.describe})`);
  const ceiling = await measureCeiling(db.url, catalog, db.kind === 'server' ? 'copy' : 'insert');
  say(`ceiling: ${Math.round(n / ceiling.seconds)}/s`);

  await warm(idBatchUrls(fake.url, ids, idBatchSize));
  say('parse ceiling: gunzip + JSON.parse of the by-ID pages, in one process');
  const parse = await runParseCeiling({ baseUrl: fake.url, n, idBatchSize });
  say(`parse ceiling: ${Math.round(parse.studies / parse.seconds)}/s (${parse.pages} pages, best of ${parse.passes})`);
  const first = await stage('first_load', 'ids', '2026-11-01T06:00:00.000Z');
  const unchanged = await stage('unchanged', 'ids', '2026-11-02T06:00:00.000Z');

  const edited = editCatalog();
  say(`${edited} studies edited on the fake CT.gov`);
  await warm(idBatchUrls(fake.url, ids, idBatchSize));
  const changed = await stage('changed', 'ids', '2026-11-21T06:00:00.000Z');

  await warm([`${fake.url}/studies?filter.advanced=${encodeURIComponent(QUERY.split('=')[1]!)}&pageSize=${defaults.ctgov.pageSize}`]);
  const byQuery = await stage('incremental_query', 'query', '2026-11-22T06:00:00.000Z', { query: QUERY });

  const exported = await stage('export', 'export', '2026-11-22T12:00:00.000Z', { mirrorDir });
  // The full profile into its own empty folder: same studies, same instant, every page written.
  const exportedFull = await stage('export_full', 'export', '2026-11-22T12:00:00.000Z', { mirrorDir: fullMirrorDir, mirrorProfile: 'full' });

  // The same first load at a smaller N into an empty database: peak RSS must not depend on N.
  const small = await openBenchDatabase('ctgov_bench_small');
  let smallFirst: StageResult;
  try {
    await warm(idBatchUrls(fake.url, ids.slice(0, smallN), idBatchSize));
    smallFirst = await runStage({ ...spec, n: smallN, dbUrl: small.url, stage: 'first_load_small', kind: 'ids', observedAt: '2026-11-01T06:00:00.000Z' });
    say(`first_load_small: ${smallN} studies, peak RSS ${Math.round(smallFirst.peakRssMb)} MB`);
  } finally {
    await small.close();
  }

  const run = { n, smallN, edited, ceiling, parse, first, unchanged, changed, byQuery, exported, exportedFull, smallFirst };
  const catalogMb = Math.round(catalog.bytes() / 2 ** 20);
  process.stdout.write(`\nctgov-sync benchmark, N=${n} (${catalogMb} MB of JSON), ${db.describe}\n\n${formatTable(run)}\n\n`);
  const results = resultsJson(run, {
    started,
    loadBefore,
    database: db.kind === 'server' ? await serverVersion(db.url) : 'embedded PGlite',
    catalogMb,
    fixtures: catalog.fixtureCount,
    settings: { idBatchSize, storeBatchSize: intEnv('BENCH_STORE_BATCH', defaults.sync.storeBatchSize), concurrency: defaults.ctgov.concurrency, pageSize: defaults.ctgov.pageSize },
  });
  say(`results: ${writeResults(RESULTS_DIR, started, results)}`);
} finally {
  rmSync(mirrorDir, { recursive: true, force: true });
  rmSync(fullMirrorDir, { recursive: true, force: true });
  await db.close();
  await fake.close();
}
