import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import type { CeilingResult } from './ceiling.js';
import type { StageResult } from './stage.js';

export type Measured = StageResult & { requests: number };

export interface BenchRun {
  n: number;
  smallN: number;
  edited: number;
  ceiling: CeilingResult;
  first: Measured;
  unchanged: Measured;
  changed: Measured;
  byQuery: Measured;
  exported: Measured;
  exportedFull: Measured;
  smallFirst: StageResult;
}

interface Row {
  stage: string;
  rate: string;
  ratio?: number;
  requests?: number;
  rssMb?: number;
  liveMb?: number;
  seconds: number;
  syncCpu?: number;
  pgCpu?: number;
  target?: string;
}

const perSecond = (r: StageResult) => r.processed / r.seconds;
const per1000 = (r: Measured) => (1000 * r.requests) / r.processed;
const rate = (x: number, unit: string) => `${Math.round(x).toLocaleString('en-US')} ${unit}`;

/** The summary table: one line per stage, rates against the ceiling, requests, RSS, CPU split. */
export function formatTable(run: BenchRun): string {
  const ceilingSps = run.n / run.ceiling.seconds;
  const stage = (name: string, r: Measured | StageResult, unit: string, target: string, ratio = true): Row => ({
    stage: name,
    rate: rate(perSecond(r), unit),
    ...(ratio ? { ratio: perSecond(r) / ceilingSps } : {}),
    ...('requests' in r && r.requests > 0 ? { requests: per1000(r) } : {}),
    rssMb: r.peakRssMb,
    ...(r.memory.liveHeapMb ? { liveMb: r.memory.liveHeapMb } : {}),
    seconds: r.seconds,
    syncCpu: r.cpuSeconds,
    ...(r.postgresCpuSeconds === undefined ? {} : { pgCpu: r.postgresCpuSeconds }),
    target,
  });
  const rows: Row[] = [
    { stage: 'ceiling: JSONB bulk insert', rate: rate(ceilingSps, 'studies/s'), ratio: 1, seconds: run.ceiling.seconds },
    stage('first load (by ID)', run.first, 'studies/s', '>= 1,000/s, >= 0.6x'),
    stage('unchanged re-sync (by ID)', run.unchanged, 'studies/s', '>= 3,000/s, <= 6 req'),
    stage(`re-sync, ${run.edited} changed`, run.changed, 'studies/s', '>= 1,500/s'),
    stage('incremental sync (query)', run.byQuery, 'studies/s', '<= 1 req'),
    stage('mirror export, every page', run.exported, 'pages/s', '>= 3,000/s', false),
    stage('mirror export, full profile', run.exportedFull, 'pages/s', '', false),
    stage(`first load at N=${run.smallN}`, run.smallFirst, 'studies/s', 'RSS as at N', false),
  ];
  const header = ['stage', 'rate', 'x ceiling', 'req/1000', 'peak RSS', 'live heap', 'seconds', 'sync CPU s', 'pg CPU s', 'target'];
  const cells = rows.map((r) => [
    r.stage,
    r.rate,
    r.ratio === undefined ? '' : r.ratio.toFixed(2),
    r.requests === undefined ? '' : r.requests.toFixed(2),
    r.rssMb === undefined ? '' : `${Math.round(r.rssMb)} MB`,
    r.liveMb === undefined ? '' : `${Math.round(r.liveMb)} MB`,
    r.seconds.toFixed(1),
    r.syncCpu === undefined ? '' : r.syncCpu.toFixed(1),
    r.pgCpu === undefined ? '' : r.pgCpu.toFixed(1),
    r.target ?? '',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((l) => l[i]!.length)));
  const fmt = (line: string[]) => line.map((c, i) => (i === 0 || i === line.length - 1 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  return [fmt(header), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(fmt)].join('\n');
}

/** The results file: the figures the issue asks for, each stage in detail, and the machine. */
export function resultsJson(run: BenchRun, context: { started: Date; loadBefore: number[]; database: string; catalogMb: number; fixtures: number; settings: object }) {
  const ceilingSps = run.n / run.ceiling.seconds;
  const stages = [run.first, run.unchanged, run.changed, run.byQuery, run.exported, run.exportedFull];
  return {
    n: run.n,
    ceiling_sps: round(ceilingSps),
    first_load_sps: round(perSecond(run.first)),
    unchanged_sps: round(perSecond(run.unchanged)),
    changed_sps: round(perSecond(run.changed)),
    incremental_query_sps: round(perSecond(run.byQuery)),
    incremental_query_studies: run.byQuery.processed,
    export_pps: round(perSecond(run.exported)),
    export_full_pps: round(perSecond(run.exportedFull)),
    requests_per_1000_by_id: round(per1000(run.first), 2),
    requests_per_1000_by_query: round(per1000(run.byQuery), 2),
    peak_rss_mb: round(Math.max(...stages.map((s) => s.peakRssMb))),
    first_load_ratio_to_ceiling: round(perSecond(run.first) / ceilingSps, 2),
    small_n: run.smallN,
    small_n_peak_rss_mb: round(run.smallFirst.peakRssMb),
    live_heap_mb: Math.max(...stages.map((s) => s.memory.liveHeapMb ?? 0)),
    small_n_live_heap_mb: run.smallFirst.memory.liveHeapMb,
    changed_studies: run.edited,
    ceiling: { method: run.ceiling.method, seconds: round(run.ceiling.seconds, 2) },
    stages: Object.fromEntries([...stages, run.smallFirst].map((s) => [s.stage, stageDetail(s)])),
    settings: context.settings,
    machine: {
      date: context.started.toISOString(),
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? 'unknown',
      memoryGb: round(os.totalmem() / 2 ** 30, 1),
      platform: `${os.platform()} ${os.release()}`,
      node: process.version,
      database: context.database,
      loadAverageBefore: context.loadBefore.map((x) => round(x, 2)),
      loadAverageAfter: os.loadavg().map((x) => round(x, 2)),
      catalogMb: context.catalogMb,
      fixtures: context.fixtures,
    },
  };
}

function stageDetail(s: StageResult & { requests?: number }) {
  return {
    processed: s.processed,
    seconds: round(s.seconds, 2),
    per_second: round(perSecond(s)),
    requests: s.requests,
    client_requests: s.clientRequests,
    sync_cpu_seconds: round(s.cpuSeconds, 2),
    server_cpu_seconds: round(s.serverCpuSeconds, 2),
    postgres_cpu_seconds: s.postgresCpuSeconds === undefined ? undefined : round(s.postgresCpuSeconds, 2),
    machine_cpu_seconds: s.machineCpuSeconds === undefined ? undefined : round(s.machineCpuSeconds, 2),
    baseline_rss_mb: round(s.baselineRssMb),
    peak_rss_mb: round(s.peakRssMb),
    memory: s.memory,
    counts: s.counts,
  };
}

/** Writes `dir/<yyyy-mm-dd>.json` (or `-2`, `-3`… when that day already has one); returns the path. */
export function writeResults(dir: string, date: Date, results: object): string {
  mkdirSync(dir, { recursive: true });
  const day = date.toISOString().slice(0, 10);
  let file = join(dir, `${day}.json`);
  for (let k = 2; existsSync(file); k++) file = join(dir, `${day}-${k}.json`);
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  return file;
}

function round(x: number, digits = 0): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
