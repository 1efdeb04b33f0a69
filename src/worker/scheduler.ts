import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from '../log.js';

export interface ScheduleEntry {
  name: string;
  expression: string;
}

export interface Scheduler {
  readonly running: boolean;
  /** Stops every task: no tick fires after this resolves. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Fires `onTick(name)` on each entry's cron schedule (node-cron; 6-field expressions tick by the
 * second) in `timezone`. Ticks are fire-and-forget: overlap and locking are the runner's business.
 */
export function startScheduler(entries: readonly ScheduleEntry[], timezone: string, log: Logger, onTick: (name: string) => void): Scheduler {
  const cronLog = log.child({ component: 'cron' });
  const logger = {
    info: (m: string) => cronLog.debug(m),
    warn: (m: string) => cronLog.debug(m),
    error: (m: string | Error) => cronLog.warn({ err: m }, 'cron error'),
    debug: (m: string | Error) => cronLog.trace({ msg: String(m) }, 'cron debug'),
  };
  const tasks: ScheduledTask[] = entries.map((e) =>
    cron.schedule(
      e.expression,
      () => {
        try {
          onTick(e.name);
        } catch (err) {
          log.error({ job: e.name, err }, 'tick failed');
        }
      },
      { name: `ctgov-sync:${e.name}`, timezone, logger },
    ),
  );
  for (const t of tasks) {
    // A late tick (event loop busy) is only worth a debug line: the next one comes anyway.
    t.on('execution:missed', (c) => cronLog.debug({ task: t.name, at: c.date }, 'cron tick missed'));
  }
  let running = true;
  let stopping: Promise<void> | undefined;
  log.info({ jobs: Object.fromEntries(entries.map((e) => [e.name, e.expression])), timezone }, 'scheduler started');
  return {
    get running() {
      return running;
    },
    stop() {
      running = false;
      stopping ??= (async () => {
        for (const t of tasks) {
          await t.stop();
          await t.destroy();
        }
      })();
      return stopping;
    },
  };
}
