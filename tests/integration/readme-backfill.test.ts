import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBackfill } from '../../src/backfill/backfillRun.js';
import { ctgovClientFromConfig } from '../../src/ctgovClient.js';
import { loadConfig } from '../../src/config.js';
import type { CtgovClient } from '../../src/ctgov/client.js';
import type { NctId } from '../../src/ctgov/nctId.js';
import { syncPlan } from '../../src/pipeline/syncPlan.js';
import { repoRoot } from '../support/cli.js';
import { startFakeCtgov, type FakeCtgov } from '../support/fakeCtgov.js';
import { openTestDatabase, silentLog, type TestDatabase } from '../support/testDb.js';

/**
 * The README's "History backfill" examples: the demo data it describes (a sync, then a backfill,
 * from the fake CT.gov serving tests/fixtures/ctgov/history/demo), every SQL block run as
 * printed, and its output compared with the README's.
 */
const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
const start = readme.indexOf('## History backfill');
const section = readme.slice(start, readme.indexOf('\n## ', start + 1));
const examples = [...section.matchAll(/```sql\n([\s\S]*?)```\n```\n([\s\S]*?)```/g)].map((m) => ({ sql: m[1]!, output: m[2]! }));
const DEMO = join(repoRoot, 'tests', 'fixtures', 'ctgov', 'history', 'demo');

function printedRows(output: string): string[][] {
  return output.trimEnd().split('\n').slice(2).map((l) => l.split('|').map((c) => c.trim()));
}

describe('README history backfill examples', () => {
  let t: TestDatabase;
  let fake: FakeCtgov;
  let client: CtgovClient;
  beforeAll(async () => {
    [t, fake] = await Promise.all([openTestDatabase(), startFakeCtgov({ dir: DEMO, historyDir: DEMO })]);
    const config = loadConfig({ CTGOV_BASE_URL: fake.url, MIRROR_DIR: join(repoRoot, 'unused-mirror') });
    config.mirror.enabled = false;
    client = ctgovClientFromConfig(config, silentLog);
    const app = { config, log: silentLog, db: t.db, clock: () => new Date(), close: async () => undefined };
    const signal = new AbortController().signal;
    await syncPlan(app, client, { ids: ['NCT02569060', 'NCT00329836'] as NctId[], queries: [] }, { source: 'cli', trigger: 'cli', signal });
    const summary = await runBackfill({ pool: t.db.pool, log: silentLog, history: client.history }, { ids: ['NCT00329836', 'NCT02569060'] as NctId[], trigger: 'cli', observedAt: new Date() });
    expect(summary.backfilled).toBe(2);
  });
  afterAll(async () => {
    await client?.close();
    await fake?.close();
    await t?.close();
  });

  it('has the three kinds of examples it promises', () => {
    expect(examples.length).toBeGreaterThanOrEqual(4);
  });

  it('runs every example as printed and prints what the README shows', async () => {
    const db = await t.db.pool.connect();
    try {
      await db.query("set timezone = 'UTC'");
      for (const ex of examples) {
        const result = await db.query({ text: ex.sql, rowMode: 'array', types: { getTypeParser: () => (v: string) => v } });
        const rows = (result.rows as Array<Array<string | null>>).map((r) => r.map((v) => v ?? ''));
        expect({ sql: ex.sql, rows }).toEqual({ sql: ex.sql, rows: printedRows(ex.output) });
      }
    } finally {
      db.release();
    }
  });
});
