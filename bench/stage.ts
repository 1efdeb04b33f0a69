import { fork } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ChildResult, ChildSpec } from './syncChild.js';

// Compiled by `tsc -p bench/tsconfig.child.json` (the bench script does it first): no TypeScript loader in its RSS.
const CHILD = fileURLToPath(new URL('../dist/bench/syncChild.js', import.meta.url));

export interface StageResult extends ChildResult {
  /** CPU the harness process (the fake CT.gov) used meanwhile. */
  serverCpuSeconds: number;
}

/** Runs one stage in a fresh child process (with `--cpu-prof` when BENCH_PROFILE is set). */
export async function runStage(spec: ChildSpec): Promise<StageResult> {
  const execArgv = (process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean);
  if (process.env.BENCH_PROFILE) execArgv.push('--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`, `--cpu-prof-name=${spec.stage}.cpuprofile`);
  const cpu0 = process.cpuUsage();
  const child = fork(CHILD, [JSON.stringify(spec)], { execArgv, stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', resolve);
  });
  if (code !== 0) throw new Error(`stage ${spec.stage} failed (exit ${code})`);
  const cpu = process.cpuUsage(cpu0);
  // Node flags such as --trace-gc also write to stdout: the result is the last line.
  const line = out.trim().split('\n').pop()!;
  if (process.env.BENCH_CHILD_LOG) appendFileSync(process.env.BENCH_CHILD_LOG, `== ${spec.stage}\n${out}`);
  return {
    ...(JSON.parse(line) as ChildResult),
    serverCpuSeconds: (cpu.user + cpu.system) / 1e6,
  };
}
