import { describe, expect, it } from 'vitest';
import { retryOnLostConnection } from '../../src/db/transaction.js';

// What node-postgres throws for a pooled connection the server ended while it sat idle.
const terminated = () => Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' });
const socketClosed = () => new Error('Connection terminated unexpectedly');

/** A task that fails with each of `errors` in turn, then returns 'recorded'; counts its calls. */
function failingWith(...errors: Array<() => Error>): { calls: number; run: () => Promise<string> } {
  const task = {
    calls: 0,
    async run() {
      const next = errors[task.calls++];
      if (next) throw next();
      return 'recorded';
    },
  };
  return task;
}

describe('retryOnLostConnection', () => {
  it('tries again past connections the server cut while they sat idle in the pool', async () => {
    const task = failingWith(terminated, socketClosed);
    await expect(retryOnLostConnection({ totalCount: 2 }, task.run)).resolves.toBe('recorded');
    expect(task.calls).toBe(3);
  });

  it('stops after one try per pooled connection and one on a fresh one, throwing the last error', async () => {
    const task = failingWith(terminated, terminated, socketClosed, terminated);
    await expect(retryOnLostConnection({ totalCount: 2 }, task.run)).rejects.toThrow('Connection terminated unexpectedly');
    expect(task.calls).toBe(3);
  });

  it('does not repeat a statement that failed with the connection still up', async () => {
    const task = failingWith(() => Object.assign(new Error('relation "ctgov.sync_runs" does not exist'), { code: '42P01' }));
    await expect(retryOnLostConnection({ totalCount: 4 }, task.run)).rejects.toThrow('does not exist');
    expect(task.calls).toBe(1);
  });

  it('does not repeat when the database cannot be reached at all', async () => {
    const refused = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED', syscall: 'connect' });
    const task = failingWith(refused, refused);
    await expect(retryOnLostConnection({ totalCount: 0 }, task.run)).rejects.toThrow('ECONNREFUSED');
    expect(task.calls).toBe(1);
  });
});
