import { describe, expect, it } from 'vitest';
import { backoffDelay, MAX_RETRY_AFTER_MS, parseRetryAfter, RetryBudget, sleep } from '../../src/ctgov/retry.js';
import { buildSearchParams } from '../../src/ctgov/searchParams.js';

const policy = { maxAttempts: 6, baseDelayMs: 1_000, maxDelayMs: 30_000, runBudget: 10 };

describe('backoffDelay', () => {
  it('doubles the ceiling per retry up to maxDelayMs, with full jitter below it', () => {
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => backoffDelay(n, policy, () => 0.999999))).toEqual([
      999, 1_999, 3_999, 7_999, 15_999, 29_999, 29_999,
    ]);
    expect(backoffDelay(4, policy, () => 0)).toBe(0);
    expect(backoffDelay(2, policy, () => 0.5)).toBe(1_000);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-10-14T09:00:00Z');
  it('reads delta-seconds, including fractions', () => {
    expect(parseRetryAfter('7', now)).toBe(7_000);
    expect(parseRetryAfter(' 0.25 ', now)).toBe(250);
    expect(parseRetryAfter(['3', '9'], now)).toBe(3_000);
  });
  it('reads an HTTP date', () => {
    expect(parseRetryAfter('Wed, 14 Oct 2026 09:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Wed, 14 Oct 2026 08:59:00 GMT', now)).toBe(0);
  });
  it('caps absurd values and ignores unreadable ones', () => {
    expect(parseRetryAfter('86400', now)).toBe(MAX_RETRY_AFTER_MS);
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter('-5', now)).toBeUndefined();
  });
});

describe('RetryBudget', () => {
  it('allows exactly its total', () => {
    const budget = new RetryBudget(2);
    expect([budget.take(), budget.take(), budget.take()]).toEqual([true, true, false]);
    expect(budget.remaining).toBe(0);
  });
});

describe('sleep', () => {
  it('rejects with the reason when aborted', async () => {
    const ac = new AbortController();
    const p = sleep(10_000, ac.signal);
    ac.abort(new Error('stop'));
    await expect(p).rejects.toThrow('stop');
  });
});

describe('buildSearchParams', () => {
  it('prefixes query areas and builds the LastUpdatePostDate range', () => {
    expect(buildSearchParams({ query: { cond: 'Parkinson Disease', 'query.term': 'x' }, lastUpdateFrom: '2026-01-01' }, 1000)).toEqual({
      'query.cond': 'Parkinson Disease',
      'query.term': 'x',
      'filter.advanced': 'AREA[LastUpdatePostDate]RANGE[2026-01-01,MAX]',
      pageSize: '1000',
    });
  });
  it('combines an advanced filter with the date range and caps pageSize at 1000', () => {
    expect(
      buildSearchParams({ filterAdvanced: 'AREA[Phase]PHASE3', lastUpdateFrom: '2026-01-01', pageSize: 5000, countTotal: true, fields: ['NCTId', 'LastUpdatePostDate'] }, 10),
    ).toEqual({
      'filter.advanced': '(AREA[Phase]PHASE3) AND AREA[LastUpdatePostDate]RANGE[2026-01-01,MAX]',
      fields: 'NCTId,LastUpdatePostDate',
      pageSize: '1000',
      countTotal: 'true',
    });
  });
  it('rejects a malformed date or page size', () => {
    expect(() => buildSearchParams({ lastUpdateFrom: '01/02/2026' }, 10)).toThrow(RangeError);
    expect(() => buildSearchParams({ pageSize: 0 }, 10)).toThrow(RangeError);
  });
});
