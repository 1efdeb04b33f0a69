import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isDerivedPath } from '../../src/backfill/historyRecord.js';
import { runCli } from '../support/cli.js';
import { cliEnv, type CliEnv } from '../support/cliEnv.js';
import { readFixture } from '../support/ctgovFixtures.js';
import { startFakeCtgov, type FakeCtgov } from '../support/fakeCtgov.js';
import { ADDED_SITE, OLD_MEASURE, SCENARIO_DATES, SCENARIO_ID, scenarioLive, scenarioVersions } from '../support/historyScenario.js';

interface ChangeRow {
  path: string;
  kind: string;
  old_value: unknown;
  new_value: unknown;
  detected_at: string;
  source: string;
  ct_version: number | null;
  ct_last_update_post_date: string | null;
}

const rowsOf = (pool: pg.Pool, id: string) =>
  pool
    .query<ChangeRow>(
      `select path, kind, old_value, new_value, to_char(detected_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS') as detected_at,
              source, ct_version, to_char(ct_last_update_post_date, 'YYYY-MM-DD') as ct_last_update_post_date
         from ctgov.field_changes where nct_id = $1 order by detected_at, path, kind, old_value::text, new_value::text`,
      [id],
    )
    .then((r) => r.rows);

const counts = (pool: pg.Pool) =>
  pool
    .query<{ changes: number; max_change: string; versions: number; max_version: string }>(
      `select (select count(*)::int from ctgov.field_changes) as changes, (select max(id) from ctgov.field_changes) as max_change,
              (select count(*)::int from ctgov.study_versions) as versions, (select max(id) from ctgov.study_versions) as max_version`,
    )
    .then((r) => r.rows[0]!);

/** The studies of the failure-modes test: one of each, plus one that goes through untouched. */
const NOT_FOUND = 'NCT00000410';
const EMPTY = 'NCT00162175';
const MALFORMED = 'NCT00184067';
const HUGE = 'NCT00203242';
const PLAIN = 'NCT00329836';

