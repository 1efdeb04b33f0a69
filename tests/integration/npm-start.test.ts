import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { CTGOV_FIXTURE_DIR } from '../support/ctgovFixtures.js';
import { repoRoot } from '../support/cli.js';
import { startFakeCtgov } from '../support/fakeCtgov.js';
import { workerEnv } from '../support/workerHarness.js';
import pg from 'pg';
import { waitFor } from '../support/waitFor.js';

/*
 * `npm start` under a supervisor (systemd, pm2, `timeout`, a CI job): the supervisor signals the
 * npm process, not the worker. The worker must still drain and exit, and nothing may outlive npm.
 */

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('npm start', () => {
  it('SIGTERM to the npm process stops the worker gracefully and leaves no process or database session', async () => {
    const fake = await startFakeCtgov({ dir: CTGOV_FIXTURE_DIR });
    cleanups.push(() => fake.close());
    const env = await workerEnv(fake.url, { watchlist: { ids: ['NCT00855400'], queries: [] } });
    cleanups.push(() => env.done());

    // --ignore-scripts skips `prestart` (the tests run on a fresh build) but still runs `start`.
    const npm = spawn('npm', ['start', '--ignore-scripts', '--silent'], {
      cwd: repoRoot,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? env.cwd, ...env.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    npm.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    npm.stdout.resume();
    const exited = new Promise<number | null>((resolve) => npm.on('exit', (code) => resolve(code)));
    let workerPid: number | undefined;
    cleanups.push(async () => {
      if (workerPid && alive(workerPid)) process.kill(workerPid, 'SIGKILL');
      if (npm.exitCode === null) npm.kill('SIGKILL');
    });

    workerPid = await waitFor(async () => {
      const line = stderr.split('\n').find((l) => l.includes('"msg":"worker started"'));
      return line ? (JSON.parse(line) as { pid: number }).pid : undefined;
    }, { timeoutMs: 60_000 });
    expect(workerPid).not.toBe(npm.pid);
    await waitFor(async () => stderr.includes('"msg":"job run finished"') || stderr.includes('"msg":"sync run finished"'), { timeoutMs: 30_000 });

    npm.kill('SIGTERM');
    const code = await Promise.race([exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 20_000))]);
    expect(code).toBe(0);
    expect(stderr).toContain('"msg":"worker stopped"');
    // The worker went with npm: no orphan adopted by init.
    await waitFor(async () => !alive(workerPid!), { timeoutMs: 5_000 });

    if (env.databaseUrl) {
      const dbName = new URL(env.databaseUrl).pathname.slice(1);
      const admin = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
      await admin.connect();
      try {
        const { rows } = await admin.query<{ n: number }>('select count(*)::int as n from pg_stat_activity where datname = $1', [dbName]);
        expect(rows[0]!.n).toBe(0);
      } finally {
        await admin.end();
      }
    }
  }, 90_000);
});

