import { describe, expect, it } from 'vitest';
import { FaultPlan, ServerRateLimit } from '../support/fakeCtgovFaults.js';

/* The fake's fault schedule must be exact and repeatable, or fault tests would be flaky. */

const fired = (plan: FaultPlan, n: number, path = '/studies') =>
  Array.from({ length: n }, (_, i) => (plan.pick(path).length > 0 ? i + 1 : 0)).filter(Boolean);

describe('FaultPlan', () => {
  it('fires on chosen ordinals, every k-th, or up to a number of times', () => {
    const a = new FaultPlan();
    a.add({ kind: 'reset', nth: [2, 5] });
    expect(fired(a, 8)).toEqual([2, 5]);
    const b = new FaultPlan();
    b.add({ kind: 'status', every: 3 });
    expect(fired(b, 10)).toEqual([3, 6, 9]);
    const c = new FaultPlan();
    c.add({ kind: 'html', times: 2 });
    expect(fired(c, 5)).toEqual([1, 2]);
  });

  it('counts only requests on its path', () => {
    const plan = new FaultPlan();
    plan.add({ kind: 'status', path: '/version', nth: 2 });
    expect([plan.pick('/studies'), plan.pick('/version'), plan.pick('/studies/NCT1'), plan.pick('/version')].map((f) => f.length)).toEqual([0, 0, 0, 1]);
  });

  it('repeats the same probabilistic schedule for the same seed', () => {
    const run = (seed: number) => {
      const plan = new FaultPlan(seed);
      plan.add({ kind: 'status', probability: 0.2 });
      return fired(plan, 200);
    };
    expect(run(42)).toEqual(run(42));
    expect(run(42)).not.toEqual(run(43));
    expect(run(42).length).toBeGreaterThan(20);
    expect(run(42).length).toBeLessThan(60);
  });
});

describe('ServerRateLimit', () => {
  it('accepts the limit per window and tells the rest when a slot frees', () => {
    const limit = new ServerRateLimit(2, 1_000, true);
    expect([limit.check(0), limit.check(100), limit.check(400)]).toEqual([undefined, undefined, '0.600']);
    expect(limit.check(1_000)).toBeUndefined();
    expect(new ServerRateLimit(1, 60_000, false).check(0)).toBeUndefined();
  });

  it('rounds Retry-After up to whole seconds like a real server', () => {
    const limit = new ServerRateLimit(1, 60_000, false);
    limit.check(0);
    expect(limit.check(100)).toBe('60');
  });
});
