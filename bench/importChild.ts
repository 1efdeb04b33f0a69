import { Writable } from 'node:stream';
import { createApp } from '../src/app.js';
import { runImport } from '../src/commands/import.js';
import { loadConfig } from '../src/config.js';
import { backendCpu, backendCpuDelta, machineCpuSeconds } from './procCpu.js';
import { startMeter } from './processMeter.js';

/*
 * One `import` of a bulk zip in its own process, through the command's own function (the one
 * `ctgov-sync import <zip>` runs), with the mirror off as in the sync stages. The harness follows
 * its progress from the run's row; this prints one JSON line with the timings when it is done.
 */

export interface ImportSpec {
  stage: string;
  dbUrl: string;
  zip: string;
  observedAt: string;
}

export interface ImportResult {
  stage: string;
  /** Wall clock (ms since the epoch) when the import started and ended, to place the harness's samples. */
  startedAtMs: number;
  endedAtMs: number;
  seconds: number;
  cpuSeconds: number;
  /** CPU of the Postgres backends serving the import (server on this machine), and of the whole machine. */
  postgresCpuSeconds: number | undefined;
  machineCpuSeconds: number | undefined;
  exitCode: number;
  summary: string;
  baselineRssMb: number;
  peakRssMb: number;
  memory: Record<string, number>;
}

const spec = JSON.parse(process.argv[2]!) as ImportSpec;
const base = loadConfig({ DATABASE_URL: spec.dbUrl, LOG_LEVEL: 'warn' });
const config = { ...base, mirror: { ...base.mirror, enabled: false } };
const observedAt = new Date(spec.observedAt);
const app = await createApp({ config, clock: () => observedAt });
let summary = '';
// Not a terminal, so no progress bar; the run summary line is kept for the results.
const io = {
  stdout: new Writable({ write: (chunk, _enc, done) => ((summary += String(chunk)), done()) }),
  stderr: process.stderr,
  env: {},
};
Object.defineProperty(io.stderr, 'isTTY', { value: false });
const dbName = new URL(spec.dbUrl).pathname.slice(1);
const meter = startMeter();
const machine0 = machineCpuSeconds();
const backends0 = backendCpu(dbName);
const startedAtMs = Date.now();
const t0 = performance.now();
let exitCode: number;
let postgresCpuSeconds: number | undefined;
let machine1: number | undefined;
let seconds: number;
let endedAtMs: number;
try {
  exitCode = await runImport(app, io, [spec.zip], { observedAt: spec.observedAt });
  seconds = (performance.now() - t0) / 1000;
  endedAtMs = Date.now();
  // Read while the pool's backends are still connected.
  postgresCpuSeconds = backendCpuDelta(backends0, backendCpu(dbName));
  machine1 = machineCpuSeconds();
} finally {
  await app.close();
}
const used = meter.finish();
const result: ImportResult = {
  stage: spec.stage,
  startedAtMs,
  endedAtMs,
  seconds,
  cpuSeconds: used.cpuSeconds,
  postgresCpuSeconds,
  machineCpuSeconds: machine0 !== undefined && machine1 !== undefined ? machine1 - machine0 : undefined,
  exitCode,
  summary: summary.trim(),
  baselineRssMb: meter.baselineRssMb,
  peakRssMb: used.peakRssMb,
  memory: used.memory,
};
process.stdout.write(`${JSON.stringify(result)}\n`);
