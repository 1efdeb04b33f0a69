import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { mirrorTarget } from '../../src/pipeline/mirrorTarget.js';
import { runBatches, type SourceBatch } from '../../src/pipeline/runBatches.js';
import { syntheticStudy } from '../support/ctgovFixtures.js';
import { openTestDatabase, silentLog, type TestDatabase } from '../support/testDb.js';

/*
 * A sync commits a batch, then writes its pages. A crash in between (here: a run without the
 * mirror, which leaves the database exactly so) must not leave pages missing or stale for
 * good: the next sync writes the pages of unchanged studies whose page lags their content.
 */

type Raw = Record<string, any>;

const study = (n: number, status: string): Raw => {
  const raw = syntheticStudy(n, '2026-06-01') as Raw;
  raw.protocolSection.statusModule.overallStatus = status;
  return raw;
};

async function* from(records: Raw[]): AsyncGenerator<SourceBatch> {
  yield { records: records.map((raw) => ({ raw })), failures: [] };
}

describe('mirror pages after a crash between commit and export', () => {
  let t: TestDatabase;
  let dir: string;
  const target = () => mirrorTarget(loadConfig({}), dir);
  const sync = (records: Raw[], observedAt: string, withMirror: boolean) =>
    runBatches(
      { pool: t.db.pool, log: silentLog, ...(withMirror ? { mirror: target() } : {}) },
      { job: 'test', trigger: 'cli', observedAt: new Date(observedAt) },
      from(records),
    );
  const page = (n: number) => join(dir, `NCT${90_000_000 + n}.md`);

  beforeAll(async () => {
    t = await openTestDatabase();
    dir = mkdtempSync(join(os.tmpdir(), 'ctgov-mirror-recovery-'));
  });
  afterAll(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes the missing page of a study stored without it, and a stale page of one changed without it', async () => {
    // 701: page written for RECRUITING, then the change to COMPLETED committed without its page.
    await sync([study(701, 'RECRUITING')], '2026-06-01T00:00:00Z', true);
    expect(readFileSync(page(701), 'utf8')).toContain('RECRUITING');
    await sync([study(701, 'COMPLETED'), study(702, 'RECRUITING')], '2026-06-02T00:00:00Z', false);
    expect(readFileSync(page(701), 'utf8')).not.toContain('COMPLETED');
    expect(existsSync(page(702))).toBe(false);

    // The next run finds both unchanged, and still writes their pages.
    const next = await sync([study(701, 'COMPLETED'), study(702, 'RECRUITING')], '2026-06-03T00:00:00Z', true);
    expect(next.counts).toMatchObject({ unchanged: 2, changed: 0, inserted: 0 });
    expect(next.exported.written).toBe(2);
    expect(readFileSync(page(701), 'utf8')).toContain('COMPLETED');
    expect(existsSync(page(702))).toBe(true);

    // Then they are current: the run after writes nothing.
    const after = await sync([study(701, 'COMPLETED'), study(702, 'RECRUITING')], '2026-06-04T00:00:00Z', true);
    expect(after.exported).toMatchObject({ written: 0, unchanged: 0 });
    const { rows } = await t.db.pool.query('select count(*)::int as n from ctgov.studies where mirrored_hash is distinct from content_hash');
    expect(rows[0].n).toBe(0);
  });
});
