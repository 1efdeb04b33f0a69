import { Pool } from 'pg';
import { runBatches, type SourceBatch } from '../src/pipeline/runBatches.js';
import { startWebServer } from '../tests/support/webServer.js';
import { silentLog } from '../tests/support/testDb.js';
import { Catalog } from './catalog.js';
import { openBenchDatabase } from './database.js';
import { EDIT_KINDS, editStudy } from './edits.js';

/*
 * `npm run bench:web`: how long the web view takes to answer over loopback on the bench data.
 * BENCH_WEB_N synthetic studies (default 2000, about 80 change rows each from their first
 * observation), then 10 % of them edited (status, dates, enrollment, sites): the pages asked for
 * list 1,000 changes each. BENCH_DATABASE_URL as for `npm run bench` (embedded PGlite otherwise).
 * Times are the client's: request sent to last byte received, median and 95th percentile.
 */

const n = Number(process.env.BENCH_WEB_N ?? 2000);
const RUNS = 30;
const say = (msg: string) => process.stderr.write(`[bench:web] ${msg}\n`);

async function* batches(catalog: Catalog, pick: (i: number) => Record<string, unknown> | undefined): AsyncGenerator<SourceBatch> {
  let records: SourceBatch['records'] = [];
  for (let i = 0; i < catalog.n; i++) {
    const raw = pick(i);
    if (raw) records.push({ raw });
    if (records.length === 200) {
      yield { records, failures: [] };
      records = [];
    }
  }
  if (records.length > 0) yield { records, failures: [] };
}

async function time(url: string): Promise<{ ms: number; bytes: number; status: number }> {
  const t0 = performance.now();
  const res = await fetch(url);
  const body = await res.arrayBuffer();
  return { ms: performance.now() - t0, bytes: body.byteLength, status: res.status };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;
}

const db = await openBenchDatabase('ctgov_bench_web');
const pool = new Pool({ connectionString: db.url, max: 4 });
try {
  say(`${db.describe}: loading ${n} studies, then editing ${n / 10}`);
  const catalog = new Catalog(n);
  const deps = { pool, log: silentLog };
  await runBatches(deps, { job: 'bench', trigger: 'cli', observedAt: new Date('2026-11-20T06:00:00Z') }, batches(catalog, (i) => catalog.study(i)));
  await runBatches(
    deps,
    { job: 'bench', trigger: 'cli', observedAt: new Date('2026-11-21T06:00:00Z') },
    batches(catalog, (i) => {
      if (i % 10 !== 0) return undefined;
      const raw = catalog.study(i);
      editStudy(raw, EDIT_KINDS[(i / 10) % EDIT_KINDS.length]!, i);
      return raw;
    }),
  );
  await pool.query('analyze ctgov.field_changes');
  const { rows } = await pool.query<{ n: number }>('select count(*)::int as n from ctgov.field_changes');
  const study = (await pool.query<{ nct_id: string }>("select nct_id from ctgov.field_changes where kind = 'changed' limit 1")).rows[0]!.nct_id;
  say(`${rows[0]!.n} change rows`);

  const server = await startWebServer(pool);
  const base = server.url;
  const pages: Array<[string, string]> = [
    ['change feed, 1,000 newest changes', '/?limit=1000'],
    ['change feed, 1,000 changes, path=locations.* kind=added', '/?limit=1000&path=locations.*&kind=added'],
    ['change feed, 1,000 changes, title words', '/?limit=1000&q=study'],
    ['/api/changes, 1,000 changes', '/api/changes?limit=1000'],
    ['Atom feed, 1,000 entries', '/feeds/changes.atom?limit=1000'],
    ['study page (timeline and diff)', `/studies/${study}`],
    ['study page, first observation (all fields added)', `/studies/${study}?to=${(await pool.query<{ id: number }>('select min(id)::int as id from ctgov.study_versions where nct_id = $1', [study])).rows[0]!.id}`],
  ];
  const lines: string[] = [];
  for (const [label, path] of pages) {
    for (let i = 0; i < 3; i++) await time(base + path);
    const samples: number[] = [];
    let bytes = 0;
    for (let i = 0; i < RUNS; i++) {
      const r = await time(base + path);
      if (r.status !== 200) throw new Error(`${path} answered ${r.status}`);
      samples.push(r.ms);
      bytes = r.bytes;
    }
    samples.sort((a, b) => a - b);
    lines.push(`${label.padEnd(56)} median ${percentile(samples, 50).toFixed(1).padStart(6)} ms   p95 ${percentile(samples, 95).toFixed(1).padStart(6)} ms   ${(bytes / 1024).toFixed(0).padStart(5)} KiB`);
  }
  await server.close();
  process.stdout.write(`web view on ${db.describe}, ${n} studies, ${rows[0]!.n} change rows, ${RUNS} runs each\n${lines.join('\n')}\n`);
} finally {
  await pool.end();
  await db.close();
}
