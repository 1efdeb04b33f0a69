import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { cliEnv, startCli, type CliEnv } from '../support/cliEnv.js';
import { startFakeCtgov, type FakeCtgov, type FaultRule } from '../support/fakeCtgov.js';
import { hugeStudy, nulStudy, UNICODE_TEXT, unicodeStudy, baseStudy } from '../support/hostileStudies.js';
import { SyntheticCatalog } from '../support/syntheticCatalog.js';

/*
 * API faults end to end: `ctgov-sync sync --file` against a fake CT.gov that throttles (429 with
 * Retry-After), fails (5xx), stalls past the timeout, resets connections, truncates bodies,
 * answers with an HTML page and status 200, and corrupts a record in transit; the catalog itself
 * holds a 4 MB record, one full of unicode and control characters, one with a NUL and one that
 * fails validation. Every good study must be stored, every bad one quarantined with its reason,
 * exit code 1, and every retry within the configured budget.
 */

const RETRY = { maxAttempts: 4, baseDelayMs: 20, maxDelayMs: 200, runBudget: 16 };
const TIMEOUT_MS = 2_500;
const ID = { huge: 'NCT69999991', unicode: 'NCT69999992', nul: 'NCT69999993', invalid: 'NCT69999994' };

const catalog = new SyntheticCatalog(41, { maxBytes: 20_000 });
const invalid = baseStudy(ID.invalid);
invalid.protocolSection.designModule.enrollmentInfo = { count: 'many', type: 'ACTUAL' };
const special = [hugeStudy(ID.huge), unicodeStudy(ID.unicode), nulStudy(ID.nul), invalid];
const allIds = [...Object.values(ID), ...catalog.ids()];

// One request at a time, so that the n-th request is known: a burst of three 429s on the first
// batch, then every other request fails once in a different way, and the last one carries a
// record broken in transit (9 batches of 5 IDs, 10 retries: 19 requests).
const FAULTS: FaultRule[] = [
  { kind: 'status', status: 429, retryAfter: '0.3', path: '/studies', nth: [1, 2, 3] },
  { kind: 'status', status: 503, path: '/studies', nth: 5 },
  { kind: 'status', status: 500, path: '/studies', nth: 7 },
  { kind: 'reset', path: '/studies', nth: 9 },
  { kind: 'truncated', path: '/studies', nth: 11 },
  { kind: 'html', path: '/studies', nth: 13 },
  { kind: 'slow', delayMs: 10_000, path: '/studies', nth: 15 },
  { kind: 'slowBody', delayMs: 10_000, path: '/studies', nth: 17 },
  { kind: 'invalidRecord', mode: 'wrongTypes', path: '/studies', nth: 19 },
];

let fake: FakeCtgov;
let e: CliEnv;
let result: Awaited<ReturnType<typeof startCli>['exited']>;

beforeAll(async () => {
  fake = await startFakeCtgov({ studies: [...special, ...catalog.all()] });
  e = await cliEnv(fake.url, { ctgov: { idBatchSize: 5, concurrency: 1, timeoutMs: TIMEOUT_MS, retry: RETRY } });
  fake.injectFaults(FAULTS);
  const file = join(e.cwd, 'ids.txt');
  writeFileSync(file, allIds.join('\n'));
  result = await startCli(['sync', '--file', file], e.env, { timeoutMs: 120_000 }).exited;
});

afterAll(async () => {
  await fake?.close();
  await e?.done();
});

