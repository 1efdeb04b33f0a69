import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { loadConfig } from '../src/config.js';
import { writeBulkZip } from './bulkZip.js';
import { Catalog, catalogIds } from './catalog.js';
import { startEmbeddedPostgres } from '../src/db/embedded.js';
import { silentLog } from '../tests/support/testDb.js';
import { migrated, openBenchDatabase, serverVersion } from './database.js';
import { intEnv } from './env.js';
import { backendCpu, processCpuSeconds } from './procCpu.js';
import type { ImportResult, ImportSpec } from './importChild.js';
import { round, writeResults } from './report.js';
import { idBatchUrls, startCatalogServer, warm } from './server.js';
import { runChild, runStage, type StageResult } from './stage.js';

/*
 * `npm run bench:scale`: the catalog-scale questions (see README.md).
 *
 * 1. The by-ID first load of BENCH_SCALE_EMBEDDED_N studies (default 5,000) into a server
 *    database and into the embedded PGlite (on disk, in the sync's own process, as the program
 *    runs without DATABASE_URL): when to move to a server.
 * 2. BENCH_SCALE_N studies (default 100,000) written as a bulk zip under bench/.scratch/,
 *    imported into a fresh server database by the `import` command in a child process, whose
 *    progress is read from its run row every half second: wall time, rate, the time of the first
 *    and of the last 10,000 studies (a per-study cost that grows with the database shows here),
 *    database size per study, peak RSS. Then the same zip again, every study unchanged.
 *
 * Needs BENCH_DATABASE_URL. BENCH_KEEP=1 keeps the databases and the zip; BENCH_DB_PREFIX as in
 * `npm run bench`.
 */

const RESULTS_DIR = fileURLToPath(new URL('./results', import.meta.url));
const SCRATCH = fileURLToPath(new URL('./.scratch/', import.meta.url));
const n = intEnv('BENCH_SCALE_N', 100_000);
const embeddedN = intEnv('BENCH_SCALE_EMBEDDED_N', 5_000);
const WINDOW = Math.min(10_000, n);
const POLL_MS = 500;
const keep = process.env.BENCH_KEEP === '1';
const defaults = loadConfig({});
const idBatchSize = defaults.ctgov.idBatchSize;
const t0 = performance.now();
const say = (msg: string) => process.stderr.write(`[scale ${((performance.now() - t0) / 1000).toFixed(0).padStart(5)} s] ${msg}\n`);

if (!process.env.BENCH_DATABASE_URL) {
  process.stderr.write('bench:scale needs a server: set BENCH_DATABASE_URL=postgres://user@host:5432/postgres\n');
  process.exit(2);
}
const started = new Date();
const loadBefore = os.loadavg();
mkdirSync(SCRATCH, { recursive: true });

// 1. The same by-ID first load into the server and into the embedded database.
say(`by-ID first load of ${embeddedN} studies: server, then embedded PGlite`);
const byId = await compareEmbedded(embeddedN);

// 2. The bulk zip, imported twice.
const catalog = new Catalog(n);
const zipPath = join(SCRATCH, `ctg-studies-${n}.json.zip`);
say(`writing ${n} studies into ${zipPath}`);
const z0 = performance.now();
const zip = writeBulkZip(zipPath, catalog);
const zipSeconds = (performance.now() - z0) / 1000;
say(`zip: ${Math.round(mb(zip.bytes))} MB (${Math.round(mb(zip.jsonBytes))} MB of JSON) in ${zipSeconds.toFixed(0)} s`);

const db = await openBenchDatabase('ctgov_bench_scale');
// What the migrated, empty database already takes: the sizes per study are what the studies add.
const empty = await databaseSize(db.url);
let first: ImportRun;
let again: ImportRun;
let sizeAfterImport: DatabaseSize;
let sizeAfterReimport: DatabaseSize;
try {
  first = await importRun('import', '2026-11-01T06:00:00.000Z');
  sizeAfterImport = await databaseSize(db.url);
  again = await importRun('reimport_unchanged', '2026-11-02T06:00:00.000Z');
  sizeAfterReimport = await databaseSize(db.url);
} finally {
  await db.close();
  if (!keep) rmSync(zipPath, { force: true });
}

