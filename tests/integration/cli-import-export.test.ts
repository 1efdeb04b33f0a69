import { cpSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { CTGOV_FIXTURE_DIR, CTGOV_SEED_DIR, fixtureIds, readFixture } from '../support/ctgovFixtures.js';
import { runCli } from '../support/cli.js';
import { createServerDatabase } from '../support/testDb.js';

/**
 * Each test gets its own database: a fresh one on the server when TEST_DATABASE_URL is set,
 * else an embedded one in its own DATA_DIR, exactly as a user would run the CLI.
 */
async function cliEnv(): Promise<{ env: Record<string, string>; cwd: string; done(): Promise<void> }> {
  const cwd = mkdtempSync(join(tmpdir(), 'ctgov-cli-'));
  const server = await createServerDatabase();
  const env: Record<string, string> = server ? { DATABASE_URL: server.url } : { DATA_DIR: join(cwd, 'data') };
  return { env: { ...env, MIRROR_DIR: join(cwd, 'mirror') }, cwd, done: async () => server?.drop() };
}

function frontMatter(text: string): Record<string, unknown> {
  const m = /^---\n([\s\S]*?)\n---\n/.exec(text);
  if (!m) throw new Error('no front matter');
  return parseYaml(m[1]!) as Record<string, unknown>;
}

describe('import then export through the CLI', () => {
  let ctx: Awaited<ReturnType<typeof cliEnv>>;
  beforeAll(async () => {
    ctx = await cliEnv();
  });
  afterAll(async () => {
    await ctx.done();
  });

  it('reproduces the golden mirror page byte for byte', async () => {
    const at = '2026-05-12T07:19:35.732Z';
    const imported = await runCli(['import', join(CTGOV_SEED_DIR, 'NCT00855400.json'), '--observed-at', at], ctx);
    expect(imported.stderr).toBe('');
    expect(imported.code).toBe(0);
    const out = join(ctx.cwd, 'golden-out');
    const exported = await runCli(['export', 'NCT00855400', '--now', at, '--out', out], ctx);
    expect(exported.code).toBe(0);
    const golden = readFileSync(join(CTGOV_SEED_DIR, 'mirror-NCT00855400.md'));
    expect(readFileSync(join(out, 'NCT00855400.md')).equals(golden)).toBe(true);
  });
});

describe('export --all over the fixtures', () => {
  let ctx: Awaited<ReturnType<typeof cliEnv>>;
  beforeAll(async () => {
    ctx = await cliEnv();
  });
  afterAll(async () => {
    await ctx.done();
  });

  it('writes one parseable page per study, and rewrites none on a second run', async () => {
    const dir = join(ctx.cwd, 'studies');
    cpSync(CTGOV_FIXTURE_DIR, dir, { recursive: true, filter: (src) => !src.includes('studies-page') && !src.includes('website-download') && !src.endsWith('versions') });
    // A hostile title, to prove the front matter stays YAML.
    const hostile = readFixture('NCT00000410') as Record<string, any>;
    hostile.protocolSection.identificationModule.nctId = 'NCT09999999';
    hostile.protocolSection.identificationModule.briefTitle = 'Phase 2: "A" #1 --- test';
    writeFileSync(join(dir, 'NCT09999999.json'), JSON.stringify(hostile));

    const imported = await runCli(['import', dir, '--observed-at', '2026-01-01T00:00:00Z'], ctx);
    expect(imported.code).toBe(0);
    expect(imported.stdout).toMatch(new RegExp(`${fixtureIds().length + 1} new, 0 changed`));

    const out = join(ctx.cwd, 'all');
    const first = await runCli(['export', '--all', '--now', '2026-01-05T00:00:00Z', '--out', out], ctx);
    expect(first.code).toBe(0);
    const pages = readdirSync(out).filter((f) => /^NCT\d{8}\.md$/.test(f));
    expect(pages).toHaveLength(fixtureIds().length + 1);
    for (const page of pages) {
      const fm = frontMatter(readFileSync(join(out, page), 'utf8'));
      expect(fm.nct_id).toBe(page.slice(0, 11));
    }
    expect(frontMatter(readFileSync(join(out, 'NCT09999999.md'), 'utf8')).title).toBe('Phase 2: "A" #1 --- test');
    expect(readFileSync(join(out, 'index.md'), 'utf8')).toContain('[NCT09999999](NCT09999999.md)');

    const mtimes = new Map(pages.map((p) => [p, statSync(join(out, p)).mtimeMs]));
    const second = await runCli(['export', '--all', '--now', '2026-01-05T00:00:00Z', '--out', out], ctx);
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/^export: 0 pages? written/);
    for (const p of pages) expect(statSync(join(out, p)).mtimeMs).toBe(mtimes.get(p));
  });

  it('exits 1 and names the study when a record in the import is invalid; the rest are stored', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ctgov-bad-'));
    const good = readFixture('NCT00162175') as Record<string, any>;
    good.protocolSection.identificationModule.nctId = 'NCT09999990';
    const bad = readFixture('NCT00162175') as Record<string, any>;
    bad.protocolSection.identificationModule.nctId = 'NCT09999991';
    bad.protocolSection.designModule = { enrollmentInfo: { count: 'many' } };
    writeFileSync(join(dir, 'batch.json'), JSON.stringify([good, bad]));
    const r = await runCli(['import', join(dir, 'batch.json')], ctx);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/1 new, .* 1 failed/);
    expect(r.stdout).toMatch(/failed NCT09999991 at validate: .*enrollmentInfo\.count/);
    const history = await runCli(['history', 'NCT09999990', '--path', 'status.overallStatus', '--json'], ctx);
    expect(JSON.parse(history.stdout)).toEqual([
      expect.objectContaining({ path: 'status.overallStatus', kind: 'added', newValue: 'COMPLETED' }),
    ]);
    const runs = await runCli(['runs', '--limit', '1'], ctx);
    expect(runs.code).toBe(0);
    const [header, latest] = runs.stdout.trim().split('\n');
    expect(header).toMatch(/^id\s+job\s+trigger\s+status/);
    expect(latest).toMatch(/^\d+\s+import\s+import\s+partial\s+\S+\s+[\d.]+\s+1\s+1\s+0\s+0\s+0\s+1\s+0$/);
  });

  it('exits 2 with one line for a bad NCT ID or a missing path, writing nothing', async () => {
    const badId = await runCli(['history', 'NCT123; drop table x'], ctx);
    expect(badId.code).toBe(2);
    expect(badId.stderr.trim()).toMatch(/^ctgov-sync: invalid NCT ID/);
    const missing = await runCli(['import', '/nonexistent/studies.json'], ctx);
    expect(missing.code).toBe(2);
    expect(missing.stderr.trim()).toBe('ctgov-sync: cannot read /nonexistent/studies.json: no such file or directory');
  });
});
