import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CTGOV_FIXTURE_DIR, CTGOV_SEED_DIR, readFixture } from '../support/ctgovFixtures.js';
import { runCli } from '../support/cli.js';
import { startFakeCtgov, type FakeCtgov } from '../support/fakeCtgov.js';
import { createServerDatabase } from '../support/testDb.js';

describe('ctgov-sync sync against the fake CT.gov (real processes, real HTTP)', () => {
  let fake: FakeCtgov;
  let cwd: string;
  let env: Record<string, string>;
  let drop: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    fake = await startFakeCtgov({ dir: CTGOV_FIXTURE_DIR });
    fake.setStudy(readFixture('NCT00855400', CTGOV_SEED_DIR));
    fake.setStudy(readFixture('NCT02286011', CTGOV_SEED_DIR));
    cwd = mkdtempSync(join(tmpdir(), 'ctgov-sync-'));
    const server = await createServerDatabase();
    drop = server?.drop;
    writeFileSync(join(cwd, 'config.json'), JSON.stringify({ ctgov: { rateLimitPerMinute: 6000, retry: { baseDelayMs: 10 } } }));
    env = {
      ...(server ? { DATABASE_URL: server.url } : { DATA_DIR: join(cwd, 'data') }),
      CTGOV_BASE_URL: fake.url,
      MIRROR_DIR: join(cwd, 'mirror'),
      CONFIG_FILE: join(cwd, 'config.json'),
    };
  });
  afterAll(async () => {
    await fake.close();
    await drop?.();
  });

  it('syncs the configured watchlist when given no IDs, and writes the mirror', async () => {
    const r = await runCli(['sync'], { cwd, env });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^sync run \d+ succeeded: 2 studies stored — 2 new, 0 changed/);
    expect(readFileSync(join(cwd, 'mirror', 'NCT00855400.md'), 'utf8')).toMatch(/^---\ntitle: Clinical Trial on the Use of Autologous/);
    expect(existsSync(join(cwd, 'mirror', 'NCT02286011.md'))).toBe(true);
    expect(existsSync(join(cwd, 'mirror', 'index.md'))).toBe(true);
  });

  it('syncs IDs from arguments, a file and a query; reports an unknown ID and exits 1', async () => {
    writeFileSync(join(cwd, 'ids.txt'), '# two studies\nNCT00000410, nct00162175\n');
    fake.resetCounts();
    const r = await runCli(['sync', 'NCT99999999', '--file', 'ids.txt', '--query', 'cond=cluster headache'], { cwd, env });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/failed NCT99999999 at fetch: NCT99999999 not found on ClinicalTrials.gov/);
    const stored = Number(/: (\d+) studies stored/.exec(r.stdout)?.[1]);
    expect(stored).toBeGreaterThan(2);
    // One filter.ids request for the three IDs, one lookup for the missing one, and the query pages.
    const byIds = fake.requests.filter((q) => q.path === '/studies' && q.query['filter.ids']);
    expect(byIds).toHaveLength(1);
    expect(fake.requests.filter((q) => q.path === '/studies/NCT99999999')).toHaveLength(1);
  });

  it('records a change made on CT.gov between two syncs, and nothing on a third', async () => {
    const edited = readFixture('NCT00855400', CTGOV_SEED_DIR) as Record<string, any>;
    edited.protocolSection.statusModule.overallStatus = 'TERMINATED';
    edited.protocolSection.statusModule.whyStopped = 'Funding ended';
    fake.setStudy(edited);
    const second = await runCli(['sync', 'NCT00855400'], { cwd, env });
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/: 1 study stored — 0 new, 1 changed/);
    const history = await runCli(['history', 'NCT00855400', '--path', 'status.*', '--json'], { cwd, env });
    const changes = (JSON.parse(history.stdout) as Array<{ path: string; kind: string; oldValue: unknown; newValue: unknown }>).filter(
      (c) => c.kind !== 'added' || c.path === 'status.whyStopped',
    );
    expect(changes.map(({ path, kind, oldValue, newValue }) => ({ path, kind, oldValue, newValue }))).toEqual([
      { path: 'status.overallStatus', kind: 'changed', oldValue: 'COMPLETED', newValue: 'TERMINATED' },
      { path: 'status.whyStopped', kind: 'added', oldValue: null, newValue: 'Funding ended' },
    ]);
    expect(readFileSync(join(cwd, 'mirror', 'NCT00855400.md'), 'utf8')).toContain('- `status.overallStatus` — changed _(');
    const third = await runCli(['sync', 'NCT00855400'], { cwd, env });
    expect(third.stdout).toMatch(/: 1 study stored — 0 new, 0 changed, 1 unchanged/);
  });

  it('exits 2 with one line on a malformed NCT ID, before contacting CT.gov', async () => {
    fake.resetCounts();
    const r = await runCli(['sync', 'NCT00855400', '../etc/passwd'], { cwd, env });
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe('ctgov-sync: invalid NCT ID "../etc/passwd": expected NCT followed by 8 digits');
    expect(fake.requests).toHaveLength(0);
  });
});
