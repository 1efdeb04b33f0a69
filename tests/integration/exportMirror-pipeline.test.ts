import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NctId } from '../../src/ctgov/nctId.js';
import { parseCtgovStudy } from '../../src/ctgov/schema.js';
import { InputError } from '../../src/errors.js';
import { renderMirrorPage, type MirrorChange, type MirrorSettings } from '../../src/mirror/render.js';
import { DEFAULT_MIRROR_SETTINGS } from '../support/mirrorSettings.js';
import { exportAll, exportPages, type MirrorTarget } from '../../src/pipeline/exportMirror.js';
import { runBatches, type SourceBatch } from '../../src/pipeline/runBatches.js';
import type { ChangeKind } from '../../src/studies/model.js';
import { normalizeStudy } from '../../src/studies/normalize.js';
import { fixtureIds, readFixture } from '../support/ctgovFixtures.js';
import { openTestDatabase, silentLog, type TestDatabase } from '../support/testDb.js';

/*
 * The export reads in chunks (the next one while the current one is written), writes several
 * pages at once, selects only the changes a page can show and leaves the results modules in the
 * database. None of that may show in the pages: each one must be byte for byte what rendering
 * the study's whole record with all its changes gives, and the counts must be exact.
 */

type Raw = Record<string, any>;

const DAY = 86_400_000;
const T_OLD = new Date('2026-03-01T09:00:00.000Z'); // outside the window at NOW
const T_FIRST = new Date('2026-04-20T10:30:00.123Z');
const T_SECOND = new Date('2026-05-10T23:59:59.999Z');
const NOW = new Date('2026-05-12T07:19:35.732Z');
const T_LATER = new Date('2026-06-01T00:00:00.000Z'); // first seen after NOW: skipped

// More than one prefix entry, a duplicate and an exact path under a prefix: the query's path
// filter must keep exactly what the renderer's ranking keeps.
const SETTINGS: MirrorSettings = {
  ...DEFAULT_MIRROR_SETTINGS,
  mirroredPaths: ['status.*', 'design.enrollmentCount', 'locations.*', 'status.overallStatus', 'eligibility.sex', 'design.enrollmentCount', 'results.hasResults'],
};

async function ingest(t: TestDatabase, records: Raw[], at: Date): Promise<void> {
  const source = (async function* (): AsyncGenerator<SourceBatch> {
    for (let i = 0; i < records.length; i += 40) yield { records: records.slice(i, i + 40).map((raw) => ({ raw })), failures: [] };
  })();
  const summary = await runBatches({ pool: t.db.pool, log: silentLog }, { job: 'test', trigger: 'cli', observedAt: at }, source);
  expect(summary.status).toBe('succeeded');
}

/** The page the slow, obvious way: the whole current record, every change of the study. */
async function expectedPage(t: TestDatabase, id: NctId, settings: MirrorSettings): Promise<string | undefined> {
  const { rows } = await t.db.pool.query<{ raw: unknown; last_seen_at: Date }>(
    `select v.raw, least(s.last_seen_at, $2) as last_seen_at
       from ctgov.studies s join ctgov.study_versions v using (nct_id)
      where s.nct_id = $1 and v.first_seen_at <= $2
      order by v.first_seen_at desc, v.id desc limit 1`,
    [id, NOW],
  );
  if (rows.length === 0) return undefined;
  const changes = await t.db.pool.query<{ path: string; kind: ChangeKind; detected_at: Date }>(
    'select path, kind, detected_at from ctgov.field_changes where nct_id = $1',
    [id],
  );
  const all: MirrorChange[] = changes.rows.map((c) => ({ path: c.path, kind: c.kind, detectedAt: c.detected_at }));
  const study = normalizeStudy(parseCtgovStudy(rows[0]!.raw));
  return renderMirrorPage({ study, changes: all, lastSeenAt: rows[0]!.last_seen_at, now: NOW, settings });
}

