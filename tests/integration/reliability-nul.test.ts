import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { cliEnv, type CliEnv } from '../support/cliEnv.js';
import { baseStudy, pathIdStudy } from '../support/hostileStudies.js';

// Postgres text cannot hold U+0000: the quarantine record of such a study must still be stored.
describe('a quarantined record whose nctId holds U+0000', () => {
  let e: CliEnv;
  beforeAll(async () => {
    e = await cliEnv(undefined);
  });
  afterAll(async () => {
    await e.done();
  });

  it('is quarantined like any invalid record; the rest of the batch is stored and the run finishes', async () => {
    const dir = join(e.cwd, 'files');
    mkdirSync(dir);
    writeFileSync(join(dir, 'studies.json'), JSON.stringify([baseStudy('NCT69999971'), pathIdStudy('NCT00000410\u0000../x')]));
    const r = await runCli(['import', dir], { cwd: e.cwd, env: e.env });
    expect(r.stderr).not.toMatch(/^ctgov-sync:/m); // quarantine warnings are logged, but no error stops the run
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/: 1 study stored — 1 new, .* 1 failed/);
    await e.withDb(async (pool) => {
      expect((await pool.query('select nct_id from ctgov.studies')).rows).toEqual([{ nct_id: 'NCT69999971' }]);
      expect((await pool.query('select stage from ctgov.sync_failures')).rows).toEqual([{ stage: 'validate' }]);
    });
  });
});
