import cron from 'node-cron';
import { describe, expect, it } from 'vitest';
import { createLane } from '../../src/worker/lane.js';
import { startScheduler } from '../../src/worker/scheduler.js';
import { silentLog } from '../support/testDb.js';

async function until(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('startScheduler', () => {
  it('fires each job on its second-level cron schedule and leaves no task behind once stopped', async () => {
    const ticks: string[] = [];
    const scheduler = startScheduler(
      [
        { name: 'a', expression: '* * * * * *' },
        { name: 'b', expression: '0 0 0 1 1 *' },
      ],
      'UTC',
      silentLog,
      (name) => ticks.push(name),
    );
    expect(scheduler.running).toBe(true);
    await until(() => ticks.length >= 2, 5_000);
    expect(new Set(ticks)).toEqual(new Set(['a']));
    await scheduler.stop();
    expect(scheduler.running).toBe(false);
    expect([...cron.getTasks().values()].filter((t) => t.name?.startsWith('ctgov-sync:'))).toEqual([]);
  });

  it('keeps ticking when a tick handler throws', async () => {
    let calls = 0;
    const scheduler = startScheduler([{ name: 'a', expression: '* * * * * *' }], 'Europe/Paris', silentLog, () => {
      calls++;
      throw new Error('boom');
    });
    try {
      await until(() => calls >= 2, 5_000);
    } finally {
      await scheduler.stop();
    }
  });
});

describe('createLane', () => {
  it('runs one function at a time in order, and goes on after a failure', async () => {
    const lane = createLane();
    const events: string[] = [];
    let active = 0;
    const step = (name: string, fail = false) =>
      lane.run(async () => {
        active++;
        expect(active).toBe(1);
        events.push(`start ${name}`);
        await new Promise((r) => setTimeout(r, 5));
        events.push(`end ${name}`);
        active--;
        if (fail) throw new Error(name);
        return name;
      });
    const results = await Promise.allSettled([step('a'), step('b', true), step('c')]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(events).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
  });
});
