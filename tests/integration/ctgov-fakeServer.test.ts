import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeCtgov, type FakeCtgov } from '../support/fakeCtgov.js';
import { CTGOV_FIXTURE_DIR, fixtureIds, readFixture, syntheticStudy } from '../support/ctgovFixtures.js';

/* The fake must behave like CT.gov where the client depends on it; these pin that down. */

let fake: FakeCtgov;
const get = (path: string, init?: RequestInit) => fetch(`${fake.url}${path}`, { redirect: 'manual', ...init });
const json = async (path: string) => {
  const res = await get(path);
  expect(res.status).toBe(200);
  return (await res.json()) as { studies: Record<string, unknown>[]; nextPageToken?: string; totalCount?: number };
};
const idOf = (s: unknown) => (s as { protocolSection: { identificationModule: { nctId: string } } }).protocolSection.identificationModule.nctId;

beforeAll(async () => {
  fake = await startFakeCtgov({ dir: CTGOV_FIXTURE_DIR });
});
afterAll(async () => {
  await fake.close();
});

describe('fake CT.gov /studies/{id}', () => {
  it('serves a record as stored', async () => {
    const res = await get('/studies/NCT00000410');
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    expect(await res.json()).toEqual(readFixture('NCT00000410'));
  });

  it('accepts lower case and dropped leading zeros', async () => {
    expect(idOf(await (await get('/studies/nct410')).json())).toBe('NCT00000410');
  });

  it('answers 404 and 400 in text/plain like CT.gov', async () => {
    const missing = await get('/studies/NCT99999999');
    expect([missing.status, missing.headers.get('content-type'), await missing.text()]).toEqual([
      404, 'text/plain; charset=utf-8', 'NCT number NCT99999999 not found',
    ]);
    const bad = await get('/studies/04437511');
    expect([bad.status, await bad.text()]).toEqual([400, 'Parameter `nctId` has incorrect format']);
  });

  it('redirects an alias with 301 to the canonical study', async () => {
    const res = await get('/studies/NCT02380456');
    expect(res.status).toBe(301);
    expect(res.headers.get('location')).toBe('/api/v2/studies/NCT02300909');
  });

  it('rejects unknown parameters', async () => {
    const res = await get('/studies/NCT00000410?foo=1');
    expect([res.status, await res.text()]).toEqual([400, '`foo` is unknown parameter']);
  });
});

