import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listStudyFiles, readStudyFiles } from '../../src/pipeline/readStudyFiles.js';
import { runBatches } from '../../src/pipeline/runBatches.js';
import { CTGOV_FIXTURE_DIR } from '../support/ctgovFixtures.js';
import { repoRoot } from '../support/cli.js';
import { openTestDatabase, silentLog, type TestDatabase } from '../support/testDb.js';

/**
 * The README's "Querying change history" examples: loads the same data the README describes,
 * runs every SQL block as printed, and compares the printed output. Keeps the README true.
 */
const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
const section = readme.slice(readme.indexOf('## Querying change history'), readme.indexOf('## The mirror'));
const examples = [...section.matchAll(/```sql\n([\s\S]*?)```\n```\n([\s\S]*?)```/g)].map((m) => ({ sql: m[1]!, output: m[2]! }));

function printedRows(output: string): string[][] {
  const lines = output.trimEnd().split('\n');
  return lines.slice(2).map((l) => l.split('|').map((c) => c.trim()));
}

describe('README example queries', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await openTestDatabase();
    const loads: Array<[string, string]> = [
      [join(CTGOV_FIXTURE_DIR, 'versions'), '2026-11-10T06:00:00Z'],
      [CTGOV_FIXTURE_DIR, '2026-11-20T06:00:00Z'],
      [join(repoRoot, 'tests', 'fixtures', 'edits'), '2026-11-21T06:00:00Z'],
    ];
    for (const [dir, at] of loads) {
      await runBatches(
        { pool: t.db.pool, log: silentLog },
        { job: 'import', trigger: 'import', observedAt: new Date(at) },
        readStudyFiles(await listStudyFiles([dir]), 200),
      );
    }
  });
  afterAll(async () => {
    await t.close();
  });

  it('has the examples it promises', () => {
    expect(examples.length).toBeGreaterThanOrEqual(5);
  });

  it('runs every example as printed and prints what the README shows', async () => {
    const client = await t.db.pool.connect();
    try {
      await client.query("set timezone = 'UTC'");
      for (const ex of examples) {
        // Rows as text, exactly as psql shows them.
        const result = await client.query({ text: ex.sql, rowMode: 'array', types: { getTypeParser: () => (v: string) => v } });
        // Windows end at a fixed instant, so every example's output holds on any day.
        expect(ex.sql).not.toMatch(/now\(\)/);
        const rows = (result.rows as Array<Array<string | null>>).map((r) => r.map((v) => v ?? ''));
        expect({ sql: ex.sql, rows }).toEqual({ sql: ex.sql, rows: printedRows(ex.output) });
      }
    } finally {
      client.release();
    }
  });
});
