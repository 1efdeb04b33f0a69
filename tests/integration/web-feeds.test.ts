import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDatabase, type TestDatabase } from '../support/testDb.js';
import { HOSTILE_ID, HOSTILE_TITLE, loadWebFixtures } from '../support/webFixtures.js';
import { startWebServer } from '../support/webServer.js';
import { assertHttpAuth } from '../../src/web/security.js';

/*
 * The Atom feed (well-formed, and carrying what RFC 4287 requires of a feed and its entries),
 * /api/changes (filters, and a cursor walk that returns every change once), error answers, the
 * security headers and the bearer token, over real HTTP on a test database.
 */

type Json = Record<string, any>;

describe('Atom feed, JSON API and access', () => {
  let t: TestDatabase;
  let web: { url: string; close(): Promise<void> };
  let locked: { url: string; close(): Promise<void> };
  const TOKEN = 'a-long-enough-test-token-1234';

  beforeAll(async () => {
    t = await openTestDatabase();
    await loadWebFixtures(t.db.pool);
    // A control character no XML document may carry, in a title the feed must still serve.
    await t.db.pool.query("update ctgov.studies set brief_title = brief_title || E' \\u0001 \\u001f' where nct_id = $1", [HOSTILE_ID]);
    web = await startWebServer(t.db.pool);
    locked = await startWebServer(t.db.pool, { authToken: TOKEN });
  }, 120_000);

  afterAll(async () => {
    await web?.close();
    await locked?.close();
    await t?.close();
  });

  const get = (path: string, init?: RequestInit) => fetch(`${web.url}${path}`, init);

  it('serves Atom 1.0 with the fields RFC 4287 requires and stable entry ids', async () => {
    const res = await get('/feeds/changes.atom?limit=100');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/atom+xml; charset=utf-8');
    const xml = await res.text();
    expect(XMLValidator.validate(xml)).toBe(true);
    const doc = new XMLParser({ ignoreAttributes: false, isArray: (name) => ['entry', 'link', 'category'].includes(name) }).parse(xml) as Json;
    const feed = doc.feed;
    expect(feed['@_xmlns']).toBe('http://www.w3.org/2005/Atom');
    // atom:feed MUST contain exactly one id, title and updated, an author (or every entry one), and SHOULD a self link.
    expect(typeof feed.id).toBe('string');
    expect(feed.title).toBeTruthy();
    expect(Number.isNaN(Date.parse(feed.updated))).toBe(false);
    expect(feed.author.name).toBeTruthy();
    expect(feed.link.some((l: Json) => l['@_rel'] === 'self')).toBe(true);
    const entries = feed.entry as Json[];
    expect(entries).toHaveLength(100);
    const { rows } = await t.db.pool.query<{ id: number; detected_at: Date }>(
      'select id, detected_at from ctgov.field_changes order by detected_at desc, id desc limit 100',
    );
    entries.forEach((e, i) => {
      // atom:entry MUST contain id, title, updated, and a content or an alternate link.
      expect(e.id).toBe(`urn:ctgov-sync:change:${rows[i]!.id}`);
      expect(e.title).toBeTruthy();
      expect(new Date(e.updated).getTime()).toBe(rows[i]!.detected_at.getTime());
      expect(e.link.some((l: Json) => l['@_rel'] === 'alternate' && String(l['@_href']).startsWith(`${web.url}/studies/`))).toBe(true);
    });
    expect(feed.updated).toBe(entries[0]!.updated);
    // Fetched again: the same ids.
    const again = new XMLParser({ isArray: (n) => n === 'entry' }).parse(await (await get('/feeds/changes.atom?limit=100')).text()) as Json;
    expect(again.feed.entry.map((e: Json) => e.id)).toEqual(entries.map((e) => e.id));
  });

  it('applies the filters to the feed and keeps hostile text as text', async () => {
    const xml = await (await get(`/feeds/changes.atom?nct=${HOSTILE_ID}&path=eligibility.criteria`)).text();
    expect(XMLValidator.validate(xml)).toBe(true);
    const entries = new XMLParser({ isArray: (n) => n === 'entry', processEntities: true, htmlEntities: true }).parse(xml).feed.entry as Json[];
    expect(entries.length).toBe(2); // the first observation's criteria, and the edit
    for (const e of entries) expect(e.title).toMatch(new RegExp(`^${HOSTILE_ID} eligibility\\.criteria (added|changed)$`));
    expect(String(entries[0]!.summary)).toContain(HOSTILE_TITLE.slice(0, 30));
    expect(xml).not.toContain('<script>');
  });

  it('returns every change exactly once when paging /api/changes with the cursor', async () => {
    const all = await t.db.pool.query<{ id: number }>('select id from ctgov.field_changes order by detected_at desc, id desc');
    const seen: number[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const body = (await (await get(`/api/changes?limit=1000${cursor ? `&cursor=${cursor}` : ''}`)).json()) as { changes: Json[]; nextCursor: string | null };
      seen.push(...body.changes.map((c) => c.id as number));
      cursor = body.nextCursor;
      pages++;
    } while (cursor !== null && pages < 1000);
    expect(pages).toBeGreaterThan(3);
    expect(seen).toEqual(all.rows.map((r) => r.id));
    expect(new Set(seen).size).toBe(seen.length);
  });

  it('filters /api/changes by path prefix, kind, study, dates and title words', async () => {
    const body = (await (await get('/api/changes?path=status.*&kind=changed&since=2026-11-21&until=2026-11-21&limit=1000')).json()) as { changes: Json[] };
    const { rows } = await t.db.pool.query(
      `select id from ctgov.field_changes where path like 'status.%' and kind = 'changed'
          and detected_at >= '2026-11-21' and detected_at < '2026-11-22' order by detected_at desc, id desc`,
    );
    expect(rows.length).toBeGreaterThan(0);
    expect(body.changes.map((c) => c.id)).toEqual(rows.map((r) => r.id));
    const hostile = (await (await get(`/api/changes?q=${encodeURIComponent('"quoted" **BOLD**')}&kind=changed`)).json()) as { changes: Json[] };
    expect(hostile.changes.length).toBeGreaterThan(0);
    expect(new Set(hostile.changes.map((c) => c.nctId))).toEqual(new Set([HOSTILE_ID]));
    expect(hostile.changes[0]).toMatchObject({ nctId: HOSTILE_ID, kind: 'changed', oldValue: expect.anything(), newValue: expect.anything() });
    // A % or _ in the words is a literal character, not a wildcard.
    const wild = (await (await get('/api/changes?q=%25')).json()) as { changes: Json[] };
    expect(wild.changes).toEqual([]);
  });

  it('answers bad filters with 400 and the reason', async () => {
    const cases: Array<[string, string]> = [
      ['kind=moved', 'kind: expected added, changed or removed'],
      ['limit=5000', 'limit: expected a whole number from 1 to 1000'],
      ['cursor=abc', 'cursor: not a cursor from a previous page'],
      ['nct=NCTABC', 'nct: expected an NCT ID'],
      ['source=both', 'source: expected live or history'],
      ["path=status';drop", 'path: expected a field path'],
      ['since=2026-11-22&until=2026-11-01', 'since: must be before until'],
    ];
    for (const [qs, reason] of cases) {
      const res = await get(`/api/changes?${qs}`);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: string }).error).toContain(reason);
      const atom = await get(`/feeds/changes.atom?${qs}`);
      expect(atom.status).toBe(400);
    }
    expect((await get('/studies/NCT0001')).status).toBe(400);
    expect((await get(`/studies/${HOSTILE_ID}?to=1`)).status).toBe(404);
    expect((await get(`/studies/${HOSTILE_ID}?evil=1`)).status).toBe(400);
  });

  it('filters by source: live rows from syncs, history rows from the backfill', async () => {
    // The backfill writes rows with source 'history'; make one study's first observation such rows.
    const { rowCount } = await t.db.pool.query("update ctgov.field_changes set source = 'history', ct_version = 0 where nct_id = $1 and kind = 'added'", [HOSTILE_ID]);
    expect(rowCount).toBeGreaterThan(0);
    const history = (await (await get('/api/changes?source=history&limit=1000')).json()) as { changes: Json[] };
    expect(history.changes).toHaveLength(rowCount!);
    expect(history.changes.every((c) => c.nctId === HOSTILE_ID && c.kind === 'added' && c.source === 'history')).toBe(true);
    const live = (await (await get('/api/changes?source=live&limit=1000')).json()) as { changes: Json[] };
    const { rows } = await t.db.pool.query<{ n: number }>("select count(*)::int as n from ctgov.field_changes where source = 'live'");
    expect(live.changes.length).toBe(Math.min(rows[0]!.n, 1000));
    expect(live.changes.some((c) => c.source !== 'live')).toBe(false);
    const atom = await (await get('/feeds/changes.atom?source=history&limit=5')).text();
    expect(atom).toContain('<category term="history" label="source"/>');
    expect(atom).not.toContain('<category term="live" label="source"/>');
  });

  it('sends headers that forbid framing and inline script, and stays read-only', async () => {
    for (const path of ['/', `/studies/${HOSTILE_ID}`, '/feeds/changes.atom', '/api/changes', '/studies/NCT09999999']) {
      const res = await get(path);
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).toContain("default-src 'none'");
      expect(csp).not.toContain('unsafe-inline');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    }
    expect((await get('/', { method: 'POST' })).status).toBe(405);
    expect((await get('/api/changes', { method: 'DELETE' })).status).toBe(405);
  });

  it('requires the token for everything but /healthz when one is set', async () => {
    expect((await fetch(`${locked.url}/`)).status).toBe(401);
    expect((await fetch(`${locked.url}/api/changes`, { headers: { authorization: 'Bearer wrong-token-of-some-length' } })).status).toBe(401);
    expect((await fetch(`${locked.url}/metrics`)).status).toBe(401);
    expect((await fetch(`${locked.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${locked.url}/api/changes?limit=1`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
    const basic = `Basic ${Buffer.from(`anyone:${TOKEN}`).toString('base64')}`;
    expect((await fetch(`${locked.url}/`, { headers: { authorization: basic } })).status).toBe(200);
  });

  it('refuses to listen beyond loopback without a token', () => {
    expect(() => assertHttpAuth({ host: '0.0.0.0', authToken: null })).toThrow(/http\.authToken/);
    expect(() => assertHttpAuth({ host: '0.0.0.0', authToken: TOKEN })).not.toThrow();
    expect(() => assertHttpAuth({ host: '127.0.0.1', authToken: null })).not.toThrow();
    expect(() => assertHttpAuth({ host: '::1', authToken: null })).not.toThrow();
  });
});
