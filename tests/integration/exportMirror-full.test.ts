import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NctId } from '../../src/ctgov/nctId.js';
import { parseCtgovStudy } from '../../src/ctgov/schema.js';
import type { ValuedChange } from '../../src/mirror/full/changeLines.js';
import { renderFullPage, type FullPageLimits } from '../../src/mirror/full/renderFullPage.js';
import { DEFAULT_MIRROR_SETTINGS } from '../support/mirrorSettings.js';
import { exportAll, exportPages, type MirrorTarget } from '../../src/pipeline/exportMirror.js';
import { runBatches, type SourceBatch } from '../../src/pipeline/runBatches.js';
import type { ChangeKind, Json } from '../../src/studies/model.js';
import { normalizeStudy } from '../../src/studies/normalize.js';
import { CTGOV_SEED_DIR, fixtureIds, readFixture } from '../support/ctgovFixtures.js';
import { openTestDatabase, silentLog, type TestDatabase } from '../support/testDb.js';

/*
 * The full profile through the database: the exporter must hand the renderer the whole record
 * (results modules included) and the changes' scalar values, and the page must be what
 * rendering the stored record with every stored change gives.
 */

type Raw = Record<string, any>;

const T_FIRST = new Date('2026-04-20T10:30:00.123Z');
const T_SECOND = new Date('2026-05-10T23:59:59.999Z');
const NOW = new Date('2026-05-12T07:19:35.732Z');
const LIMITS: FullPageLimits = { maxTableRows: 10, maxTableColumns: 5 };

async function ingest(t: TestDatabase, records: Raw[], at: Date): Promise<void> {
  const source = (async function* (): AsyncGenerator<SourceBatch> {
    yield { records: records.map((raw) => ({ raw })), failures: [] };
  })();
  const summary = await runBatches({ pool: t.db.pool, log: silentLog }, { job: 'test', trigger: 'cli', observedAt: at }, source);
  expect(summary.status).toBe('succeeded');
}

/** The page the slow, obvious way: the whole current record, every change with its values. */
async function expectedPage(t: TestDatabase, id: NctId): Promise<string> {
  const { rows } = await t.db.pool.query<{ raw: unknown; last_seen_at: Date }>(
    `select v.raw, least(s.last_seen_at, $2) as last_seen_at
       from ctgov.studies s join ctgov.study_versions v using (nct_id)
      where s.nct_id = $1 and v.first_seen_at <= $2
      order by v.first_seen_at desc, v.id desc limit 1`,
    [id, NOW],
  );
  const changes = await t.db.pool.query<{ path: string; kind: ChangeKind; detected_at: Date; old_value: Json | null; new_value: Json | null }>(
    'select path, kind, detected_at, old_value, new_value from ctgov.field_changes where nct_id = $1',
    [id],
  );
  const all: ValuedChange[] = changes.rows.map((c) => ({ path: c.path, kind: c.kind, detectedAt: c.detected_at, oldValue: c.old_value, newValue: c.new_value }));
  const study = normalizeStudy(parseCtgovStudy(rows[0]!.raw));
  return renderFullPage({ study, changes: all, lastSeenAt: rows[0]!.last_seen_at, now: NOW, settings: DEFAULT_MIRROR_SETTINGS, limits: LIMITS });
}

describe('mirror export, full profile', () => {
  let t: TestDatabase;
  let root: string;
  // Every fifth fixture (some with results) and the seed without results.
  const fixtures = [...fixtureIds().filter((_, i) => i % 5 === 0).map((id) => readFixture(id) as Raw), readFixture('NCT02286011', CTGOV_SEED_DIR) as Raw];
  const ids = fixtures.map((raw) => raw.protocolSection.identificationModule.nctId as NctId).sort();
  const full = (dir: string): MirrorTarget => ({ dir: join(root, dir), settings: DEFAULT_MIRROR_SETTINGS, profile: 'full', limits: LIMITS });

  beforeAll(async () => {
    t = await openTestDatabase();
    root = mkdtempSync(join(tmpdir(), 'export-full-'));
    await ingest(t, fixtures, T_FIRST);
    const changed = fixtures.filter((_, i) => i % 2 === 0).map((raw, i) => {
      const copy = structuredClone(raw);
      copy.protocolSection.statusModule.overallStatus = 'ACTIVE_NOT_RECRUITING';
      copy.protocolSection.designModule ??= {};
      copy.protocolSection.designModule.enrollmentInfo = { count: 1000 + i, type: 'ACTUAL' };
      copy.protocolSection.eligibilityModule ??= {};
      copy.protocolSection.eligibilityModule.sex = 'FEMALE';
      return copy;
    });
    await ingest(t, changed, T_SECOND);
  }, 120_000);

  afterAll(async () => {
    await t?.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('writes every page exactly as rendering the whole stored record with its changes would', async () => {
    const target = full('pages');
    expect(await exportPages(t.db.pool, target, ids, NOW, { chunkSize: 4, writers: 3 })).toEqual({ written: ids.length, unchanged: 0, skipped: 0 });
    expect(readdirSync(target.dir).sort()).toEqual(ids.map((id) => `${id}.md`));
    for (const id of ids) expect(readFileSync(join(target.dir, `${id}.md`), 'utf8'), id).toBe(await expectedPage(t, id));
  });

  it('shows the results of studies with results, and old → new values of scalar changes', async () => {
    const target = full('values');
    await exportPages(t.db.pool, target, ids, NOW);
    const withResults = fixtures.filter((raw) => raw.hasResults === true);
    expect(withResults.length).toBeGreaterThan(3);
    for (const raw of withResults) {
      const page = readFileSync(join(target.dir, `${raw.protocolSection.identificationModule.nctId}.md`), 'utf8');
      expect(page).toContain('### Participant Flow');
      expect(page).toContain('### Adverse Events');
    }
    const first = fixtures[0]!;
    const page = readFileSync(join(target.dir, `${first.protocolSection.identificationModule.nctId}.md`), 'utf8');
    expect(page).toContain(`- \`status.overallStatus\` — changed: “${first.protocolSection.statusModule.overallStatus}” → “ACTIVE_NOT_RECRUITING” _(2026-05-10)_`);
    expect(page).toContain(`— changed: ${first.protocolSection.designModule.enrollmentInfo.count} → 1000 _(2026-05-10)_`);
    // The study without results says so.
    expect(readFileSync(join(target.dir, 'NCT02286011.md'), 'utf8')).toContain('## Results\n\nResults pending');
  });

  it('rewrites nothing on a second export, and the golden profile still leaves the results out', async () => {
    const target = full('again');
    expect(await exportAll(t.db.pool, target, NOW, silentLog, { chunkSize: 5 })).toEqual({ written: ids.length, unchanged: 0, skipped: 0 });
    expect(await exportAll(t.db.pool, target, NOW, silentLog, { chunkSize: 5 })).toEqual({ written: 0, unchanged: ids.length, skipped: 0 });
    const golden: MirrorTarget = { dir: join(root, 'golden'), settings: DEFAULT_MIRROR_SETTINGS };
    await exportPages(t.db.pool, golden, ids, NOW);
    for (const id of ids) {
      const page = readFileSync(join(golden.dir, `${id}.md`), 'utf8');
      expect(page).not.toContain('## Results');
      expect(page).not.toContain('profile: full');
    }
  });
});
