import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../support/cli.js';
import { openTestDatabase, type TestDatabase } from '../support/testDb.js';
import { ADDED_SITE, HOSTILE_ID, HOSTILE_TITLE, REMOVED_SITE_CITY, loadWebFixtures } from '../support/webFixtures.js';
import { startWebServer } from '../support/webServer.js';

/*
 * Both pages in a real browser (Debian's chromium, driven by playwright-core) over fixture data
 * with edits: what the diff shows, filters and pagination through the forms and links, keyboard
 * navigation, hostile text rendered inert, no console errors (a CSP violation is one). The
 * screenshots in the README are the ones saved here.
 */

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SHOTS = join(repoRoot, 'docs', 'screenshots');

describe('web view in a browser', () => {
  let t: TestDatabase;
  let web: { url: string; close(): Promise<void> };
  let browser: Browser;
  let page: Page;
  let consoleErrors: string[];

  beforeAll(async () => {
    t = await openTestDatabase();
    await loadWebFixtures(t.db.pool);
    web = await startWebServer(t.db.pool);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    consoleErrors = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(e.message));
    mkdirSync(SHOTS, { recursive: true });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await web?.close();
    await t?.close();
  });

  it('shows the newest changes with links to their studies', async () => {
    await page.goto(`${web.url}/`);
    expect(await page.title()).toBe('Recent changes · ctgov-sync');
    const first = page.locator('table.changes tbody tr').first();
    await expect.poll(() => first.locator('td.path').textContent()).toBeTruthy();
    // The newest change is the hostile study's second version (2026-11-22).
    expect(await first.locator('a').textContent()).toBe(HOSTILE_ID);
    await page.screenshot({ path: join(SHOTS, 'changes.png'), fullPage: false });
    await first.locator('a').click();
    await page.waitForURL(new RegExp(`/studies/${HOSTILE_ID}`));
    expect(await page.locator('h1').textContent()).toContain(HOSTILE_ID);
    expect(consoleErrors).toEqual([]);
  });

  it('filters by path prefix and kind through the form', async () => {
    await page.goto(`${web.url}/`);
    await page.fill('input[name=path]', 'locations.*');
    await page.selectOption('select[name=kind]', 'added');
    await page.fill('input[name=since]', '2026-11-21');
    await Promise.all([page.waitForURL(/path=locations/), page.click('button[type=submit]')]);
    const rows = await page.locator('table.changes tbody tr').evaluateAll((trs) =>
      trs.map((tr) => ({ path: tr.querySelector('.path')!.textContent!, kind: tr.children[3]!.textContent!, when: tr.querySelector('time')!.getAttribute('datetime')! })),
    );
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows) {
      expect(r.path.startsWith('locations.')).toBe(true);
      expect(r.kind).toBe('added');
      expect(r.when >= '2026-11-21').toBe(true);
    }
    // The two sites the README's edits add, and the hostile study's new one.
    expect(rows.map((r) => r.path)).toEqual(expect.arrayContaining([expect.stringContaining('sevilla'), expect.stringContaining('madrid')]));
    expect(await page.inputValue('input[name=path]')).toBe('locations.*');
    expect(consoleErrors).toEqual([]);
  });

  it('pages through every change once with the Older link', async () => {
    const expected = await t.db.pool.query<{ id: number }>("select id from ctgov.field_changes where kind = 'changed' order by detected_at desc, id desc");
    expect(expected.rows.length).toBeGreaterThan(10);
    await page.goto(`${web.url}/?kind=changed&limit=4`);
    const seen: number[] = [];
    for (let pages = 0; pages < 100; pages++) {
      seen.push(...(await page.locator('table.changes tbody tr').evaluateAll((trs) => trs.map((tr) => Number(tr.getAttribute('data-change'))))));
      const older = page.locator('a[rel=next]');
      if ((await older.count()) === 0) break;
      await Promise.all([page.waitForURL(/cursor=/), older.click()]);
    }
    expect(seen).toEqual(expected.rows.map((r) => r.id));
    expect(consoleErrors).toEqual([]);
  });

  it('shows the edited words, sites and outcome side by side on the study page', async () => {
    await page.goto(`${web.url}/studies/${HOSTILE_ID}`);
    const row = (label: string) => page.locator('table.diff tr', { has: page.locator('td.field', { hasText: label }) });
    const criteria = row('eligibility.criteria');
    expect(await criteria.locator('td.before del').allTextContents()).toEqual(['65', 'biopsy']);
    expect(await criteria.locator('td.after ins').allTextContents()).toEqual(['75', 'imaging']);
    const outcome = row('outcomes.primary');
    expect((await outcome.locator('td.before del').allTextContents()).join(' ')).toContain('HbA1c');
    expect((await outcome.locator('td.after ins').allTextContents()).join(' ')).toContain('fasting glucose');
    const sites = row('sites');
    expect(await sites.locator('td.field').textContent()).toBe('sites (1 added, 1 removed, 0 changed)');
    expect(await sites.locator('td.after ins').allTextContents()).toEqual([`${ADDED_SITE.facility}, ${ADDED_SITE.city}, ${ADDED_SITE.country} (RECRUITING)`]);
    expect((await sites.locator('td.before del').allTextContents()).join(' ')).toContain(REMOVED_SITE_CITY);
    expect(await page.locator('table.timeline tbody tr').count()).toBe(2);
    await page.screenshot({ path: join(SHOTS, 'study.png'), fullPage: false });
    expect(consoleErrors).toEqual([]);
  });

  it('compares any two versions chosen in the form', async () => {
    await page.goto(`${web.url}/studies/NCT01949129`);
    const versions = await page.locator('select[name=from] option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
    expect(versions.length).toBe(2);
    // Newest against itself: no differences.
    await page.selectOption('select[name=from]', versions[0]!);
    await Promise.all([page.waitForURL(/from=/), page.click('form button[type=submit]')]);
    expect(await page.locator('p.muted', { hasText: 'No differences' }).count()).toBe(1);
    expect(consoleErrors).toEqual([]);
  });

  it('renders hostile titles and criteria as text', async () => {
    await page.goto(`${web.url}/studies/${HOSTILE_ID}`);
    expect(await page.locator('h1').textContent()).toBe(`${HOSTILE_ID}: ${HOSTILE_TITLE}`);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(await page.evaluate(() => document.scripts.length)).toBe(0);
    expect(await page.locator('main img, main b, main strong').count()).toBe(0);
    await page.goto(`${web.url}/?nct=${HOSTILE_ID}`);
    expect(await page.evaluate(() => document.scripts.length)).toBe(0);
    expect(await page.locator('table.changes a').first().evaluate((a) => a.parentElement!.textContent)).toContain('<script>');
    expect(consoleErrors).toEqual([]);
  });

  it('reaches every link with the keyboard', async () => {
    for (const path of ['/?limit=5', `/studies/${HOSTILE_ID}`]) {
      await page.goto(`${web.url}${path}`);
      const links = await page.locator('a[href]').evaluateAll((as) => as.map((a) => (a as HTMLAnchorElement).href));
      const reached = new Set<string>();
      for (let i = 0; i < links.length + 40; i++) {
        await page.keyboard.press('Tab');
        const href = await page.evaluate(() => (document.activeElement instanceof HTMLAnchorElement ? document.activeElement.href : null));
        if (href) reached.add(href);
      }
      expect([...new Set(links)].filter((l) => !reached.has(l))).toEqual([]);
    }
    expect(consoleErrors).toEqual([]);
  });

  it('answers an unknown study with a 404 page and a bad filter with a 400 page', async () => {
    const missing = await page.goto(`${web.url}/studies/NCT09999999`);
    expect(missing?.status()).toBe(404);
    expect(await page.locator('p.error').textContent()).toBe('NCT09999999 is not a study stored here');
    const bad = await page.goto(`${web.url}/?since=yesterday`);
    expect(bad?.status()).toBe(400);
    expect(await page.locator('p.error').textContent()).toContain('since: expected a date');
    // The browser logs the 4xx responses themselves; nothing else.
    expect(consoleErrors.filter((e) => !/status of 40[04]/.test(e))).toEqual([]);
  });
});