describe('sync through API faults, into the database', () => {
  it('every fault fired, and every request ended within its attempts and the run within its retry budget', () => {
    const faults = fake.requests.filter((q) => q.fault !== undefined);
    // (A stalled request gets its status only when the fake gives up stalling: not shown.)
    expect(faults.map((q) => (q.fault === 'slow' ? 'slow' : `${q.fault} ${q.status ?? 'reset'}`))).toEqual([
      'status 429', 'status 429', 'status 429', 'status 503', 'status 500', 'reset reset',
      'truncated 200', 'html 200', 'slow', 'slowBody 200', 'invalidRecord 200',
    ]);
    const attempts = new Map<string, number>();
    for (const q of fake.requests) {
      const key = `${q.path}?${new URLSearchParams(q.query)}`;
      attempts.set(key, (attempts.get(key) ?? 0) + 1);
    }
    expect(attempts.size).toBe(9);
    expect(Math.max(...attempts.values())).toBe(4); // the 429 burst: three refusals, then the answer
    expect(Math.max(...attempts.values())).toBeLessThanOrEqual(RETRY.maxAttempts);
    const retries = fake.requests.length - attempts.size;
    expect(retries).toBe(10); // each fault but the corrupted record (a good answer, quarantined)
    expect(retries).toBeLessThanOrEqual(RETRY.runBudget);
    // Retry-After (0.3 s) is honoured: nothing is sent until it has passed.
    for (const q of fake.requests.filter((r) => r.status === 429)) {
      expect(fake.requests.filter((r) => r.time > q.finished! && r.time < q.finished! + 290)).toEqual([]);
    }
  });

  it('exits 1, naming each quarantined study and its stage', () => {
    expect(result.code, result.stderr).toBe(1);
    const victim = corruptedInTransit();
    expect(result.stdout).toMatch(new RegExp(`^sync run \\d+ partial: ${allIds.length - 3} studies stored`));
    expect(result.stdout).toContain(`failed ${ID.invalid} at validate: invalid study record ${ID.invalid}: protocolSection.designModule.enrollmentInfo.count`);
    expect(result.stdout).toContain(`failed ${victim} at validate: invalid study record ${victim}:`);
    expect(result.stdout).toContain(`failed ${ID.nul} at store: unsupported Unicode escape sequence`);
  });

  it('stores every good study, and quarantines the bad ones in ctgov.sync_failures with their reasons', async () => {
    const victim = corruptedInTransit();
    await e.withDb(async (pool) => {
      const stored = (await pool.query<{ nct_id: string }>('select nct_id from ctgov.studies order by nct_id')).rows.map((r) => r.nct_id);
      expect(stored).toEqual(allIds.filter((id) => ![ID.nul, ID.invalid, victim].includes(id)).sort());
      const failures = (await pool.query('select nct_id, stage, error, payload_excerpt from ctgov.sync_failures order by nct_id')).rows;
      expect(failures).toEqual(
        [
          { nct_id: ID.nul, stage: 'store', error: 'unsupported Unicode escape sequence', payload_excerpt: expect.stringContaining(ID.nul) },
          { nct_id: ID.invalid, stage: 'validate', error: expect.stringContaining('enrollmentInfo.count'), payload_excerpt: expect.stringContaining('"many"') },
          { nct_id: victim, stage: 'validate', error: expect.stringContaining('overallStatus'), payload_excerpt: expect.stringContaining(victim) },
        ].sort((a, b) => a.nct_id.localeCompare(b.nct_id)),
      );
      const run = (await pool.query('select status, fetched, failed, error from ctgov.sync_runs')).rows;
      expect(run).toEqual([{ status: 'partial', fetched: allIds.length - 3, failed: 3, error: null }]);

      const huge = (await pool.query('select length(raw::text) as n from ctgov.study_versions where nct_id = $1', [ID.huge])).rows[0];
      expect(huge.n).toBeGreaterThan(4 * 1024 * 1024);
      const unicode = (await pool.query('select brief_title, lead_sponsor from ctgov.studies where nct_id = $1', [ID.unicode])).rows[0];
      expect(unicode).toEqual({ brief_title: UNICODE_TEXT, lead_sponsor: `Sponsor ${UNICODE_TEXT}` });
    });
  });

  it('renders the 4 MB study and the unicode study as pages whose front matter is valid YAML', () => {
    for (const id of [ID.huge, ID.unicode]) {
      const text = readFileSync(join(e.mirrorDir, `${id}.md`), 'utf8');
      const m = /^---\n([\s\S]*?)\n---\n/.exec(text);
      expect(m, id).not.toBeNull();
      const fm = parseYaml(m![1]!, { strict: true }) as Record<string, unknown>;
      expect(fm.nct_id).toBe(id);
      if (id === ID.unicode) {
        expect(fm.title).toBe(UNICODE_TEXT);
        expect(fm.sponsor).toBe(`Sponsor ${UNICODE_TEXT}`);
        // The criteria stay verbatim (line ends normalised to \n) inside their fence.
        expect(text).toContain(`\`\`\`\nInclusion Criteria:\n\n* ${UNICODE_TEXT.replace(/\r\n?/g, '\n')}\n\`\`\``);
      }
    }
  });
});

describe('an API that keeps failing', () => {
  it('fails the run once the retry budget is spent: exit 2, one line, the run recorded as failed', async () => {
    fake.clearFaults();
    fake.resetCounts();
    fake.injectFaults({ kind: 'status', status: 503, path: '/studies' });
    const budget = 3;
    const down = await cliEnv(fake.url, { ctgov: { idBatchSize: 5, concurrency: 1, retry: { ...RETRY, maxAttempts: 10, runBudget: budget } } });
    try {
      const file = join(down.cwd, 'ids.txt');
      writeFileSync(file, catalog.ids().join('\n'));
      const r = await startCli(['sync', '--file', file], down.env, { timeoutMs: 60_000 }).exited;
      expect(r.code).toBe(2);
      expect(r.stderr.split('\n').filter((l) => l.startsWith('ctgov-sync:'))).toEqual([
        expect.stringMatching(/^ctgov-sync: GET http:\/\/127\.0\.0\.1:\d+\/api\/v2\/studies\?filter\.ids=\S+ failed \(retry budget exhausted\): HTTP 503: upstream error 503$/),
      ]);
      expect(fake.requests).toHaveLength(1 + budget);
      await down.withDb(async (pool) => {
        const runs = (await pool.query('select status, error from ctgov.sync_runs')).rows;
        expect(runs).toEqual([{ status: 'failed', error: expect.stringContaining('retry budget exhausted') }]);
        expect((await pool.query('select count(*)::int as n from ctgov.studies')).rows[0].n).toBe(0);
      });
    } finally {
      await down.done();
    }
  });
});

/** The study whose record the fake broke in transit (the first of the answer it fired on). */
function corruptedInTransit(): string {
  const hit = fake.requests.find((q) => q.fault === 'invalidRecord');
  const requested = hit?.query['filter.ids']?.split(',') ?? [hit?.path.split('/').pop() ?? ''];
  return requested.sort()[0]!;
}
