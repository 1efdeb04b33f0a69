import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliEnv, startCli, type CliEnv } from '../support/cliEnv.js';
import { NO_PROBLEMS, integrityProblems, snapshotTables } from '../support/dbSnapshot.js';
import { startFakeCtgov, type FakeCtgov } from '../support/fakeCtgov.js';
import { CHAOS, chaosCatalog, chaosRandom, mirrorContents, writeIdFile } from './chaosSetup.js';
import { runWithKills } from './killLoop.js';

/*
 * Crash safety of the embedded database (PGlite under DATA_DIR): `ctgov-sync sync --file` over
 * CHAOS_EMBEDDED_STUDIES studies SIGKILLed CHAOS_KILLS times. Each kill leaves the DATA_DIR lock
 * of a dead process behind; the restart must take it over, and the end result must equal an
 * uninterrupted run's.
 */

const catalog = chaosCatalog(CHAOS.embeddedStudies);
const BATCH = 50;
let fake: FakeCtgov;
const envs: CliEnv[] = [];

async function freshEnv(): Promise<CliEnv & { args: string[]; lockFile: string }> {
  const e = await cliEnv(fake.url, { sync: { storeBatchSize: BATCH }, ctgov: { idBatchSize: BATCH } }, { backend: 'embedded' });
  envs.push(e);
  return { ...e, args: ['sync', '--file', writeIdFile(e.cwd, catalog.ids())], lockFile: join(e.env.DATA_DIR!, 'ctgov-sync.lock') };
}

beforeAll(async () => {
  fake = await startFakeCtgov({ studies: catalog.all() });
});

afterAll(async () => {
  await fake?.close();
  for (const e of envs) await e.done();
});

describe('crash safety on the embedded database', () => {
  it(`survives ${CHAOS.kills} SIGKILLs, taking over the stale DATA_DIR lock each time, and ends equal to an uninterrupted run`, async () => {
    const clean = await freshEnv();
    const started = Date.now();
    const uninterrupted = await startCli(clean.args, clean.env, { timeoutMs: 600_000 }).exited;
    expect(uninterrupted.stderr).toBe('');
    expect(uninterrupted.code).toBe(0);
    console.info(`[chaos] uninterrupted embedded run of ${catalog.size} studies: ${Date.now() - started} ms`);
    const baseline = await clean.withDb(snapshotTables);
    expect(baseline.studies!.rows).toBe(catalog.size);

    const e = await freshEnv();
    let staleLocks = 0;
    let attemptStart = 0;
    const killed: number[] = [];
    const result = await runWithKills({
      args: e.args,
      env: e.env,
      kills: CHAOS.kills,
      total: catalog.size,
      random: chaosRandom('embedded-kills'),
      // The database cannot be looked into while the process holds it: progress is what this
      // process has fetched, from the fake's log (each batch is stored right after its fetch).
      progressScope: 'attempt',
      startAttempt: () => void (attemptStart = fake.requests.length),
      progress: async () =>
        fake.requests.slice(attemptStart).filter((q) => q.status === 200 && q.query['filter.ids']).length * BATCH,
      afterKill: async (pid) => {
        killed.push(pid);
        if (!existsSync(e.lockFile)) return; // no run has opened the database yet
        // The lock of a dead process: this one's, or an earlier one's if this one died before
        // it got as far as taking that over.
        expect(killed).toContain(Number(readFileSync(e.lockFile, 'utf8').trim()));
        staleLocks++;
      },
      // A batch of 50 commits in well under a second, and a run that has everything stored
      // already re-checks it in a few: a short jitter keeps the kill inside the run.
      jitterMs: 500,
      earlyMs: 6_000,
      timeoutMs: 600_000,
    });
    const afterProgress = result.kills.filter((k) => k.mode === 'progress').length;
    console.info(
      `[chaos] embedded kills: ${result.kills.length} delivered, ${staleLocks} left a dead process's lock behind (taken over by the next run to open the database), ` +
        `${result.finishedEarly} run(s) finished first; studies fetched by the process at each kill: ` +
        result.kills.map((k) => `${k.progress} (${k.mode}, ${k.atMs} ms)`).join(', '),
    );
    expect(result.kills).toHaveLength(CHAOS.kills);
    expect(staleLocks).toBeGreaterThanOrEqual(afterProgress);
    expect(result.final.stderr).toBe('');
    expect(result.final.code).toBe(0);
    expect(existsSync(e.lockFile)).toBe(false);

    expect(await e.withDb(integrityProblems)).toEqual(NO_PROBLEMS);
    expect(await e.withDb(snapshotTables)).toEqual(baseline);
    const mirror = mirrorContents(e.mirrorDir);
    const reference = mirrorContents(clean.mirrorDir).pages;
    for (const [name, text] of mirror.pages) expect(text, name).toBe(reference.get(name));
    const missing = [...reference.keys()].filter((name) => !mirror.pages.has(name));
    console.info(`[chaos] embedded kills: ${mirror.pages.size} mirror page(s), ${missing.length} missing, ${mirror.tempFiles.length} temp file(s) left`);
    expect(missing).toEqual([]);
    expect(mirror.tempFiles).toEqual([]);
  });
});
