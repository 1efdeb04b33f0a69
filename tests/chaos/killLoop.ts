import { startCli } from '../support/cliEnv.js';
import { waitFor } from '../support/waitFor.js';
import type { CliResult } from '../support/cli.js';

/*
 * Runs one `ctgov-sync` command, SIGKILLs it at random moments and restarts it each time, then
 * lets it finish. One moment in four is early (a random delay after spawning: start-up, opening
 * the database, migration, the first fetch); the others come at a random point of progress (a
 * random number of studies committed), then either after a random delay, so that the kill lands
 * anywhere in the next batch's fetch, transaction or page export, or (one in four, on a server)
 * the instant the process is seen inside a database transaction.
 */

export interface KillLoopOptions {
  args: string[];
  env: Record<string, string>;
  kills: number;
  /** Studies the whole run stores. */
  total: number;
  random: () => number;
  /**
   * How far the run has got, observed from outside the process: studies committed so far
   * (`cumulative`, the default), or studies the current process has fetched (`attempt`, reset
   * by startAttempt()), for a database that cannot be looked into while the process holds it.
   */
  progress: () => Promise<number>;
  progressScope?: 'cumulative' | 'attempt';
  startAttempt?: () => void;
  /** Whether the process has a database transaction open right now (server only). */
  inTransaction?: () => Promise<boolean>;
  /** Checks after each kill (e.g. the stale DATA_DIR lock). */
  afterKill?: (pid: number) => Promise<void>;
  /** Upper bound of the random delay after the progress target is reached. */
  jitterMs: number;
  /** Upper bound of an early kill's delay after spawning. */
  earlyMs: number;
  /** Per process. */
  timeoutMs: number;
}

export interface KillRecord {
  attempt: number;
  mode: KillMode;
  /** ms after the process was spawned. */
  atMs: number;
  /** Studies committed when the process died. */
  progress: number;
  inTransaction: boolean | undefined;
}

export interface KillLoopResult {
  kills: KillRecord[];
  /** Runs that finished before their kill moment (counted, not killed). */
  finishedEarly: number;
  final: CliResult;
}

const uniform = (random: () => number, lo: number, hi: number) => lo + random() * (hi - lo);

type KillMode = 'early' | 'progress' | 'transaction';

/** One kill in four early, one in four inside an open transaction (when that can be seen), the rest anywhere mid-run. */
function killMode(remaining: number, canSeeTransactions: boolean): KillMode {
  if (remaining % 4 === 0) return 'early';
  if (remaining % 4 === 2 && canSeeTransactions) return 'transaction';
  return 'progress';
}

/**
 * Committed progress: a random share of what is left, sized so that the kills spread over the
 * whole run. Per-attempt progress: anywhere in the run (re-fetching what is stored is quick).
 */
async function progressTarget(o: KillLoopOptions, remaining: number): Promise<number> {
  if (o.progressScope === 'attempt') return Math.ceil(uniform(o.random, 0.02, 0.98) * o.total);
  const start = await o.progress();
  const step = Math.ceil((uniform(o.random, 0.3, 1.7) * (o.total - start)) / (remaining + 1));
  return Math.min(o.total - 1, start + Math.max(1, step));
}

export async function runWithKills(o: KillLoopOptions): Promise<KillLoopResult> {
  const kills: KillRecord[] = [];
  let finishedEarly = 0;
  // Bounded: a run that keeps finishing before its kill moment cannot loop forever.
  for (let attempt = 1; kills.length < o.kills && attempt <= o.kills * 4; attempt++) {
    const remaining = o.kills - kills.length;
    o.startAttempt?.();
    const proc = startCli(o.args, o.env, { timeoutMs: o.timeoutMs });
    const spawnedAt = Date.now();
    const mode = killMode(remaining, o.inTransaction !== undefined);
    if (mode === 'early') {
      await Promise.race([delay(uniform(o.random, 0, o.earlyMs)), proc.exited]);
    } else {
      const target = await progressTarget(o, remaining);
      await waitFor(async () => !proc.running || (await o.progress()) >= target, { timeoutMs: o.timeoutMs, what: `progress ${target}`, everyMs: 50 });
      if (mode === 'progress' && proc.running) await Promise.race([delay(uniform(o.random, 0, o.jitterMs)), proc.exited]);
      if (mode === 'transaction') await waitFor(async () => !proc.running || (await o.inTransaction!()), { timeoutMs: 60_000, what: 'a transaction', everyMs: 2 });
    }
    if (!proc.running) {
      const r = await proc.exited;
      if (r.code !== 0) throw new Error(`run ${attempt} failed before its kill (exit ${r.code}): ${r.stderr}`);
      finishedEarly++;
      continue;
    }
    // In 'transaction' mode the kill follows the sighting at once; the figures are read after it.
    const inTransaction = mode === 'transaction' ? true : await o.inTransaction?.();
    proc.child.kill('SIGKILL');
    const r = await proc.exited;
    const progress = await o.progress();
    if (r.signal !== 'SIGKILL') {
      // It exited on its own in the instant before the signal: that run is complete, not killed.
      if (r.code !== 0) throw new Error(`run ${attempt} failed (exit ${r.code}): ${r.stderr}`);
      finishedEarly++;
      continue;
    }
    kills.push({ attempt, mode, atMs: Date.now() - spawnedAt, progress, inTransaction });
    await o.afterKill?.(proc.pid);
  }
  const final = await startCli(o.args, o.env, { timeoutMs: o.timeoutMs }).exited;
  return { kills, finishedEarly, final };
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
