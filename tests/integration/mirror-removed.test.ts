import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CTGOV_SEED_DIR } from '../support/ctgovFixtures.js';
import { runCli } from '../support/cli.js';
import { cliEnv, type CliEnv } from '../support/cliEnv.js';
import { startFakeCtgov, type FakeCtgov } from '../support/fakeCtgov.js';

/* A study CT.gov stops returning (404) must not look alive on its page or in index.md. */

describe('a study removed from CT.gov, in the mirror (real process, fake CT.gov)', () => {
  let fake: FakeCtgov;
  let e: CliEnv;

  beforeAll(async () => {
    fake = await startFakeCtgov({ dir: CTGOV_SEED_DIR });
    e = await cliEnv(fake.url);
  });
  afterAll(async () => {
    await fake?.close();
    await e?.done();
  });

  it('the next sync rewrites its page with a removal banner and removed_at, and index.md lists it as removed', async () => {
    const ids = ['NCT00855400', 'NCT02286011'];
    const first = await runCli(['sync', ...ids], { cwd: e.cwd, env: e.env });
    expect(first.code, first.stderr).toBe(0);
    const before = readFileSync(join(e.mirrorDir, 'NCT00855400.md'), 'utf8');
    expect(before).not.toContain('Removed from ClinicalTrials.gov');

    expect(fake.removeStudy('NCT00855400')).toBe(true);
    const second = await runCli(['sync', ...ids], { cwd: e.cwd, env: e.env });
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toMatch(/1 removed/);

    const page = readFileSync(join(e.mirrorDir, 'NCT00855400.md'), 'utf8');
    const removedAt = await e.withDb(async (pool) => (await pool.query("select removed_at from ctgov.studies where nct_id = 'NCT00855400'")).rows[0].removed_at as Date);
    const fm = parse(page.slice(4, page.indexOf('\n---\n') + 1)) as Record<string, unknown>;
    expect(fm.removed_at).toBe(removedAt.toISOString());
    expect(fm.overall_status).toBe('COMPLETED');
    expect(page).toContain(`> **Removed from ClinicalTrials.gov on ${removedAt.toISOString().slice(0, 10)}.** CT.gov no longer returns this study; this page shows its last known record. Last known status: COMPLETED.`);

    const index = readFileSync(join(e.mirrorDir, 'index.md'), 'utf8');
    expect(index).toMatch(/\| \[NCT00855400\]\(NCT00855400\.md\) \| .* \| REMOVED \d{4}-\d{2}-\d{2} \(last known: COMPLETED\) \|/);
    expect(index).not.toMatch(/NCT02286011.*REMOVED/);
    expect(readFileSync(join(e.mirrorDir, 'NCT02286011.md'), 'utf8')).not.toContain('Removed from');
  });
});