// Each test runs several CLI processes; on the embedded database each opens PGlite anew.
describe('ctgov-sync backfill against the fake CT.gov (real processes, real HTTP)', { timeout: 300_000 }, () => {
  let fake: FakeCtgov;
  let env: CliEnv;
  let liveSeenAt: string;

  beforeAll(async () => {
    fake = await startFakeCtgov({ studies: [scenarioLive(), ...[NOT_FOUND, EMPTY, MALFORMED, HUGE, PLAIN].map((id) => readFixture(id))] });
    fake.setHistory(SCENARIO_ID, scenarioVersions());
    env = await cliEnv(fake.url);
  });
  afterAll(async () => {
    await fake.close();
    await env.done();
  });

  it('rebuilds a study first synced live as if it had been watched since version 0', async () => {
    const sync = await runCli(['sync', SCENARIO_ID], { env: env.env });
    expect(sync.code).toBe(0);
    const before = await env.withDb((pool) => rowsOf(pool, SCENARIO_ID));
    liveSeenAt = before[0]!.detected_at;
    expect(before.every((r) => r.kind === 'added' && r.source === 'live')).toBe(true);

    fake.resetCounts();
    const r = await runCli(['backfill', SCENARIO_ID], { env: env.env });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^backfill run \d+ succeeded: 1 study backfilled, 0 unchanged, 0 without history, 0 failed; 4 versions fetched, 5 requests/);
    expect(fake.requests.map((q) => q.path).sort()).toEqual([
      `/int/studies/${SCENARIO_ID}/history`,
      ...[0, 1, 2, 3].map((v) => `/int/studies/${SCENARIO_ID}/history/${v}`),
    ]);

    const rows = await env.withDb((pool) => rowsOf(pool, SCENARIO_ID));
    const at = (date: string) => rows.filter((c) => c.detected_at === `${date}T00:00:00.000`);
    const [d0, d1, d2, d3] = SCENARIO_DATES;

    // Version 0: one `added` row per path with a value, derived paths excepted, dated v0's date.
    const v0 = at(d0);
    const livePaths = before.map((c) => c.path);
    expect(v0.every((c) => c.kind === 'added' && c.source === 'history' && c.ct_version === 0 && c.ct_last_update_post_date === '2015-10-06')).toBe(true);
    expect(v0.map((c) => c.path).sort()).toEqual(livePaths.filter((p) => !isDerivedPath(p) && p !== `locations.${ADDED_SITE}`).sort());
    expect(JSON.stringify(v0)).not.toMatch(/&#x2F;|&#47;|&lt;|&gt;|<li>|<p>/);
    expect(v0.find((c) => c.path === 'eligibility.criteria')!.new_value).toBe(scenarioLive().protocolSection.eligibilityModule.eligibilityCriteria);

    // Version 1: the primary outcome edited.
    const outcome = at(d1).find((c) => c.path === 'outcomes.primary')!;
    expect(outcome).toMatchObject({ kind: 'changed', source: 'history', ct_version: 1, ct_last_update_post_date: '2017-03-03' });
    expect((outcome.old_value as any[])[0].measure).toBe(OLD_MEASURE);
    expect((outcome.new_value as any[])[0].measure).toBe(scenarioLive().protocolSection.outcomesModule.primaryOutcomes[0].measure);

    // Version 2: a site added and the status changed.
    expect(at(d2).filter((c) => c.path === `locations.${ADDED_SITE}` || c.path === 'status.overallStatus')).toMatchObject([
      { path: `locations.${ADDED_SITE}`, kind: 'added', old_value: null, ct_version: 2 },
      { path: 'status.overallStatus', kind: 'changed', old_value: 'RECRUITING', new_value: 'COMPLETED', ct_version: 2 },
    ]);
    // Version 3 only re-rendered the text: nothing.
    expect(at(d3)).toEqual([]);

    // The live observation keeps only what history cannot tell: the derived paths.
    const live = rows.filter((c) => c.detected_at === liveSeenAt);
    expect(live.length).toBeGreaterThan(0);
    expect(live.every((c) => c.source === 'live' && isDerivedPath(c.path))).toBe(true);
    const added = rows.filter((c) => c.kind === 'added').map((c) => c.path);
    expect(new Set(added).size).toBe(added.length);

    const versions = await env.withDb((pool) =>
      pool.query(`select ct_version, to_char(ct_version_date, 'YYYY-MM-DD') as date, to_char(first_seen_at at time zone 'UTC', 'YYYY-MM-DD') as seen
                    from ctgov.study_versions where nct_id = $1 and ct_version is not null order by ct_version`, [SCENARIO_ID]),
    );
    // One row per distinct content: v3 has v2's.
    expect(versions.rows).toEqual([
      { ct_version: 0, date: d0, seen: d0 },
      { ct_version: 1, date: d1, seen: d1 },
      { ct_version: 2, date: d2, seen: d2 },
    ]);
  });

  it('writes nothing and fetches only the index when run again; --force rebuilds identical rows', async () => {
    const before = await env.withDb(counts);
    const rowsBefore = await env.withDb((pool) => rowsOf(pool, SCENARIO_ID));
    fake.resetCounts();
    const again = await runCli(['backfill', SCENARIO_ID], { env: env.env });
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/0 studies backfilled, 1 unchanged.*0 versions fetched, 1 requests, 0 change rows written/);
    expect(fake.requests.map((q) => q.path)).toEqual([`/int/studies/${SCENARIO_ID}/history`]);
    expect(await env.withDb(counts)).toEqual(before);

    fake.resetCounts();
    const forced = await runCli(['backfill', SCENARIO_ID, '--force'], { env: env.env });
    expect(forced.code).toBe(0);
    expect(forced.stdout).toMatch(/1 study backfilled.*4 versions fetched, 5 requests/);
    const after = await env.withDb(counts);
    expect(after.changes).toBe(before.changes);
    expect(Number(after.max_change)).toBeGreaterThan(Number(before.max_change));
    expect(await env.withDb((pool) => rowsOf(pool, SCENARIO_ID))).toEqual(rowsBefore);
  });

  it('keeps syncing live after a backfill, and renders the study as it stood at a past date', async () => {
    const edited = scenarioLive();
    edited.protocolSection.statusModule.overallStatus = 'TERMINATED';
    fake.setStudy(edited);
    const sync = await runCli(['sync', SCENARIO_ID], { env: env.env });
    expect(sync.stdout).toMatch(/1 changed/);
    const latest = await env.withDb((pool) =>
      pool.query(`select source, old_value #>> '{}' as old from ctgov.field_changes where nct_id = $1 and path = 'status.overallStatus' order by detected_at desc limit 1`, [SCENARIO_ID]),
    );
    expect(latest.rows).toEqual([{ source: 'live', old: 'COMPLETED' }]);

    const out = join(env.cwd, 'past');
    const r = await runCli(['export', SCENARIO_ID, '--now', '2018-01-01T00:00:00Z', '--out', out], { env: env.env });
    expect(r.code).toBe(0);
    const page = readFileSync(join(out, `${SCENARIO_ID}.md`), 'utf8');
    expect(page).toContain('overall_status: RECRUITING');
    expect(page.slice(page.indexOf('## Locations'))).not.toContain('Houston Food Bank');
    expect(page).toContain('## Locations (3)');
    const now = readFileSync(join(env.mirrorDir, `${SCENARIO_ID}.md`), 'utf8');
    expect(now).toContain('overall_status: TERMINATED');
  });

  it('handles a 404 history, an empty index, a malformed version and a 4 MB version, and backfills the rest', async () => {
    const sync = await runCli(['sync', NOT_FOUND, EMPTY, MALFORMED, HUGE, PLAIN], { env: env.env });
    expect(sync.code).toBe(0);
    fake.removeHistory(NOT_FOUND);
    fake.setHistoryIndex(EMPTY, { changes: [], originalData: {}, lastUpdateVersions: {}, outcomesUpdateCount: 0 });
    const malformed = readFixture(MALFORMED);
    fake.setHistory(MALFORMED, [
      { date: '2010-01-04', study: malformed },
      { date: '2011-01-04', study: malformed, bodyText: JSON.stringify({ studyVersion: 1, record: malformed }) },
    ]);
    const huge = readFixture(HUGE) as Record<string, any>;
    const big = structuredClone(huge);
    big.protocolSection.descriptionModule.detailedDescription = 'A long description. '.repeat(200_000);
    fake.setHistory(HUGE, [{ date: '2006-01-10', study: big }, { date: '2008-05-01', study: huge }]);

    fake.resetCounts();
    // No IDs: the tracked studies never backfilled (the scenario study is done already).
    const r = await runCli(['backfill'], { env: env.env });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/2 studies backfilled, 0 unchanged, 1 without history, 2 failed/);
    expect(r.stdout).toContain(`failed ${NOT_FOUND} at history: CT.gov has no history for ${NOT_FOUND} (HTTP 404: No study ${NOT_FOUND} history summary)`);
    expect(r.stdout).toMatch(new RegExp(`failed ${MALFORMED} at history: ${MALFORMED}: unexpected history version 1 body: study: `));
    expect(fake.requests.some((q) => q.path.includes(SCENARIO_ID))).toBe(false);
    expect(Number(/(\d+) versions fetched/.exec(r.stdout)![1])).toBeGreaterThanOrEqual(3);

    await env.withDb(async (pool) => {
      const failures = await pool.query(`select nct_id, stage from ctgov.sync_failures where stage = 'history' order by nct_id`);
      expect(failures.rows).toEqual([
        { nct_id: NOT_FOUND, stage: 'history' },
        { nct_id: MALFORMED, stage: 'history' },
      ]);
      const history = await pool.query<{ nct_id: string; n: number }>(
        `select nct_id, count(*)::int as n from ctgov.field_changes where source = 'history' group by nct_id order by nct_id`,
      );
      expect(history.rows.map((x) => x.nct_id)).toEqual([HUGE, PLAIN, SCENARIO_ID].sort());
      const long = await pool.query(
        `select length(new_value #>> '{}') as n from ctgov.field_changes where nct_id = $1 and path = 'description.detailedDescription' and source = 'history' and kind = 'added'`,
        [HUGE],
      );
      expect(long.rows[0].n).toBeGreaterThanOrEqual(4_000_000);
      // The malformed study keeps its live history untouched.
      const untouched = await pool.query(`select count(*)::int as n from ctgov.field_changes where nct_id = $1 and source = 'history'`, [MALFORMED]);
      expect(untouched.rows[0].n).toBe(0);
    });
  });

  it('exits 2 with one line on bad input, before contacting CT.gov', async () => {
    fake.resetCounts();
    const bad = await runCli(['backfill', 'NCT12x'], { env: env.env });
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim()).toBe('ctgov-sync: invalid NCT ID "NCT12x": expected NCT followed by 8 digits');
    const both = await runCli(['backfill', SCENARIO_ID, '--all'], { env: env.env });
    expect(both.code).toBe(2);
    expect(both.stderr.trim()).toBe('ctgov-sync: backfill: NCT IDs (or --file) and --all exclude each other');
    expect(fake.requests).toHaveLength(0);
  });
});
