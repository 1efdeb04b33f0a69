import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CTGOV_FIXTURE_DIR, fixtureIds } from '../support/ctgovFixtures.js';
import { runCli } from '../support/cli.js';
import { cliEnv, startCli, type CliEnv } from '../support/cliEnv.js';
import { startFakeCtgov, type FakeCtgov } from '../support/fakeCtgov.js';
import { waitFor } from '../support/waitFor.js';

/* What a run that did not fully succeed tells its user: which studies failed; an interruption is not an error. */

describe('partial and interrupted runs (real process, fake CT.gov)', () => {
  let fake: FakeCtgov;
  let e: CliEnv;

  beforeAll(async () => {
    fake = await startFakeCtgov({ dir: CTGOV_FIXTURE_DIR });
    e = await cliEnv(fake.url, { ctgov: { idBatchSize: 4, concurrency: 1 }, sync: { storeBatchSize: 4 } });
  });
  afterAll(async () => {
    await fake?.close();
    await e?.done();
  });

  it('a partial run names its first failed studies and how many more, in the log and in `runs`', async () => {
    const unknown = Array.from({ length: 7 }, (_, i) => `NCT9999999${i + 1}`);
    const r = await runCli(['sync', fixtureIds()[0]!, ...unknown], { cwd: e.cwd, env: { ...e.env, LOG_LEVEL: 'info' } });
    expect(r.code).toBe(1);
    // Five of the seven named (in the order they were recorded), then the count of the rest.
    const named = /^(NCT9999999[1-7]), (NCT9999999[1-7]), (NCT9999999[1-7]), (NCT9999999[1-7]), (NCT9999999[1-7]) and 2 more$/;
    const expectNamed = (text: unknown) => {
      const m = named.exec(String(text));
      expect(m, String(text)).not.toBeNull();
      expect(new Set(m!.slice(1)).size).toBe(5);
    };
    const finished = r.stderr
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l.msg === 'sync run finished');
    expect(finished).toMatchObject({ status: 'partial', failed: 7 });
    expectNamed(finished!.failedStudies);

    const runs = await runCli(['runs', '--limit', '1'], { cwd: e.cwd, env: e.env });
    expect(runs.code).toBe(0);
    expect(runs.stdout.split('\n')[1]).toMatch(/ partial /);
    const line = runs.stdout.split('\n').find((l) => l.startsWith('    failed: '));
    expectNamed(line?.slice('    failed: '.length));
  });

  it('Ctrl-C during a run: no ERROR in the log, the run recorded as interrupted, what was stored kept (exit 1)', async () => {
    const ids = fixtureIds().slice(1, 41);
    fake.injectFaults({ kind: 'slow', path: '/studies', delayMs: 300 });
    fake.resetCounts();
    const cli = startCli(['sync', ...ids], { ...e.env, LOG_LEVEL: 'info' });
    await waitFor(async () => fake.requests.filter((q) => q.path === '/studies' && q.finished !== undefined).length >= 3, { timeoutMs: 30_000 });
    process.kill(cli.pid, 'SIGINT');
    const r = await cli.exited;
    fake.clearFaults();
    const levels = r.stderr
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { level: number; msg: string });
    expect(levels.filter((l) => l.level >= 50), r.stderr).toEqual([]);
    expect(levels.some((l) => l.msg === 'sync run interrupted')).toBe(true);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/^sync run \d+ failed after storing \d+ studies/);
    expect(r.stderr).toMatch(/^ctgov-sync: interrupted by SIGINT \(what was stored before it is kept\)$/m);
  });
});
