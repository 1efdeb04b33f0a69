import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maxInWindow } from '../support/ctgovFixtures.js';
import { cliEnv, startCli, type CliEnv } from '../support/cliEnv.js';
import { startFakeCtgov, type FakeCtgov } from '../support/fakeCtgov.js';
import { chaosCatalog, writeIdFile } from './chaosSetup.js';

/*
 * The configured rate limit end to end, in real time (the CLI's window is a real minute): a sync
 * that needs more requests than the limit allows per minute, with 429 bursts carrying
 * Retry-After and 5xx answers on the way, measured from the fake server's arrival timestamps.
 */

const LIMIT = 20;
const RETRY_AFTER_S = 2;
const CONCURRENCY = 2;
const catalog = chaosCatalog(240);
let fake: FakeCtgov;
let e: CliEnv;

beforeAll(async () => {
  fake = await startFakeCtgov({ studies: catalog.all() });
  e = await cliEnv(fake.url, {
    ctgov: {
      rateLimitPerMinute: LIMIT,
      concurrency: CONCURRENCY,
      idBatchSize: 10, // 24 list requests for 240 studies: more than one minute's allowance
      retry: { maxAttempts: 6, baseDelayMs: 100, maxDelayMs: 1_000, runBudget: 20 },
    },
  });
});

afterAll(async () => {
  await fake?.close();
  await e?.done();
});

describe('the configured rate limit, end to end', () => {
  it(`never lets CT.gov see more than ${LIMIT} requests in any minute, through 429 bursts and 5xx`, async () => {
    fake.injectFaults([
      { kind: 'status', status: 429, retryAfter: String(RETRY_AFTER_S), path: '/studies', nth: [3, 4, 5] },
      { kind: 'status', status: 503, path: '/studies', nth: [12] },
      { kind: 'status', status: 502, path: '/studies', nth: [19] },
    ]);
    const started = Date.now();
    const r = await startCli(['sync', '--file', writeIdFile(e.cwd, catalog.ids())], e.env, { timeoutMs: 300_000 }).exited;
    const elapsed = Date.now() - started;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/240 new, 0 changed/);

    const requests = fake.requests;
    const times = requests.map((q) => q.time);
    const limited = requests.filter((q) => q.status === 429);
    console.info(
      `[chaos] rate limit ${LIMIT}/min: ${requests.length} requests in ${elapsed} ms, ${limited.length} × 429, ` +
        `${requests.filter((q) => (q.status ?? 0) >= 500).length} × 5xx, busiest minute ${maxInWindow(times, 60_000)}`,
    );
    // The limit binds: more requests than one minute allows, so the run had to wait for the window.
    expect(requests.length).toBeGreaterThan(LIMIT);
    expect(elapsed).toBeGreaterThan(60_000);
    expect(maxInWindow(times, 60_000)).toBeLessThanOrEqual(LIMIT);
    expect(limited).toHaveLength(3);
    // Retry-After is honoured: after a 429, nothing new is sent until it has passed (a request
    // already in flight at the time, at most concurrency - 1 of them, may still arrive).
    for (const q of limited) {
      const early = requests.filter((x) => x.time > q.finished! && x.time < q.finished! + RETRY_AFTER_S * 1000 - 20);
      expect(early.length).toBeLessThanOrEqual(CONCURRENCY - 1);
    }
    // Within the retry budget: 5 failed answers, each retried once.
    expect(requests.filter((q) => q.status !== 200)).toHaveLength(5);
    expect(requests.length).toBe(24 + 5);
  });
});
