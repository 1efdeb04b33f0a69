import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliResult } from '../support/cli.js';
import { cliEnv, type CliEnv } from '../support/cliEnv.js';
import { startFakeCtgov, type FakeCtgov } from '../support/fakeCtgov.js';
import {
  baseStudy,
  BREAKOUT_CRITERIA,
  BREAKOUT_TITLE,
  breakoutStudy,
  pathIdStudy,
  SQL_TITLE,
  sqlStudy,
} from '../support/hostileStudies.js';
import { pageProblems, parseMirrorPage } from '../support/mirrorPage.js';

/*
 * Hostile data: text written to break out of the page's YAML front matter or its fenced criteria
 * block, SQL metacharacters in titles and in --query, and path-like NCT IDs in records (from files
 * and from the API). Pages must stay valid, files inside MIRROR_DIR, the database intact.
 */

const ID = { breakout: 'NCT69999981', sql: 'NCT69999982', target: 'NCT69999983', neighbour: 'NCT69999984' };
// (An ID holding U+0000 is left out here: it fails the whole run, see the report's bug list.)
const PATH_IDS = ['../../etc/x', '../x', 'NCT00000410/../../../x', '/etc/passwd', 'NCT00000410%2F..%2Fx', 'C:\\Windows\\x'];
const MARKER = 'Hostile Marker Condition';

let fake: FakeCtgov;
let e: CliEnv;
let imported: CliResult;
let synced: CliResult;

beforeAll(async () => {
  const target = baseStudy(ID.target);
  const neighbour = baseStudy(ID.neighbour);
  for (const s of [target, neighbour]) s.protocolSection.conditionsModule.conditions = [MARKER];
  fake = await startFakeCtgov({ studies: [target, neighbour] });
  // CT.gov (or whatever answers in its place) sends a record whose nctId is a path, wherever
  // ID.target would be: in the filter.ids answer, the /studies/{id} lookup and the query answer.
  fake.injectFaults({
    kind: 'invalidRecord',
    path: '/studies',
    transform: (raw) => ((raw as any).protocolSection.identificationModule.nctId === ID.target ? pathIdStudy('../../etc/y') : raw),
  });
  e = await cliEnv(fake.url);

  const dir = join(e.cwd, 'files');
  mkdirSync(dir);
  writeFileSync(join(dir, 'breakout.json'), JSON.stringify(breakoutStudy(ID.breakout)));
  writeFileSync(join(dir, 'sql.json'), JSON.stringify(sqlStudy(ID.sql)));
  writeFileSync(join(dir, 'paths.json'), JSON.stringify(PATH_IDS.map((id) => pathIdStudy(id))));
  imported = await runCli(['import', dir], { cwd: e.cwd, env: e.env });
  synced = await runCli(
    ['sync', ID.target, ID.neighbour, '--query', `cond=${MARKER}`, '--query', "cond=x'); drop table ctgov.studies; --", '--query', 'term=%\' OR 1=1 --'],
    { cwd: e.cwd, env: e.env },
  );
});

afterAll(async () => {
  await fake?.close();
  await e?.done();
});

describe('hostile data', () => {
  it('a record whose nctId is a path is quarantined, from a file or from the API, and never becomes a file', async () => {
    expect(imported.code, imported.stderr).toBe(1);
    expect(imported.stdout).toMatch(/: 2 studies stored — 2 new, .* 6 failed/);
    expect(synced.code, synced.stderr).toBe(1);
    expect(synced.stdout).toMatch(/: 2 studies stored — 1 new, 0 changed, 1 unchanged, 0 removed, 2 failed/);
    expect(synced.stdout).toContain(`failed ${ID.target} at validate: CT.gov answered with a record that has no readable nctId`);
    await e.withDb(async (pool) => {
      const failures = (await pool.query('select nct_id, stage, error from ctgov.sync_failures order by id')).rows;
      expect(failures).toHaveLength(8);
      for (const f of failures) expect(f).toMatchObject({ stage: 'validate', error: expect.stringMatching(/nctId/) });
      const ids = (await pool.query<{ nct_id: string }>('select nct_id from ctgov.studies order by nct_id')).rows.map((r) => r.nct_id);
      expect(ids).toEqual([ID.breakout, ID.sql, ID.neighbour].sort());
    });
    for (const id of [...PATH_IDS, '../../etc/y']) {
      expect(existsSync(resolve(e.mirrorDir, `${id}.md`)), id).toBe(false);
    }
    expect(readdirSync(e.mirrorDir).sort()).toEqual(['index.md', ...[ID.breakout, ID.sql, ID.neighbour].map((id) => `${id}.md`)].sort());
    expect(readdirSync(e.cwd).sort()).toEqual(['config.json', 'files', 'mirror', ...(e.databaseUrl ? [] : ['data'])].sort());
  });

  it('text written to break out of the front matter or the criteria fence stays where it belongs', () => {
    const text = readFileSync(join(e.mirrorDir, `${ID.breakout}.md`), 'utf8');
    expect(pageProblems(text, ID.breakout)).toEqual([]);
    const page = parseMirrorPage(text);
    expect(page.frontMatter).toMatchObject({
      title: BREAKOUT_TITLE,
      nct_id: ID.breakout,
      overall_status: 'COMPLETED',
      sponsor: "&anchor *alias !tag | > % @ ` {flow: [seq]}",
      primary_condition: '---',
    });
    expect(page.fenced).toEqual([BREAKOUT_CRITERIA]);
    for (const id of [ID.sql, ID.neighbour]) expect(pageProblems(readFileSync(join(e.mirrorDir, `${id}.md`), 'utf8'), id)).toEqual([]);
    const index = readFileSync(join(e.mirrorDir, 'index.md'), 'utf8').trimEnd().split('\n');
    expect(index.filter((l) => l.startsWith('| [NCT'))).toHaveLength(3);
    expect(index.slice(index.indexOf('| --- | --- | --- | --- | --- |') + 1).every((l) => l.startsWith('| [NCT'))).toBe(true);
  });

  it('SQL metacharacters in titles and queries are data: stored verbatim, the schema intact', async () => {
    expect(synced.stdout).not.toMatch(/error/i);
    await e.withDb(async (pool) => {
      const row = (await pool.query('select brief_title from ctgov.studies where nct_id = $1', [ID.sql])).rows[0];
      expect(row.brief_title).toBe(SQL_TITLE);
      const conditions = (await pool.query('select name from ctgov.conditions where nct_id = $1 order by ordinal', [ID.sql])).rows;
      expect(conditions.map((c) => c.name)).toEqual(["x' OR '1'='1", 'a"; DELETE FROM ctgov.field_changes; --']);
      const changes = (await pool.query('select count(*)::int as n from ctgov.field_changes')).rows[0].n;
      expect(changes).toBeGreaterThan(100);
    });
    const history = await runCli(['history', ID.sql, '--path', "identification.briefTitle' or '1'='1", '--json'], { cwd: e.cwd, env: e.env });
    expect(history.code, history.stderr).toBe(0);
    expect(JSON.parse(history.stdout)).toEqual([]);
    // The queries reached CT.gov as query parameters, intact.
    const conds = fake.requests.map((q) => q.query['query.cond']).filter(Boolean);
    expect(conds).toContain("x'); drop table ctgov.studies; --");
    expect(fake.requests.map((q) => q.query['query.term']).filter(Boolean)).toContain("%' OR 1=1 --");
  });
});
