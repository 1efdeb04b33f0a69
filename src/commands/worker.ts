import { backfill } from '../../jobs/backfill.js';
import { discover } from '../../jobs/discover.js';
import { incremental } from '../../jobs/incremental.js';
import { mirror } from '../../jobs/mirror.js';
import { refresh } from '../../jobs/refresh.js';
import { sync } from '../../jobs/sync.js';
import { createApp, type AppContext } from '../app.js';
import { loadConfig } from '../config.js';
import { migrate } from '../db/migrate.js';
import { assertMirrorWritable, mirrorToKeepInSync } from '../pipeline/mirrorTarget.js';
import type { Job } from '../worker/job.js';
import { startWorker } from '../worker/worker.js';
import { EXIT_OK, type CliIo } from './io.js';

/** Every job the worker runs (jobs/), in start-up order. */
export const WORKER_JOBS: readonly Job[] = [sync, incremental, discover, refresh, mirror, backfill];

/** A second signal cut the shutdown short. */
const EXIT_FORCED = 130;
/** Runs did not wind down within sync.shutdownTimeoutMs. */
const EXIT_SHUTDOWN_TIMEOUT = 1;
const LINGER_MS = 10_000;

/** `worker` as the command line runs it: its own application, migrated. */
export async function runWorkerCommand(io: CliIo): Promise<number> {
  // Like the CLI: an unusable MIRROR_DIR stops the worker before it opens the database.
  await assertMirrorWritable(mirrorToKeepInSync(loadConfig(io.env)));
  const app = await createApp({ env: io.env });
  try {
    await migrate(app.db.pool, app.log);
    return await runWorker(app, io);
  } finally {
    await app.close();
  }
}

/**
 * `worker`: runs until SIGINT or SIGTERM. The first signal stops scheduling and claiming, aborts
 * CT.gov requests and waits for runs to wind down (each batch commits or rolls back whole),
 * then the database is closed and the exit code is 0. A second signal exits at once.
 */
export async function runWorker(app: AppContext, _io: CliIo, jobs: readonly Job[] = WORKER_JOBS): Promise<number> {
  let signalled: NodeJS.Signals | undefined;
  let onFirstSignal: (() => void) | undefined;
  const firstSignal = new Promise<void>((resolve) => (onFirstSignal = resolve));
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) {
      app.log.warn({ signal }, 'second signal: exiting now');
      app.log.flush?.();
      process.exit(EXIT_FORCED);
    }
    signalled = signal;
    app.log.info({ signal }, 'shutting down');
    onFirstSignal?.();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const worker = await startWorker(app, jobs);
    await firstSignal;
    const { timedOut } = await worker.stop();
    if (timedOut) {
      // A transaction still open is rolled back by the server when the connection drops.
      app.log.error({ timeoutMs: app.config.sync.shutdownTimeoutMs }, 'runs did not finish in time; exiting');
      app.log.flush?.();
      process.exit(EXIT_SHUTDOWN_TIMEOUT);
    }
    app.log.info('worker stopped');
    // If a forgotten handle kept the process alive after the database is closed, leave anyway
    // (unref'd: it never delays a clean exit). The signal handlers stay: a signal during the
    // closing of the database still exits at once.
    setTimeout(() => process.exit(process.exitCode ?? EXIT_OK), LINGER_MS).unref();
    return EXIT_OK;
  } catch (err) {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    throw err;
  }
}