const costs = windowCosts(first);
const results = {
  n,
  wall_seconds: round(first.result.seconds, 1),
  import_sps: round(n / first.result.seconds),
  reimport_unchanged_sps: round(n / again.result.seconds),
  window: WINDOW,
  first_window_seconds: round(costs.first.seconds, 1),
  last_window_seconds: round(costs.last.seconds, 1),
  last_to_first_window: round(costs.last.seconds / costs.first.seconds, 2),
  first_window_cpu_seconds: round(costs.first.cpuSeconds, 1),
  last_window_cpu_seconds: round(costs.last.cpuSeconds, 1),
  last_to_first_window_cpu: round(costs.last.cpuSeconds / costs.first.cpuSeconds, 2),
  windows: costs.windows.map((w) => ({
    up_to: w.upTo,
    seconds: round(w.seconds, 1),
    cpu_seconds: round(w.cpuSeconds, 1),
    wal_mb: round(w.walMb),
    wal_full_page_images: Math.round(w.walFpi),
    blocks_read: Math.round(w.blocksRead),
    field_changes_index_blocks_read: Math.round(w.changeIndexBlocksRead),
  })),
  peak_rss_mb: round(first.result.peakRssMb),
  reimport_peak_rss_mb: round(again.result.peakRssMb),
  table_bytes_per_study: Math.round((sizeAfterImport.tableBytes - empty.tableBytes) / n),
  index_bytes_per_study: Math.round((sizeAfterImport.indexBytes - empty.indexBytes) / n),
  database_bytes_per_study: Math.round((sizeAfterImport.databaseBytes - empty.databaseBytes) / n),
  by_id_n: embeddedN,
  by_id_server_sps: round(byId.server.processed / byId.server.seconds),
  by_id_embedded_sps: round(byId.embedded.processed / byId.embedded.seconds),
  embedded_to_server: round(byId.embedded.processed / byId.embedded.seconds / (byId.server.processed / byId.server.seconds), 2),
  zip: { mb: round(mb(zip.bytes)), json_mb: round(mb(zip.jsonBytes)), build_seconds: round(zipSeconds, 1) },
  stages: {
    import: importDetail(first),
    reimport_unchanged: importDetail(again),
    first_load_server: stageDetail(byId.server, byId.serverBytes),
    first_load_embedded: stageDetail(byId.embedded, byId.embeddedBytes),
  },
  size_empty: sizeDetail(empty),
  size_after_import: sizeDetail(sizeAfterImport),
  size_after_reimport: sizeDetail(sizeAfterReimport),
  settings: { storeBatchSize: defaults.sync.storeBatchSize, idBatchSize, pollMs: POLL_MS },
  machine: {
    date: started.toISOString(),
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryGb: round(os.totalmem() / 2 ** 30, 1),
    platform: `${os.platform()} ${os.release()}`,
    node: process.version,
    database: await serverVersion(process.env.BENCH_DATABASE_URL),
    loadAverageBefore: loadBefore.map((x) => round(x, 2)),
    loadAverageDuringImport: round(first.meanLoad, 2),
    loadAverageAfter: os.loadavg().map((x) => round(x, 2)),
    fixtures: catalog.fixtureCount,
    totalSeconds: round((performance.now() - t0) / 1000),
  },
};
process.stdout.write(`\n${formatScale(results)}\n\n`);
say(`results: ${writeResults(RESULTS_DIR, started, results, 'scale-')}`);

