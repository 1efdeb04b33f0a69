import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CTGOV_FIXTURE_DIR } from '../support/ctgovFixtures.js';
import { runCli } from '../support/cli.js';
import { cliEnv, type CliEnv } from '../support/cliEnv.js';
import { startFakeCtgov, type FakeCtgov } from '../support/fakeCtgov.js';

/*
 * `sync --query` at its edges: README's own location query, a query that matches more studies
 * than a run may take, and a run that stored studies before a later query failed.
 */

describe('sync --query (real process, fake CT.gov)', () => {
  let fake: FakeCtgov;
  let e: CliEnv;

  beforeAll(async () => {
    fake = await startFakeCtgov({ dir: CTGOV_FIXTURE_DIR });
    e = await cliEnv(fake.url);
  });
  afterAll(async () => {
    await fake?.close();
    await e?.done();
  });

  const storedIds = () => e.withDb(async (pool) => (await pool.query<{ nct_id: string }>('select nct_id from ctgov.studies order by 1')).rows.map((r) => r.nct_id));
  const run = (args: string[]) => runCli(args, { cwd: e.cwd, env: e.env });

  it('a query matching more than sync.maxQueryStudies stops after its first page, stores nothing and says how many it matched', async () => {
    fake.resetCounts();
    const r = await run(['sync', '--query', 'stem cells', '--max', '3']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^ctgov-sync: query "stem cells" matches (\d+) studies, more than the limit of 3 \(sync\.maxQueryStudies\): narrow the query, or raise the limit for one run with --max \1\n$/m);
    expect(fake.requests.filter((q) => q.path === '/studies')).toHaveLength(1);
    expect(await storedIds()).toEqual([]);

    const bad = await run(['sync', '--query', 'stem cells', '--max', '0']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^ctgov-sync: --max: expected a positive whole number, got "0"$/m);
  });

  it("README's query.term & query.locn example works against the offline server", async () => {
    const r = await run(['sync', '--query', 'query.term=stem cells&query.locn=Spain']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const stored = await storedIds();
    expect(stored.length).toBeGreaterThan(0);
    expect(r.stdout).toMatch(new RegExp(`^sync run \\d+ succeeded: ${stored.length} stud(y|ies) stored`));
    const countries = await e.withDb(async (pool) =>
      (await pool.query<{ nct_id: string; n: number }>("select nct_id, count(*)::int as n from ctgov.locations where country = 'Spain' group by 1")).rows,
    );
    expect(countries.map((c) => c.nct_id).sort()).toEqual(stored);
  });

  it('a run that stored studies and then failed exits 1 and says what was stored and what failed', async () => {
    const before = await storedIds();
    // query.titles is a real CT.gov parameter the offline server refuses with HTTP 400.
    const r = await run(['sync', '--query', 'stem cells', '--query', 'query.titles=ALS']);
    expect(r.code).toBe(1);
    const m = /^sync run (\d+) failed after storing (\d+) studies — (\d+) new, 0 changed, (\d+) unchanged, 0 removed, 0 failed$/m.exec(r.stdout);
    expect(m, r.stdout).not.toBeNull();
    const after = await storedIds();
    expect(Number(m![3])).toBe(after.length - before.length);
    expect(Number(m![2])).toBeGreaterThan(before.length);
    expect(r.stderr).toMatch(/^ctgov-sync: GET .*query\.titles=ALS.* HTTP 400.* \(what was stored before it is kept\)$/m);
    const runs = await e.withDb(async (pool) => (await pool.query('select status, error from ctgov.sync_runs where id = $1', [Number(m![1])])).rows);
    expect(runs).toEqual([{ status: 'failed', error: expect.stringMatching(/HTTP 400/) }]);
  });
});
