import { mkdirSync } from 'node:fs';
import { createApp } from '../src/app.js';
import { ctgovClientFromConfig } from '../src/ctgovClient.js';
import { loadConfig } from '../src/config.js';
import { migrate } from '../src/db/migrate.js';
import { parseNctIds } from '../src/ctgov/nctId.js';
import { exportAll } from '../src/pipeline/exportMirror.js';
import { mirrorTarget } from '../src/pipeline/mirrorTarget.js';
import { parseQueryExpression } from '../src/pipeline/apiSources.js';
import { syncPlan } from '../src/pipeline/syncPlan.js';
import { catalogIds } from './catalogIds.js';
import { intEnv } from './env.js';
import { backendCpu, backendCpuDelta, machineCpuSeconds } from './procCpu.js';
import { startMeter } from './processMeter.js';

/*
 * One benchmark stage in its own process, so that its peak RSS is the sync's alone. Runs the
 * production path (config → app → CT.gov client → syncPlan, or exportAll), compiled to plain
 * JavaScript like the `ctgov-sync` program (bench/tsconfig.child.json → dist/bench/), and prints one
 * JSON line with the timings and counts on stdout.
 */

export interface ChildSpec {
  stage: string;
  kind: 'ids' | 'query' | 'export';
  n: number;
  /** A server database, or the harness's embedded one behind its socket. */
  dbUrl?: string;
  /**
   * Instead of dbUrl: an embedded database on this folder, inside this process, as the program
   * runs without DATABASE_URL (migrated before the clock starts).
   */
  dataDir?: string;
  baseUrl: string;
  /** The run's clock: each stage is a later sync. */
  observedAt: string;
  idBatchSize?: number;
  query?: string;
  mirrorDir?: string;
  /** The export stage's page format (default golden). */
  mirrorProfile?: 'golden' | 'full';
  /** The embedded database's socket takes one connection. */
  embedded?: boolean;
}

export interface ChildResult {
  stage: string;
  seconds: number;
  cpuSeconds: number;
  processed: number;
  counts: Record<string, number>;
  clientRequests: number;
  /** CPU the whole machine used during the stage: Postgres, this process, the fake CT.gov, anything else. */
  machineCpuSeconds: number | undefined;
  /** CPU the Postgres backends of this database used during the stage (server on this machine). */
  postgresCpuSeconds: number | undefined;
  baselineRssMb: number;
  peakRssMb: number;
  /** Highest heap and off-heap figures sampled every 50 ms during the stage, and the highest heap after a full GC. */
  memory: Record<string, number>;
}

const spec = JSON.parse(process.argv[2]!) as ChildSpec;
const base = loadConfig({ ...(spec.dataDir ? { DATA_DIR: spec.dataDir } : { DATABASE_URL: spec.dbUrl }), CTGOV_BASE_URL: spec.baseUrl, LOG_LEVEL: 'warn' });
const config = {
  ...base,
  database: { ...base.database, poolSize: spec.embedded ? 1 : base.database.poolSize },
  // The fake server has no rate limit; the client's own limiter would otherwise pace at 50/min.
  ctgov: {
    ...base.ctgov,
    rateLimitPerMinute: 1_000_000,
    idBatchSize: spec.idBatchSize ?? base.ctgov.idBatchSize,
    concurrency: intEnv('BENCH_CONCURRENCY', base.ctgov.concurrency),
  },
  sync: { ...base.sync, storeBatchSize: intEnv('BENCH_STORE_BATCH', base.sync.storeBatchSize) },
  // Pages are measured on their own (the export stage), not inside the sync stages.
  mirror: { ...base.mirror, enabled: false, dir: spec.mirrorDir ?? base.mirror.dir, profile: spec.mirrorProfile ?? base.mirror.profile },
};
const observedAt = new Date(spec.observedAt);
const app = await createApp({ config, clock: () => observedAt });
if (spec.dataDir) await migrate(app.db.pool, app.log);
const meter = startMeter();
const machine0 = machineCpuSeconds();
// Postgres backends of a server on this machine; the in-process database's CPU is this process's.
const dbName = spec.dbUrl && !spec.embedded ? new URL(spec.dbUrl).pathname.slice(1) : undefined;
const backends0 = dbName ? backendCpu(dbName) : undefined;
const t0 = performance.now();
let processed = 0;
let counts: Record<string, number> = {};
let clientRequests = 0;
let seconds = 0;
let machine1: number | undefined;
let postgresCpuSeconds: number | undefined;
try {
  if (spec.kind === 'export') {
    mkdirSync(spec.mirrorDir!, { recursive: true });
    const c = await exportAll(app.db.pool, mirrorTarget(config, spec.mirrorDir), observedAt, app.log);
    counts = { ...c };
    processed = c.written + c.unchanged;
  } else {
    const client = ctgovClientFromConfig(config, app.log);
    const plan =
      spec.kind === 'ids'
        ? { ids: parseNctIds(catalogIds(spec.n)), queries: [] }
        : { ids: [], queries: [{ expr: spec.query!, params: parseQueryExpression(spec.query!) }] };
    try {
      const summary = await syncPlan(app, client, plan, { source: 'cli', trigger: 'cli', signal: new AbortController().signal, job: `bench-${spec.stage}` });
      counts = { ...summary.counts };
      processed = summary.counts.fetched;
      clientRequests = client.stats().requests;
    } finally {
      await client.close();
    }
  }
  seconds = (performance.now() - t0) / 1000;
  machine1 = machineCpuSeconds();
  postgresCpuSeconds = dbName ? backendCpuDelta(backends0, backendCpu(dbName)) : undefined;
} finally {
  await app.close();
}
const used = meter.finish();
const result: ChildResult = {
  stage: spec.stage,
  seconds,
  cpuSeconds: used.cpuSeconds,
  processed,
  counts,
  clientRequests,
  machineCpuSeconds: machine0 !== undefined && machine1 !== undefined ? machine1 - machine0 : undefined,
  postgresCpuSeconds,
  baselineRssMb: meter.baselineRssMb,
  peakRssMb: used.peakRssMb,
  memory: used.memory,
};
process.stdout.write(`${JSON.stringify(result)}\n`);
