import cron from 'node-cron';
import { describe, expect, it } from 'vitest';
import { createLane } from '../../src/worker/lane.js';
import { startScheduler } from '../../src/worker/scheduler.js';
import { memoryLogger } from '../support/ctgovTestClient.js';
import { silentLog } from '../support/testDb.js';
import { waitFor } from '../support/waitFor.js';

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
    await waitFor(() => ticks.length >= 2, { timeoutMs: 5_000 });
    expect(new Set(ticks)).toEqual(new Set(['a']));
    await scheduler.stop();
    expect(scheduler.running).toBe(false);
    expect([...cron.getTasks().values()].filter((t) => t.name?.startsWith('ctgov-sync:'))).toEqual([]);
  });

  it('keeps ticking when a tick handler throws, and logs each failure with its job', async () => {
    const { logger, lines } = memoryLogger();
    let calls = 0;
    const scheduler = startScheduler([{ name: 'a', expression: '* * * * * *' }], 'Europe/Paris', logger, () => {
      calls++;
      throw new Error(`boom ${calls}`);
    });
    try {
      // The second tick comes after the first one threw: the schedule survived the failure.
      await waitFor(() => calls >= 2, { timeoutMs: 5_000, what: 'a tick after a failed one' });
    } finally {
      await scheduler.stop();
    }
    const failed = lines.filter((l) => l.msg === 'tick failed');
    expect(failed.length).toBe(calls);
    expect(failed.slice(0, 2).map((l) => [l.level, l.job, JSON.stringify(l.err)])).toEqual([
      [50, 'a', expect.stringContaining('boom 1')],
      [50, 'a', expect.stringContaining('boom 2')],
    ]);
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