/**
 * A progress sample: when, studies done (the run's row), CPU seconds of the import process and of
 * its Postgres backends so far, the server's WAL so far (bytes, full-page images), and the blocks
 * of the schema's tables and indexes read from outside shared buffers so far (all of them, and
 * those of field_changes' indexes).
 */
type Sample = [ms: number, done: number, cpu: number, walBytes: number, walFpi: number, blocksRead: number, changeIndexBlocksRead: number];

interface ImportRun {
  result: ImportResult;
  /** From the start to the end of the import. */
  samples: Sample[];
  /** Mean 1-minute load average over the samples: how busy the machine was meanwhile. */
  meanLoad: number;
}

/** One import of the zip in a child process, its run row polled for progress. */
async function importRun(stage: string, observedAt: string): Promise<ImportRun> {
  const watcher = new pg.Client({ connectionString: db.url });
  await watcher.connect();
  try {
    const { rows } = await watcher.query<{ id: string | null }>('select max(id)::text as id from ctgov.sync_runs');
    const after = rows[0]!.id ?? '0';
    const samples: Sample[] = [];
    const loads: number[] = [];
    say(`${stage} …`);
    const spec: ImportSpec = { stage, dbUrl: db.url, zip: zipPath, observedAt };
    let pid = 0;
    const child = runChild<ImportResult>('importChild', stage, spec, (p) => (pid = p));
    const dbName = new URL(db.url).pathname.slice(1);
    const backends0 = new Map<number, number>();
    // CPU so far of the import and of the backends serving its database (each from when first seen).
    const cpuSoFar = () => {
      let total = processCpuSeconds(pid) ?? 0;
      for (const [backend, seconds] of backendCpu(dbName) ?? []) {
        if (!backends0.has(backend)) backends0.set(backend, seconds);
        total += seconds - backends0.get(backend)!;
      }
      return total;
    };
    let done = false;
    void child.finally(() => (done = true)).catch(() => undefined);
    let lastSaid = 0;
    while (!done) {
      // pg_stat_wal is the whole server's: the import is the only writer while the bench runs.
      const r = await watcher.query<{ done: number; wal_bytes: string; wal_fpi: string; blocks_read: string; change_index_blocks_read: string }>(
        `select r.fetched + r.failed as done, w.wal_bytes::text, w.wal_fpi::text,
                (select sum(coalesce(heap_blks_read, 0) + coalesce(idx_blks_read, 0) + coalesce(toast_blks_read, 0) + coalesce(tidx_blks_read, 0))
                   from pg_statio_user_tables where schemaname = 'ctgov')::text as blocks_read,
                (select coalesce(idx_blks_read, 0) from pg_statio_user_tables
                  where schemaname = 'ctgov' and relname = 'field_changes')::text as change_index_blocks_read
           from ctgov.sync_runs r, pg_stat_wal w
          where r.id > $1 and r.job = 'import' order by r.id limit 1`,
        [after],
      );
      if (r.rows[0]) {
        const row = r.rows[0];
        samples.push([Date.now(), row.done, cpuSoFar(), Number(row.wal_bytes), Number(row.wal_fpi), Number(row.blocks_read), Number(row.change_index_blocks_read)]);
        loads.push(os.loadavg()[0]!);
        if (row.done >= lastSaid + 10_000) {
          lastSaid = row.done - (row.done % 10_000);
          say(`${stage}: ${row.done} studies`);
        }
      }
      await Promise.race([child.catch(() => undefined), new Promise((resolve) => setTimeout(resolve, POLL_MS))]);
    }
    const result = await child;
    if (result.exitCode !== 0) throw new Error(`${stage}: import exited ${result.exitCode}: ${result.summary}`);
    say(`${stage}: ${result.summary}; ${result.seconds.toFixed(0)} s, ${Math.round(n / result.seconds)}/s, peak RSS ${Math.round(result.peakRssMb)} MB`);
    // The run's row appears right after the import starts: its CPU is counted from the first sample on.
    const kept = samples.filter(([t]) => t <= result.endedAtMs);
    const first: Sample = kept[0] ?? [result.startedAtMs, 0, 0, 0, 0, 0, 0];
    const last = kept.at(-1) ?? first;
    const all: Sample[] = [[result.startedAtMs, 0, ...first.slice(2)] as Sample, ...kept, [result.endedAtMs, n, ...last.slice(2)] as Sample];
    return { result, samples: all, meanLoad: loads.reduce((a, b) => a + b, 0) / Math.max(1, loads.length) };
  } finally {
    await watcher.end();
  }
}

