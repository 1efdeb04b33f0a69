import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import type { CeilingResult } from './ceiling.js';
import type { ParseResult } from './parseChild.js';
import type { StageResult } from './stage.js';

export type Measured = StageResult & { requests: number };

export interface BenchRun {
  n: number;
  smallN: number;
  edited: number;
  ceiling: CeilingResult;
  parse: ParseResult;
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
  ratio?: string;
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

/** The two ceilings of the run, in studies/s: COPY of the documents, and gunzip + parse of the pages. */
function ceilings(run: BenchRun) {
  return { copy: run.n / run.ceiling.seconds, parse: run.parse.studies / run.parse.seconds };
}

/** Peak RSS of the sync stages (the export has its own row and no RSS target). */
const syncPeakRssMb = (run: BenchRun) => Math.max(...[run.first, run.unchanged, run.changed, run.byQuery].map((s) => s.peakRssMb));

interface Target {
  figure: string;
  value: number;
  /** What it is compared with, as printed. */
  target: string;
  met: boolean;
}

/**
 * The targets, as ratios to the ceilings of the same run (so they hold on any machine):
 * the first load and the export against COPY (they store and read what COPY stores), the by-ID
 * re-syncs against the parse ceiling (most of their studies need no write at all).
 */
export function targets(run: BenchRun): Record<string, Target> {
  const c = ceilings(run);
  const atLeast = (figure: string, value: number, min: number, of: string): Target => ({ figure, value: round(value, 2), target: `>= ${min}x ${of}`, met: value >= min });
  const atMost = (figure: string, value: number, max: number, unit: string, digits = 2): Target => ({ figure, value: round(value, digits), target: `<= ${max}${unit}`, met: value <= max });
  const peak = syncPeakRssMb(run);
  const smallVsPeak = Math.abs(run.smallFirst.peakRssMb / peak - 1);
  return {
    first_load: atLeast('first load / COPY ceiling', perSecond(run.first) / c.copy, 0.6, 'COPY'),
    unchanged: atLeast('unchanged re-sync / parse ceiling', perSecond(run.unchanged) / c.parse, 0.6, 'parse'),
    changed: atLeast('re-sync, 10% changed / parse ceiling', perSecond(run.changed) / c.parse, 0.45, 'parse'),
    export: atLeast('export, golden profile (pages/s) / COPY ceiling', perSecond(run.exported) / c.copy, 2.5, 'COPY'),
    peak_rss: atMost('peak RSS of the sync stages, MB', peak, 400, ' MB', 0),
    small_n_rss: atMost(`peak RSS at N=${run.smallN} against that peak, relative difference`, smallVsPeak, 0.1, '', 3),
    requests_by_id: atMost('requests per 1,000 studies by ID', per1000(run.first), 6, ''),
    requests_by_query: atMost('requests by query / ceil(studies / 1,000)', run.byQuery.requests / Math.ceil(run.byQuery.processed / 1000), 1, ''),
  };
}

/** The summary table: one line per stage, rates against their ceiling, requests, RSS, CPU split; then the targets. */
export function formatTable(run: BenchRun): string {
  const c = ceilings(run);
  const t = targets(run);
  const stage = (name: string, r: Measured | StageResult, unit: string, target: string, against?: 'COPY' | 'parse'): Row => ({
    stage: name,
    rate: rate(perSecond(r), unit),
    ...(against ? { ratio: `${(perSecond(r) / (against === 'COPY' ? c.copy : c.parse)).toFixed(2)} ${against}` } : {}),
    ...('requests' in r && r.requests > 0 ? { requests: per1000(r) } : {}),
    rssMb: r.peakRssMb,
    ...(r.memory.liveHeapMb ? { liveMb: r.memory.liveHeapMb } : {}),
    seconds: r.seconds,
    syncCpu: r.cpuSeconds,
    ...(r.postgresCpuSeconds === undefined ? {} : { pgCpu: r.postgresCpuSeconds }),
    target,
  });
  const rows: Row[] = [
    { stage: 'ceiling: COPY into a bare JSONB table', rate: rate(c.copy, 'studies/s'), ratio: '1.00 COPY', seconds: run.ceiling.seconds },
    { stage: 'ceiling: gunzip + JSON.parse of the pages', rate: rate(c.parse, 'studies/s'), ratio: '1.00 parse', seconds: run.parse.seconds, syncCpu: run.parse.cpuSeconds },
    stage('first load (by ID)', run.first, 'studies/s', `${t.first_load!.target}, <= 6 req`, 'COPY'),
    stage('unchanged re-sync (by ID)', run.unchanged, 'studies/s', `${t.unchanged!.target}, <= 6 req`, 'parse'),
    stage(`re-sync, ${run.edited} changed`, run.changed, 'studies/s', t.changed!.target, 'parse'),
    stage('incremental sync (query)', run.byQuery, 'studies/s', '<= 1 req', 'parse'),
    stage('mirror export, golden profile', run.exported, 'pages/s', t.export!.target, 'COPY'),
    stage('mirror export, full profile', run.exportedFull, 'pages/s', '', 'COPY'),
    stage(`first load at N=${run.smallN}`, run.smallFirst, 'studies/s', 'RSS within 10%'),
  ];
  const header = ['stage', 'rate', 'x ceiling', 'req/1000', 'peak RSS', 'live heap', 'seconds', 'sync CPU s', 'pg CPU s', 'target'];
  const cells = rows.map((r) => [
    r.stage,
    r.rate,
    r.ratio ?? '',
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
  const verdicts = Object.values(t).map((x) => `  ${x.met ? 'met    ' : 'NOT met'}  ${x.figure}: ${x.value} (target ${x.target})`);
  return [fmt(header), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(fmt), '', 'targets:', ...verdicts].join('\n');
}

/** The results file: the figures the issue asks for, each stage in detail, and the machine. */
export function resultsJson(run: BenchRun, context: { started: Date; loadBefore: number[]; database: string; catalogMb: number; fixtures: number; settings: object }) {
  const { copy: ceilingSps, parse: parseSps } = ceilings(run);
  const stages = [run.first, run.unchanged, run.changed, run.byQuery, run.exported, run.exportedFull];
  const t = targets(run);
  return {
    n: run.n,
    ceiling_sps: round(ceilingSps),
    parse_ceiling_sps: round(parseSps),
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
    sync_peak_rss_mb: round(syncPeakRssMb(run)),
    first_load_ratio_to_ceiling: round(perSecond(run.first) / ceilingSps, 2),
    unchanged_ratio_to_parse_ceiling: round(perSecond(run.unchanged) / parseSps, 2),
    changed_ratio_to_parse_ceiling: round(perSecond(run.changed) / parseSps, 2),
    incremental_query_ratio_to_parse_ceiling: round(perSecond(run.byQuery) / parseSps, 2),
    export_ratio_to_ceiling: round(perSecond(run.exported) / ceilingSps, 2),
    export_full_ratio_to_ceiling: round(perSecond(run.exportedFull) / ceilingSps, 2),
    small_n: run.smallN,
    small_n_peak_rss_mb: round(run.smallFirst.peakRssMb),
    live_heap_mb: Math.max(...stages.map((s) => s.memory.liveHeapMb ?? 0)),
    small_n_live_heap_mb: run.smallFirst.memory.liveHeapMb,
    changed_studies: run.edited,
    small_n_rss_difference: t.small_n_rss!.value,
    targets: t,
    ceiling: { method: run.ceiling.method, seconds: round(run.ceiling.seconds, 2) },
    parse_ceiling: {
      pages: run.parse.pages,
      studies: run.parse.studies,
      gzip_mb: round(run.parse.gzipMb),
      json_mb: round(run.parse.jsonMb),
      seconds: round(run.parse.seconds, 2),
      cpu_seconds: round(run.parse.cpuSeconds, 2),
      best_of: run.parse.passes,
    },
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

/** Writes `dir/<prefix><yyyy-mm-dd>.json` (or `-2`, `-3`… when that day already has one); returns the path. */
export function writeResults(dir: string, date: Date, results: object, prefix = ''): string {
  mkdirSync(dir, { recursive: true });
  const day = `${prefix}${date.toISOString().slice(0, 10)}`;
  let file = join(dir, `${day}.json`);
  for (let k = 2; existsSync(file); k++) file = join(dir, `${day}-${k}.json`);
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  return file;
}

export function round(x: number, digits = 0): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