describe('fake CT.gov /studies', () => {
  it('pages with opaque tokens, totalCount on the first page only, default size 10', async () => {
    const first = await json('/studies?countTotal=true');
    expect(first.studies).toHaveLength(10);
    expect(first.totalCount).toBe(172);
    const second = await json(`/studies?countTotal=true&pageToken=${first.nextPageToken}`);
    expect(second.totalCount).toBeUndefined();
    expect(idOf(second.studies[0])).toBe(fixtureIds()[10]);
  });

  it('coerces pageSize above 1000 down to 1000 and refuses a token from another query', async () => {
    fake.setStudy(syntheticStudy(1));
    try {
      const page = await json('/studies?pageSize=5000&countTotal=true');
      expect(page.studies).toHaveLength(173);
      expect(page.nextPageToken).toBeUndefined();
    } finally {
      fake.removeStudy('NCT90000001');
    }
    const p1 = await json('/studies?query.cond=cancer&pageSize=1');
    const other = await get(`/studies?query.cond=asthma&pageSize=1&pageToken=${p1.nextPageToken}`);
    expect(other.status).toBe(400);
  });

  it('matches filter.ids against NCTId and NCTIdAlias, comma or pipe separated', async () => {
    const page = await json('/studies?filter.ids=NCT00000410%7Cnct02380456,NCT99999999&pageSize=50');
    expect(page.studies.map(idOf)).toEqual(['NCT00000410', 'NCT02300909']);
  });

  it('rejects the whole request when one filter.ids entry is malformed', async () => {
    const res = await get('/studies?filter.ids=NCT00000410,NCT1X');
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/filter\.ids.*NCT1X/);
  });

  it('filters on LastUpdatePostDate ranges', async () => {
    const all = fixtureIds().map((id) => readFixture(id));
    const date = (s: Record<string, unknown>) =>
      (s as { protocolSection: { statusModule: { lastUpdatePostDateStruct: { date: string } } } }).protocolSection.statusModule.lastUpdatePostDateStruct.date;
    const since = all.filter((s) => date(s) >= '2025-01-01').length;
    const between = all.filter((s) => date(s) >= '2020-01-01' && date(s) <= '2021-12-31').length;
    expect(since).toBeGreaterThan(0);
    expect((await json('/studies?pageSize=1000&countTotal=true&filter.advanced=AREA[LastUpdatePostDate]RANGE[2025-01-01,MAX]')).totalCount).toBe(since);
    expect((await json('/studies?pageSize=1&countTotal=true&filter.advanced=AREA%5BLastUpdatePostDate%5DRANGE%5B2020-01-01,2021-12-31%5D')).totalCount).toBe(between);
    expect((await get('/studies?filter.advanced=AREA[Phase]PHASE3')).status).toBe(400);
  });

  it('searches conditions with query.cond and the whole record with query.term', async () => {
    const cond = await json('/studies?query.cond=cluster%20headache&pageSize=1000');
    expect(cond.studies.length).toBeGreaterThanOrEqual(16); // 16 fixtures list "Cluster Headache" itself
    for (const s of cond.studies) expect(JSON.stringify((s.protocolSection as Record<string, unknown>).conditionsModule)).toMatch(/cluster headache/i);
    const term = await json('/studies?query.term=Masonic%20Cancer%20Center&pageSize=1000');
    expect(term.studies.map(idOf)).toContain('NCT00617929');
  });

  it('returns only the requested fields', async () => {
    const page = await json('/studies?filter.ids=NCT00617929&fields=NCTId,LastUpdatePostDate,InterventionName');
    expect(page.studies[0]).toEqual({
      protocolSection: {
        identificationModule: { nctId: 'NCT00617929' },
        statusModule: { lastUpdatePostDateStruct: { date: '2017-12-28' } },
        armsInterventionsModule: {
          interventions: [{ name: 'anti-thymocyte globulin' }, { name: 'rituximab' }, { name: 'clofarabine' }, { name: 'stem cell transplantation' }],
        },
      },
    });
    const bad = await get('/studies?fields=StudyDesign');
    expect([bad.status, await bad.text()]).toEqual([400, "Parameter 'fields' contains invalid field name: 'StudyDesign'"]);
  });

  it('answers unknown parameters with 400 naming them', async () => {
    const res = await get('/studies?filter.phase=PHASE3');
    expect([res.status, await res.text()]).toEqual([400, '`filter.phase` is unknown parameter']);
  });

  it('gzips when asked', async () => {
    const { request } = await import('undici');
    const res = await request(`${fake.url}/studies?pageSize=5`, { headers: { 'accept-encoding': 'gzip' } });
    expect(res.headers['content-encoding']).toBe('gzip');
    await res.body.arrayBuffer();
  });
});

describe('fake CT.gov data changes and bookkeeping', () => {
  it('serves /version and a new dataTimestamp after setDataTimestamp', async () => {
    fake.setDataTimestamp('2026-10-15T09:00:00');
    expect(await (await get('/version')).json()).toEqual({ apiVersion: '2.0.5', dataTimestamp: '2026-10-15T09:00:00' });
  });

  it('counts requests by path and forgets them on resetCounts', async () => {
    fake.resetCounts();
    await get('/version');
    await get('/studies/NCT00000410');
    await get('/studies?pageSize=1');
    expect([fake.requestCount(), fake.requestCount('/studies'), fake.requestCount('/studies/'), fake.requestCount('/version')]).toEqual([3, 2, 1, 1]);
    expect(fake.requests[1]).toMatchObject({ method: 'GET', path: '/studies/NCT00000410', status: 200 });
    fake.resetCounts();
    expect(fake.requestCount()).toBe(0);
  });

  it('removes, replaces and reloads studies', async () => {
    expect(fake.removeStudy('NCT00000410')).toBe(true);
    expect((await get('/studies/NCT00000410')).status).toBe(404);
    expect(fake.reload()).toBe(172);
    expect((await get('/studies/NCT00000410')).status).toBe(200);
  });

  it('answers 429 with Retry-After beyond its own rate limit', async () => {
    fake.setRateLimit(2, 60_000);
    try {
      const statuses = [];
      for (let i = 0; i < 3; i++) statuses.push((await get('/version')).status);
      const limited = await get('/version');
      expect(statuses).toEqual([200, 200, 429]);
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(59);
    } finally {
      fake.setRateLimit(undefined);
    }
  });
});

