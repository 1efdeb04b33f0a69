import { fork } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ParseResult, ParseSpec } from './parseChild.js';
import type { ChildResult, ChildSpec } from './syncChild.js';

// Compiled by `tsc -p bench/tsconfig.child.json` (the bench scripts do it first): no TypeScript loader in their RSS.
const childPath = (name: string) => fileURLToPath(new URL(`../dist/bench/${name}.js`, import.meta.url));

export interface StageResult extends ChildResult {
  /** CPU the harness process (the fake CT.gov, or the embedded database) used meanwhile. */
  serverCpuSeconds: number;
}

/** Runs one stage in a fresh child process (with `--cpu-prof` when BENCH_PROFILE is set). */
export async function runStage(spec: ChildSpec): Promise<StageResult> {
  const cpu0 = process.cpuUsage();
  const result = await runChild<ChildResult>('syncChild', spec.stage, spec);
  const cpu = process.cpuUsage(cpu0);
  return { ...result, serverCpuSeconds: (cpu.user + cpu.system) / 1e6 };
}

/** The parse ceiling of the pages the by-ID stages receive, in a process of its own. */
export function runParseCeiling(spec: ParseSpec): Promise<ParseResult> {
  return runChild<ParseResult>('parseChild', 'parse_ceiling', spec);
}

/** Forks dist/bench/<file>.js with the spec as its argument; its result is the last line it prints. */
export async function runChild<R>(file: string, name: string, spec: object, onSpawn?: (pid: number) => void): Promise<R> {
  const execArgv = (process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean);
  if (process.env.BENCH_PROFILE) execArgv.push('--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`, `--cpu-prof-name=${name}.cpuprofile`);
  const child = fork(childPath(file), [JSON.stringify(spec)], { execArgv, stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  if (child.pid !== undefined) onSpawn?.(child.pid);
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', resolve);
  });
  if (code !== 0) throw new Error(`stage ${name} failed (exit ${code})`);
  // Node flags such as --trace-gc also write to stdout: the result is the last line.
  const line = out.trim().split('\n').pop()!;
  if (process.env.BENCH_CHILD_LOG) appendFileSync(process.env.BENCH_CHILD_LOG, `== ${name}\n${out}`);
  return JSON.parse(line) as R;
}