/** Wall clock (ms), CPU seconds, WAL and blocks read when the run reached `k` studies, interpolated between the samples around it. */
function at(samples: Sample[], k: number): { ms: number; cpu: number; walBytes: number; walFpi: number; blocksRead: number; changeIndexBlocksRead: number } {
  const j = samples.findIndex(([, d]) => d >= k);
  const a = samples[Math.max(j - 1, 0)]!;
  const b = samples[Math.max(j, 0)]!;
  const f = j <= 0 || b[1] === a[1] ? 1 : (k - a[1]) / (b[1] - a[1]);
  const mix = (i: 0 | 2 | 3 | 4 | 5 | 6) => a[i] + f * (b[i] - a[i]);
  return { ms: mix(0), cpu: mix(2), walBytes: mix(3), walFpi: mix(4), blocksRead: mix(5), changeIndexBlocksRead: mix(6) };
}

/**
 * Wall and CPU seconds (import process + Postgres) of each WINDOW studies, ending at WINDOW,
 * 2·WINDOW, … and at the last study. Wall time follows the shared machine's load; CPU does less.
 */
function windowCosts(run: ImportRun) {
  const s = run.samples;
  const span = (k: number) => {
    const a = at(s, k - WINDOW);
    const b = at(s, k);
    return {
      upTo: k,
      seconds: (b.ms - a.ms) / 1000,
      cpuSeconds: b.cpu - a.cpu,
      walMb: (b.walBytes - a.walBytes) / 2 ** 20,
      walFpi: b.walFpi - a.walFpi,
      blocksRead: b.blocksRead - a.blocksRead,
      changeIndexBlocksRead: b.changeIndexBlocksRead - a.changeIndexBlocksRead,
    };
  };
  const windows = [];
  for (let k = WINDOW; k <= n; k += WINDOW) windows.push(span(k));
  return { first: windows[0]!, last: span(n), windows };
}

interface DatabaseSize {
  tableBytes: number;
  indexBytes: number;
  databaseBytes: number;
  tables: Array<{ table: string; tableBytes: number; indexBytes: number }>;
}

/** Tables (heap and TOAST) and their indexes in the ctgov schema, and the whole database. */
async function databaseSize(url: string): Promise<DatabaseSize> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ table: string; total: string; indexes: string }>(
      `select c.relname as table, pg_total_relation_size(c.oid)::text as total, pg_indexes_size(c.oid)::text as indexes
         from pg_class c join pg_namespace s on s.oid = c.relnamespace
        where s.nspname = 'ctgov' and c.relkind in ('r', 'p')
        order by pg_total_relation_size(c.oid) desc`,
    );
    const db = await client.query<{ size: string }>('select pg_database_size(current_database())::text as size');
    const tables = rows.map((r) => ({ table: r.table, tableBytes: Number(r.total) - Number(r.indexes), indexBytes: Number(r.indexes) }));
    return {
      tableBytes: tables.reduce((a, t) => a + t.tableBytes, 0),
      indexBytes: tables.reduce((a, t) => a + t.indexBytes, 0),
      databaseBytes: Number(db.rows[0]!.size),
      tables,
    };
  } finally {
    await client.end();
  }
}