describe('fake CT.gov with cacheAnswers (the benchmark)', () => {
  const gunzipped = async (c: FakeCtgov, path: string) => {
    const { request } = await import('undici');
    const { gunzipSync } = await import('node:zlib');
    const res = await request(`${c.url}${path}`, { headers: { 'accept-encoding': 'gzip' } });
    expect([res.statusCode, res.headers['content-encoding']]).toEqual([200, 'gzip']);
    return JSON.parse(gunzipSync(Buffer.from(await res.body.arrayBuffer())).toString('utf8')) as { studies: unknown[] };
  };
  const title = (s: unknown) => (s as { protocolSection: { identificationModule: { briefTitle: string } } }).protocolSection.identificationModule.briefTitle;

  it('answers as without it, and again after a study changes, is removed or an alias is added', async () => {
    const cached = await startFakeCtgov({ studies: [syntheticStudy(1), syntheticStudy(2)], cacheAnswers: true });
    try {
      const path = '/studies?filter.ids=NCT90000001,NCT90000002&pageSize=10';
      expect((await gunzipped(cached, path)).studies).toEqual([syntheticStudy(1), syntheticStudy(2)]);
      // Served from the cache: same answer, however the query is spelt.
      expect((await gunzipped(cached, path)).studies).toEqual([syntheticStudy(1), syntheticStudy(2)]);
      expect((await gunzipped(cached, '/studies?pageSize=10&filter.ids=NCT90000001%2CNCT90000002')).studies).toHaveLength(2);
      expect(cached.requests.map((r) => r.cached ?? false)).toEqual([false, true, true]);
      const edited = syntheticStudy(2);
      (edited.protocolSection as { identificationModule: { briefTitle: string } }).identificationModule.briefTitle = 'Edited';
      cached.setStudy(edited);
      expect((await gunzipped(cached, path)).studies.map(title)).toEqual(['Synthetic study 1', 'Edited']);
      expect(cached.requests.at(-1)?.cached).toBeUndefined();
      cached.removeStudy('NCT90000001');
      expect((await gunzipped(cached, path)).studies.map(title)).toEqual(['Edited']);
      cached.addAlias('NCT90000009', 'NCT90000002');
      expect((await gunzipped(cached, '/studies?filter.ids=NCT90000009&pageSize=10')).studies.map(title)).toEqual(['Edited']);
      expect((await gunzipped(cached, path)).studies).toHaveLength(1);
    } finally {
      await cached.close();
    }
  });

  it('never serves a fault from the cache, nor caches one', async () => {
    const cached = await startFakeCtgov({ studies: [syntheticStudy(1)], cacheAnswers: true });
    try {
      const path = '/studies?filter.ids=NCT90000001&pageSize=10';
      await gunzipped(cached, path);
      cached.injectFaults({ kind: 'invalidRecord', path: '/studies', times: 1 });
      const broken = (await gunzipped(cached, path)).studies[0] as { protocolSection: { identificationModule: Record<string, unknown> } };
      expect(broken.protocolSection.identificationModule.nctId).toBeUndefined();
      expect((await gunzipped(cached, path)).studies).toEqual([syntheticStudy(1)]);
      // A fault on a request never answered before is not kept either.
      const other = '/studies?filter.ids=NCT90000001&pageSize=20';
      cached.injectFaults({ kind: 'invalidRecord', path: '/studies', times: 1 });
      await gunzipped(cached, other);
      expect((await gunzipped(cached, other)).studies).toEqual([syntheticStudy(1)]);
    } finally {
      await cached.close();
    }
  });
});

describe('fake CT.gov command line', () => {
  it('serves a folder on the port it prints and stops on SIGTERM', async () => {
    const cli = fileURLToPath(new URL('../support/fakeCtgovCli.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', cli, '--dir', CTGOV_FIXTURE_DIR, '--port', '0'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      let out = '';
      for await (const chunk of child.stdout) {
        out += String(chunk);
        if (out.includes('\n')) break;
      }
      const url = /at (http:\S+)/.exec(out)?.[1];
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/v2$/);
      const res = await fetch(`${url}/studies/NCT00000410`);
      expect(res.status).toBe(200);
    } finally {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      expect((await exited)[0]).toBe(0);
    }
  });
});
