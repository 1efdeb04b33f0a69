import { mkdirSync } from 'node:fs';
import { constants, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { createApp } from '../src/app.js';
import { ctgovClientFromConfig } from '../src/ctgovClient.js';
import { loadConfig } from '../src/config.js';
import { parseNctIds } from '../src/ctgov/nctId.js';
import { exportAll } from '../src/pipeline/exportMirror.js';
import { mirrorTarget } from '../src/pipeline/mirrorTarget.js';
import { parseQueryExpression } from '../src/pipeline/apiSources.js';
import { syncPlan } from '../src/pipeline/syncPlan.js';
import { catalogIds } from './catalogIds.js';
import { backendCpu, backendCpuDelta, machineCpuSeconds } from './procCpu.js';

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
  dbUrl: string;
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
const base = loadConfig({ DATABASE_URL: spec.dbUrl, CTGOV_BASE_URL: spec.baseUrl, LOG_LEVEL: 'warn' });
const config = {
  ...base,
  database: { ...base.database, poolSize: spec.embedded ? 1 : base.database.poolSize },
  // The fake server has no rate limit; the client's own limiter would otherwise pace at 50/min.
  ctgov: { ...base.ctgov, rateLimitPerMinute: 1_000_000, idBatchSize: spec.idBatchSize ?? base.ctgov.idBatchSize },
  // Pages are measured on their own (the export stage), not inside the sync stages.
  mirror: { ...base.mirror, enabled: false, dir: spec.mirrorDir ?? base.mirror.dir, profile: spec.mirrorProfile ?? base.mirror.profile },
};
const observedAt = new Date(spec.observedAt);
const app = await createApp({ config, clock: () => observedAt });
const baselineRssMb = process.memoryUsage().rss / 2 ** 20;
const peaks = { heapUsedMb: 0, heapTotalMb: 0, externalMb: 0, arrayBuffersMb: 0 };
const sampler = setInterval(() => {
  const m = process.memoryUsage();
  peaks.heapUsedMb = Math.max(peaks.heapUsedMb, m.heapUsed / 2 ** 20);
  peaks.heapTotalMb = Math.max(peaks.heapTotalMb, m.heapTotal / 2 ** 20);
  peaks.externalMb = Math.max(peaks.externalMb, m.external / 2 ** 20);
  peaks.arrayBuffersMb = Math.max(peaks.arrayBuffersMb, m.arrayBuffers / 2 ** 20);
}, 50);
sampler.unref();
// The heap right after each full collection: what the stage keeps alive, without V8's headroom.
let liveHeapMb = 0;
const gcWatch = new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    if ((entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind !== constants.NODE_PERFORMANCE_GC_MAJOR) continue;
    liveHeapMb = Math.max(liveHeapMb, process.memoryUsage().heapUsed / 2 ** 20);
  }
});
gcWatch.observe({ entryTypes: ['gc'] });
const cpu0 = process.cpuUsage();
const machine0 = machineCpuSeconds();
const dbName = new URL(spec.dbUrl).pathname.slice(1);
const backends0 = backendCpu(dbName);
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
  postgresCpuSeconds = spec.embedded ? undefined : backendCpuDelta(backends0, backendCpu(dbName));
} finally {
  await app.close();
}
const cpu = process.cpuUsage(cpu0);
const result: ChildResult = {
  stage: spec.stage,
  seconds,
  cpuSeconds: (cpu.user + cpu.system) / 1e6,
  processed,
  counts,
  clientRequests,
  machineCpuSeconds: machine0 !== undefined && machine1 !== undefined ? machine1 - machine0 : undefined,
  postgresCpuSeconds,
  baselineRssMb,
  // maxRSS is in kilobytes: the high-water mark of the whole process, startup included.
  peakRssMb: process.resourceUsage().maxRSS / 1024,
  memory: Object.fromEntries(Object.entries({ ...peaks, liveHeapMb }).map(([k, v]) => [k, Math.round(v)])),
};
process.stdout.write(`${JSON.stringify(result)}\n`);