describe('mirror export pipeline', () => {
  let t: TestDatabase;
  let root: string;
  const ids = fixtureIds();
  const fixtures = ids.map((id) => readFixture(id) as Raw);
  const late = structuredClone(fixtures[0]!);
  late.protocolSection.identificationModule.nctId = 'NCT09999998';
  const lateId = 'NCT09999998' as NctId;

  beforeAll(async () => {
    t = await openTestDatabase();
    root = mkdtempSync(join(tmpdir(), 'export-pipeline-'));
    // A few studies with changes that have left the window by NOW, the rest first seen inside it.
    await ingest(t, fixtures.slice(0, 10), T_OLD);
    await ingest(t, fixtures, T_FIRST);
    // Then a sync that changes status, enrollment and sites of every third study.
    const changed = fixtures.filter((_, i) => i % 3 === 0).map((raw, i) => {
      const copy = structuredClone(raw);
      copy.protocolSection.statusModule ??= {};
      copy.protocolSection.statusModule.overallStatus = i % 2 ? 'COMPLETED' : 'ACTIVE_NOT_RECRUITING';
      copy.protocolSection.designModule ??= {};
      copy.protocolSection.designModule.enrollmentInfo = { count: 1000 + i, type: 'ACTUAL' };
      copy.protocolSection.contactsLocationsModule ??= {};
      const sites = copy.protocolSection.contactsLocationsModule.locations ?? [];
      copy.protocolSection.contactsLocationsModule.locations = [
        ...sites.slice(1),
        { facility: `New site ${i} \`quoted\``, city: 'Madrid', country: 'Spain' },
      ];
      return copy;
    });
    await ingest(t, changed, T_SECOND);
    await ingest(t, [late], T_LATER);
  }, 120_000);

  afterAll(async () => {
    await t?.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('has fixtures with results modules, which the export leaves in the database', async () => {
    const withResults = fixtures.filter((raw) => raw.resultsSection?.outcomeMeasuresModule).map((raw) => raw.protocolSection.identificationModule.nctId as NctId);
    expect(withResults.length).toBeGreaterThan(10);
    const stored = await t.db.pool.query<{ nct_id: string }>(
      `select distinct nct_id from ctgov.study_versions where nct_id = any($1::text[]) and raw->'resultsSection' ? 'outcomeMeasuresModule'`,
      [withResults],
    );
    expect(stored.rows.map((r) => r.nct_id).sort()).toEqual([...withResults].sort());

    // Every record the export reads, seen through the pool it is given.
    const read: Raw[] = [];
    const pool = {
      query: async (...args: unknown[]) => {
        const res = await (t.db.pool.query as (...a: unknown[]) => Promise<pg.QueryResult>)(...args);
        for (const row of res.rows) if ('raw' in row) read.push(typeof row.raw === 'string' ? JSON.parse(row.raw) : row.raw);
        return res;
      },
    } as unknown as pg.Pool;
    const target: MirrorTarget = { dir: join(root, 'results'), settings: DEFAULT_MIRROR_SETTINGS };
    expect(await exportPages(pool, target, withResults, NOW)).toEqual({ written: withResults.length, unchanged: 0, skipped: 0 });
    expect(read.map((raw) => raw.protocolSection.identificationModule.nctId).sort()).toEqual([...withResults].sort());
    const resultModules = ['participantFlowModule', 'baselineCharacteristicsModule', 'outcomeMeasuresModule', 'adverseEventsModule', 'moreInfoModule'];
    expect(read.flatMap((raw) => Object.keys(raw.resultsSection ?? {}).filter((k) => resultModules.includes(k)))).toEqual([]);
    for (const id of withResults.slice(0, 5)) {
      expect(readFileSync(join(target.dir, `${id}.md`), 'utf8'), id).toBe(await expectedPage(t, id, DEFAULT_MIRROR_SETTINGS));
    }
  });

  it('writes every page exactly as rendering the whole record would, over many small chunks', async () => {
    const target: MirrorTarget = { dir: join(root, 'pages'), settings: SETTINGS };
    const wanted = [...ids, lateId];
    const counts = await exportPages(t.db.pool, target, wanted, NOW, { chunkSize: 7, writers: 5 });
    expect(counts).toEqual({ written: ids.length, unchanged: 0, skipped: 1 });
    expect(readdirSync(target.dir).sort()).toEqual(ids.map((id) => `${id}.md`));
    for (const id of ids) {
      expect(readFileSync(join(target.dir, `${id}.md`), 'utf8'), id).toBe(await expectedPage(t, id, SETTINGS));
    }
    // Some pages do show changes from the second sync, on several mirrored paths.
    const shown = ids.map((id) => readFileSync(join(target.dir, `${id}.md`), 'utf8')).join('\n');
    expect(shown).toContain('`status.overallStatus` — changed _(2026-05-10)_');
    expect(shown).toContain('`design.enrollmentCount` — changed _(2026-05-10)_');
    expect(shown).toMatch(/`` locations\.new site \d+ `quoted`\|madrid\|\|spain `` — added _\(2026-05-10\)_/);

    const again = await exportPages(t.db.pool, target, wanted, NOW, { chunkSize: 7, writers: 5 });
    expect(again).toEqual({ written: 0, unchanged: ids.length, skipped: 1 });
  });

  it('exportAll gives the same pages and counts with the default settings, one chunk or many', async () => {
    const many: MirrorTarget = { dir: join(root, 'all-many'), settings: DEFAULT_MIRROR_SETTINGS };
    const one: MirrorTarget = { dir: join(root, 'all-one'), settings: DEFAULT_MIRROR_SETTINGS };
    expect(await exportAll(t.db.pool, many, NOW, silentLog, { chunkSize: 11, writers: 3 })).toEqual({ written: ids.length, unchanged: 0, skipped: 1 });
    expect(await exportAll(t.db.pool, one, NOW, silentLog)).toEqual({ written: ids.length, unchanged: 0, skipped: 1 });
    const files = readdirSync(many.dir).sort();
    expect(files).toEqual([...ids.map((id) => `${id}.md`), 'index.md'].sort());
    expect(readdirSync(one.dir).sort()).toEqual(files);
    for (const file of files) expect(readFileSync(join(many.dir, file)).equals(readFileSync(join(one.dir, file))), file).toBe(true);
    for (const id of ids.slice(0, 40)) {
      expect(readFileSync(join(many.dir, `${id}.md`), 'utf8'), id).toBe(await expectedPage(t, id, DEFAULT_MIRROR_SETTINGS));
    }
  });

  it('counts a page whose bytes changed as written and leaves the others alone', async () => {
    const target: MirrorTarget = { dir: join(root, 'partial'), settings: DEFAULT_MIRROR_SETTINGS };
    await exportPages(t.db.pool, target, ids, NOW, { chunkSize: 9 });
    writeFileSync(join(target.dir, `${ids[3]}.md`), 'stale\n');
    writeFileSync(join(target.dir, `${ids[50]}.md`), 'stale\n');
    expect(await exportPages(t.db.pool, target, ids, NOW, { chunkSize: 9 })).toEqual({ written: 2, unchanged: ids.length - 2, skipped: 0 });
  });

  it('fails with a read error that comes while the previous chunk is being written', async () => {
    const target: MirrorTarget = { dir: join(root, 'read-fails'), settings: DEFAULT_MIRROR_SETTINGS };
    // The third query is the second chunk's first: it fails at once, long before the first
    // chunk's pages are on disk. The failure must be neither lost nor reported as unhandled.
    let queries = 0;
    const failing = new Error('connection lost');
    const pool = {
      query: (...args: unknown[]) => (++queries === 3 ? Promise.reject(failing) : (t.db.pool.query as (...a: unknown[]) => unknown)(...args)),
    } as unknown as pg.Pool;
    await expect(exportPages(pool, target, ids, NOW, { chunkSize: 10, writers: 2 })).rejects.toBe(failing);
    expect(readdirSync(target.dir).sort()).toEqual(ids.slice(0, 10).map((id) => `${id}.md`));
  });

  it('fails with the write error, after the writes and reads under way have finished', async () => {
    const target: MirrorTarget = { dir: join(root, 'broken'), settings: DEFAULT_MIRROR_SETTINGS };
    mkdirSync(target.dir);
    // A folder where a page belongs: reading it back fails (EISDIR), in the middle of a chunk.
    const blocked = ids[20]!;
    mkdirSync(join(target.dir, `${blocked}.md`));
    const err = await exportPages(t.db.pool, target, ids, NOW, { chunkSize: 8, writers: 4 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toContain(target.dir);
    const pages = readdirSync(target.dir);
    // Nothing beyond the failing chunk's neighbours was started, and no temp file is left.
    expect(pages.filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(pages.length).toBeLessThan(ids.length);
    expect(pages).toContain(`${ids[0]}.md`);
  });
});