/** The by-ID first load of `count` studies into a server database and into the embedded one. */
async function compareEmbedded(count: number) {
  const small = new Catalog(count);
  const fake = await startCatalogServer(small);
  const dataDir = mkdtempSync(join(SCRATCH, 'embedded-'));
  try {
    await warm(idBatchUrls(fake.url, catalogIds(count), idBatchSize));
    const spec = { kind: 'ids' as const, n: count, baseUrl: fake.url, idBatchSize, observedAt: '2026-11-01T06:00:00.000Z' };
    const serverDb = await openBenchDatabase('ctgov_bench_scale_small');
    let server: StageResult;
    let serverBytes: number;
    try {
      const before = (await databaseSize(serverDb.url)).databaseBytes;
      server = await runStage({ ...spec, stage: 'first_load_server', dbUrl: serverDb.url });
      serverBytes = (await databaseSize(serverDb.url)).databaseBytes - before;
    } finally {
      await serverDb.close();
    }
    say(`server: ${Math.round(count / server.seconds)}/s, peak RSS ${Math.round(server.peakRssMb)} MB`);
    // Created and migrated here first, so that its size before the load is known (and the stage's
    // migration finds nothing to do).
    const fresh = await startEmbeddedPostgres(dataDir, silentLog);
    try {
      const c = fresh.clientConfig;
      await migrated(`postgres://${c.user}@${c.host}:${c.port}/${c.database}`);
    } finally {
      await fresh.stop();
    }
    const embeddedBefore = folderBytes(dataDir);
    const embedded = await runStage({ ...spec, stage: 'first_load_embedded', dataDir });
    const embeddedBytes = folderBytes(dataDir) - embeddedBefore;
    say(`embedded: ${Math.round(count / embedded.seconds)}/s, peak RSS ${Math.round(embedded.peakRssMb)} MB`);
    return { server, serverBytes, embedded, embeddedBytes };
  } finally {
    await fake.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function folderBytes(dir: string): number {
  let total = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) total += statSync(join(e.parentPath, e.name)).size;
  }
  return total;
}

function importDetail(run: ImportRun) {
  const r = run.result;
  return {
    seconds: round(r.seconds, 2),
    per_second: round(n / r.seconds),
    summary: r.summary,
    sync_cpu_seconds: round(r.cpuSeconds, 2),
    postgres_cpu_seconds: r.postgresCpuSeconds === undefined ? undefined : round(r.postgresCpuSeconds, 2),
    machine_cpu_seconds: r.machineCpuSeconds === undefined ? undefined : round(r.machineCpuSeconds, 2),
    baseline_rss_mb: round(r.baselineRssMb),
    peak_rss_mb: round(r.peakRssMb),
    memory: r.memory,
    mean_load_average: round(run.meanLoad, 2),
    progress_samples: run.samples.length,
  };
}

function stageDetail(s: StageResult, databaseBytes: number) {
  return {
    processed: s.processed,
    seconds: round(s.seconds, 2),
    per_second: round(s.processed / s.seconds),
    sync_cpu_seconds: round(s.cpuSeconds, 2),
    postgres_cpu_seconds: s.postgresCpuSeconds === undefined ? undefined : round(s.postgresCpuSeconds, 2),
    machine_cpu_seconds: s.machineCpuSeconds === undefined ? undefined : round(s.machineCpuSeconds, 2),
    peak_rss_mb: round(s.peakRssMb),
    memory: s.memory,
    database_bytes_per_study: Math.round(databaseBytes / s.processed),
    counts: s.counts,
  };
}

function sizeDetail(s: DatabaseSize) {
  return {
    table_mb: round(mb(s.tableBytes)),
    index_mb: round(mb(s.indexBytes)),
    database_mb: round(mb(s.databaseBytes)),
    tables: s.tables.filter((t) => t.tableBytes + t.indexBytes > 1 << 20).map((t) => ({ table: t.table, table_mb: round(mb(t.tableBytes), 1), index_mb: round(mb(t.indexBytes), 1) })),
  };
}

