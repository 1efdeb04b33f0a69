import { afterEach, describe, expect, it, vi } from 'vitest';
import { createRateLimiter, type RateSlot } from '../../src/ctgov/rateLimiter.js';
import { seededRandom } from '../support/fakeCtgovFaults.js';
import { maxInWindow } from '../support/ctgovFixtures.js';

afterEach(() => {
  vi.useRealTimers();
});

/** Lets promise callbacks run without moving fake time. */
const flush = () => vi.advanceTimersByTimeAsync(0);

describe('createRateLimiter with the default one-minute window', () => {
  it('grants rateLimitPerMinute at once and the next one only 60 s after the first finished', async () => {
    vi.useFakeTimers();
    const limiter = createRateLimiter({ limit: 50 });
    expect(limiter.windowMs).toBe(60_000);
    const slots = await Promise.all(Array.from({ length: 50 }, () => limiter.acquire()));
    let granted: RateSlot | undefined;
    void limiter.acquire().then((s) => (granted = s));
    await vi.advanceTimersByTimeAsync(30_000);
    expect(granted).toBeUndefined(); // all 50 still in flight
    for (const s of slots) s.release(); // t = 30 s
    await vi.advanceTimersByTimeAsync(59_999);
    expect(granted).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(granted?.waitedMs).toBe(90_000);
  });

  it('never lets more than the limit fall in any 60 s window over ten simulated minutes', async () => {
    vi.useFakeTimers();
    const limiter = createRateLimiter({ limit: 50 });
    const random = seededRandom(3);
    const sent: number[] = [];
    const seen: number[] = []; // what a server would record: some instant inside each request
    const t0 = Date.now();
    async function worker(): Promise<void> {
      while (Date.now() - t0 < 600_000) {
        const slot = await limiter.acquire();
        const duration = Math.floor(random() * 3_000);
        sent.push(Date.now());
        seen.push(Date.now() + Math.floor(random() * duration));
        await new Promise((r) => setTimeout(r, duration));
        slot.release();
      }
    }
    const done = Promise.all(Array.from({ length: 8 }, worker));
    await vi.advanceTimersByTimeAsync(700_000);
    await done;
    expect(sent.length).toBeGreaterThan(400); // ~50/min for 10 min: the limiter does not starve
    expect(maxInWindow(sent, 60_000)).toBeLessThanOrEqual(50);
    expect(maxInWindow(seen, 60_000)).toBeLessThanOrEqual(50);
  });
});

describe('createRateLimiter', () => {
  it('counts a slot from its release, so slow requests cannot crowd the next window', async () => {
    vi.useFakeTimers();
    const limiter = createRateLimiter({ limit: 2, windowMs: 1_000 });
    const a = await limiter.acquire();
    const b = await limiter.acquire();
    await vi.advanceTimersByTimeAsync(900);
    a.release(); // t = 900: frees at 1 900, not at 1 000
    b.release();
    let third: RateSlot | undefined;
    void limiter.acquire().then((s) => (third = s));
    await vi.advanceTimersByTimeAsync(999);
    expect(third).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(third).toBeDefined();
  });

  it('serves waiters in arrival order', async () => {
    vi.useFakeTimers();
    const limiter = createRateLimiter({ limit: 1, windowMs: 100 });
    const order: number[] = [];
    const first = await limiter.acquire();
    const waiting = [1, 2, 3].map((n) => limiter.acquire().then((s) => (order.push(n), s.release())));
    first.release();
    await vi.advanceTimersByTimeAsync(1_000);
    await Promise.all(waiting);
    expect(order).toEqual([1, 2, 3]);
  });

  it('grants nothing while paused by the server', async () => {
    vi.useFakeTimers();
    const limiter = createRateLimiter({ limit: 10, windowMs: 1_000 });
    limiter.pauseFor(500);
    let slot: RateSlot | undefined;
    void limiter.acquire().then((s) => (slot = s));
    await vi.advanceTimersByTimeAsync(499);
    expect(slot).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(slot?.waitedMs).toBe(500);
  });

  it('rejects a waiter whose signal aborts and keeps serving the others', async () => {
    vi.useFakeTimers();
    const limiter = createRateLimiter({ limit: 1, windowMs: 100 });
    const held = await limiter.acquire();
    const ac = new AbortController();
    const aborted = limiter.acquire(ac.signal);
    const next = limiter.acquire();
    ac.abort(new Error('shutdown'));
    await expect(aborted).rejects.toThrow('shutdown');
    held.release();
    await vi.advanceTimersByTimeAsync(100);
    await expect(next).resolves.toBeDefined();
    await expect(limiter.acquire(AbortSignal.abort(new Error('already')))).rejects.toThrow('already');
    await flush();
  });

  it('treats release as idempotent', async () => {
    vi.useFakeTimers();
    const limiter = createRateLimiter({ limit: 2, windowMs: 100 });
    const a = await limiter.acquire();
    a.release();
    a.release(); // must not free a second slot
    const b = await limiter.acquire();
    let c: RateSlot | undefined;
    void limiter.acquire().then((s) => (c = s));
    await flush();
    expect(c).toBeUndefined();
    b.release();
    await vi.advanceTimersByTimeAsync(100);
    expect(c).toBeDefined();
  });

  it('rejects nonsense limits', () => {
    expect(() => createRateLimiter({ limit: 0 })).toThrow(RangeError);
    expect(() => createRateLimiter({ limit: 1.5 })).toThrow(RangeError);
    expect(() => createRateLimiter({ limit: 1, windowMs: 0 })).toThrow(RangeError);
  });
});

describe('createRateLimiter after the server throttled', () => {
  it('halves the rate once per window and climbs back by a tenth per quiet window', async () => {
    vi.useFakeTimers();
    const limiter = createRateLimiter({ limit: 20, windowMs: 1_000 });
    limiter.throttle();
    limiter.throttle(); // same window: the burst of 429s from one flood counts once
    expect(limiter.currentLimit).toBe(10);
    await vi.advanceTimersByTimeAsync(1_000);
    limiter.throttle();
    expect(limiter.currentLimit).toBe(5);
    await vi.advanceTimersByTimeAsync(3_000);
    expect(limiter.currentLimit).toBe(11); // 5 + 3 × 2
    await vi.advanceTimersByTimeAsync(60_000);
    expect(limiter.currentLimit).toBe(20); // never above the configured limit
  });

  it('grants only the reduced number per window', async () => {
    vi.useFakeTimers();
    const limiter = createRateLimiter({ limit: 8, windowMs: 1_000 });
    limiter.throttle();
    const granted: number[] = [];
    for (let i = 0; i < 6; i++) void limiter.acquire().then((s) => (granted.push(i), s.release()));
    await flush();
    expect(granted).toEqual([0, 1, 2, 3]);
  });
});
