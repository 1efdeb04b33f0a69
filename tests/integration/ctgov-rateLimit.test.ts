import { afterEach, describe, expect, it } from 'vitest';
import type { CtgovClient, IdBatch } from '../../src/ctgov/client.js';
import type { NctId } from '../../src/ctgov/nctId.js';
import { peekNctId } from '../../src/ctgov/schema.js';
import { CTGOV_FIXTURE_DIR, fixtureIds, maxInWindow } from '../support/ctgovFixtures.js';
import { createTestClient } from '../support/ctgovTestClient.js';
import { startFakeCtgov, type FakeCtgov } from '../support/fakeCtgov.js';

/*
 * Time is shrunk: "per minute" becomes per WINDOW ms on both sides, so that limits are really
 * hit within a fast test. The proof uses the server's own arrival timestamps. With concurrency
 * 8 the client outruns 30 per WINDOW as long as a request takes under 8 × WINDOW / 30 = 400 ms,
 * which holds even on a loaded machine.
 */
const WINDOW = 1_500;
const ids = fixtureIds();
const cleanup: (() => Promise<void>)[] = [];

afterEach(async () => {
  await Promise.all(cleanup.splice(0).map((f) => f()));
});

async function serve(perWindow: number): Promise<FakeCtgov> {
  const fake = await startFakeCtgov({ dir: CTGOV_FIXTURE_DIR, rateLimitPerMinute: perWindow, rateWindowMs: WINDOW, fractionalRetryAfter: true });
  cleanup.push(() => fake.close());
  return fake;
}

function client(fake: FakeCtgov, overrides: Parameters<typeof createTestClient>[1]) {
  const made = createTestClient(fake.url, overrides);
  cleanup.push(() => made.client.close({ abort: true }));
  return made;
}

async function fetchAll(c: CtgovClient, wanted: NctId[]): Promise<IdBatch[]> {
  const out: IdBatch[] = [];
  for await (const b of c.getStudiesByIds(wanted)) out.push(b);
  return out;
}
const studyIds = (batches: IdBatch[]) => batches.flatMap((b) => b.studies.map(peekNctId)).sort();

describe('rate limiting against the fake CT.gov', () => {
  it('returns every study through 1-in-5 503s and a 30/window server limit, never sending faster than 30/window', async () => {
    const fake = await serve(30);
    fake.injectFaults({ kind: 'status', status: 503, every: 5 });
    const { client: c, events } = client(fake, {
      rateLimitPerMinute: 30,
      rateWindowMs: WINDOW,
      idBatchSize: 5, // 35 batches: more requests than one window allows
      concurrency: 8,
    });
    const batches = await fetchAll(c, ids);

    expect(studyIds(batches)).toEqual(ids);
    const times = fake.requests.map((r) => r.time);
    expect(fake.requests.length).toBeGreaterThan(40);
    expect(fake.requests.filter((r) => r.status === 503).length).toBeGreaterThanOrEqual(7);
    expect(maxInWindow(times, WINDOW)).toBeLessThanOrEqual(30);
    expect(fake.requests.filter((r) => r.status === 429)).toEqual([]);
    expect(events.some((e) => e.type === 'rateLimitWait' && e.source === 'limiter')).toBe(true);
  });

  it('still returns every study when the client is set faster than CT.gov allows, honouring its 429s', async () => {
    const fake = await serve(30);
    const { client: c, events } = client(fake, { rateLimitPerMinute: 60, rateWindowMs: WINDOW, idBatchSize: 4, concurrency: 8 });
    const batches = await fetchAll(c, ids);

    expect(studyIds(batches)).toEqual(ids);
    const limited = fake.requests.filter((r) => r.status === 429);
    expect(limited.length).toBeGreaterThan(0);
    expect(events.some((e) => e.type === 'rateLimitWait' && e.source === 'server')).toBe(true);
    // The server's own limit held, as measured over accepted requests.
    expect(maxInWindow(fake.requests.filter((r) => r.status !== 429).map((r) => r.time), WINDOW)).toBeLessThanOrEqual(30);
  });

  it('spreads a burst over as many windows as the limit requires', async () => {
    const fake = await serve(1_000);
    const { client: c } = client(fake, { rateLimitPerMinute: 10, rateWindowMs: 300, concurrency: 8 });
    const started = performance.now();
    await Promise.all(Array.from({ length: 40 }, () => c.getVersion()));
    expect(performance.now() - started).toBeGreaterThanOrEqual(900); // 40 = 4 × 10: three full waits
    expect(maxInWindow(fake.requests.map((r) => r.time), 300)).toBeLessThanOrEqual(10);
  });

  it('keeps at most `concurrency` requests in flight', async () => {
    const fake = await serve(1_000);
    fake.injectFaults({ kind: 'slow', delayMs: 50 });
    const { client: c } = client(fake, { concurrency: 2 });
    await Promise.all(Array.from({ length: 8 }, () => c.getVersion()));
    const inFlightAt = (t: number) => fake.requests.filter((r) => r.time <= t && t < r.finished!).length;
    const peak = Math.max(...fake.requests.map((r) => inFlightAt(r.time)));
    expect(peak).toBe(2);
  });

  it('uses a one-minute window by default: the call over the limit waits instead of being sent', async () => {
    const fake = await serve(1_000);
    const { client: c, events } = client(fake, { rateLimitPerMinute: 3 });
    await Promise.all([c.getVersion(), c.getVersion(), c.getVersion()]);
    const ac = new AbortController();
    const fourth = c.getVersion({ signal: ac.signal });
    await new Promise((r) => setTimeout(r, 300)); // an unlimited client would have sent it within ms
    ac.abort(new Error('gave up waiting'));
    await expect(fourth).rejects.toThrow('gave up waiting');
    expect(fake.requestCount()).toBe(3);
    expect(events.filter((e) => e.type === 'rateLimitWait')).toEqual([]);
  });
});