function mb(bytes: number): number {
  return bytes / 2 ** 20;
}

function formatScale(r: typeof results): string {
  const kb = (b: number) => `${(b / 1024).toFixed(1)} kB`;
  const st = r.stages;
  const rows = [
    ['stage', 'studies', 'rate', 'seconds', 'sync CPU s', 'pg CPU s', 'peak RSS', 'db per study'],
    ['import, bulk zip, empty database', `${r.n}`, `${r.import_sps}/s`, `${st.import.seconds.toFixed(0)}`, `${st.import.sync_cpu_seconds.toFixed(1)}`, `${st.import.postgres_cpu_seconds?.toFixed(1) ?? ''}`, `${st.import.peak_rss_mb} MB`, kb(r.database_bytes_per_study)],
    ['re-import, all unchanged', `${r.n}`, `${r.reimport_unchanged_sps}/s`, `${st.reimport_unchanged.seconds.toFixed(0)}`, `${st.reimport_unchanged.sync_cpu_seconds.toFixed(1)}`, `${st.reimport_unchanged.postgres_cpu_seconds?.toFixed(1) ?? ''}`, `${st.reimport_unchanged.peak_rss_mb} MB`, ''],
    ['first load by ID, server', `${r.by_id_n}`, `${r.by_id_server_sps}/s`, `${st.first_load_server.seconds.toFixed(0)}`, `${st.first_load_server.sync_cpu_seconds.toFixed(1)}`, `${st.first_load_server.postgres_cpu_seconds?.toFixed(1) ?? ''}`, `${st.first_load_server.peak_rss_mb} MB`, kb(st.first_load_server.database_bytes_per_study)],
    ['first load by ID, embedded PGlite', `${r.by_id_n}`, `${r.by_id_embedded_sps}/s`, `${st.first_load_embedded.seconds.toFixed(0)}`, `${st.first_load_embedded.sync_cpu_seconds.toFixed(1)}`, '(in sync)', `${st.first_load_embedded.peak_rss_mb} MB`, kb(st.first_load_embedded.database_bytes_per_study)],
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  const lines = rows.map((row) => row.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '));
  lines.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '));
  const ratio = r.last_to_first_window;
  const cpuRatio = r.last_to_first_window_cpu;
  return [
    `ctgov-sync scale benchmark, N=${r.n} (${r.zip.json_mb} MB of JSON, a ${r.zip.mb} MB zip), load average ${r.machine.loadAverageDuringImport} during the import`,
    '',
    ...lines,
    '',
    `per-study cost: the ${r.window} studies up to the ${r.window}th took ${r.first_window_seconds} s, the last ${r.window} ${r.last_window_seconds} s: ${ratio.toFixed(2)}x (target <= 1.2x, ${ratio <= 1.2 ? 'met' : 'NOT met'})`,
    `  in CPU seconds (import + Postgres): ${r.first_window_cpu_seconds} s and ${r.last_window_cpu_seconds} s: ${cpuRatio.toFixed(2)}x`,
    `  WAL written (the server's): ${r.windows[0]!.wal_mb} MB (${r.windows[0]!.wal_full_page_images} full-page images) and ${r.windows.at(-1)!.wal_mb} MB (${r.windows.at(-1)!.wal_full_page_images})`,
    `  blocks read from outside shared buffers: ${r.windows[0]!.blocks_read} and ${r.windows.at(-1)!.blocks_read} (field_changes' indexes: ${r.windows[0]!.field_changes_index_blocks_read} and ${r.windows.at(-1)!.field_changes_index_blocks_read})`,
    `database after the import: tables ${kb(r.table_bytes_per_study)} + indexes ${kb(r.index_bytes_per_study)} per study (${r.size_after_import.database_mb} MB in all)`,
    `embedded PGlite / server, by ID at N=${r.by_id_n}: ${r.embedded_to_server.toFixed(2)}x the rate`,
  ].join('\n');
}
