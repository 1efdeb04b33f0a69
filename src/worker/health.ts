import type pg from 'pg';
import type { CtgovStateReport } from './ctgovState.js';
import { withTimeout } from './withTimeout.js';

export interface HealthInputs {
  pool: pg.Pool;
  schedulerRunning(): boolean;
  queueMode(): 'listening' | 'polling';
  /** Jobs with a run in progress. */
  runningJobs(): string[];
  /** CT.gov's state: reported, but an upstream outage does not make the worker unhealthy. */
  ctgov?(): CtgovStateReport;
}

export interface HealthReport {
  ok: boolean;
  body: {
    status: 'ok' | 'unavailable';
    database: 'ok' | 'unreachable';
    databaseError?: string;
    scheduler: 'running' | 'stopped';
    queue: 'listening' | 'polling';
    running: string[];
    ctgov?: CtgovStateReport;
  };
}

const DB_TIMEOUT_MS = 2000;

/** Healthy when the database answers `select 1` (within 2 s) and the scheduler is running. */
export async function checkHealth(inputs: HealthInputs): Promise<HealthReport> {
  let databaseError: string | undefined;
  try {
    await withTimeout(inputs.pool.query('select 1'), DB_TIMEOUT_MS);
  } catch (err) {
    databaseError = (err as Error).message || String(err);
  }
  const scheduler = inputs.schedulerRunning();
  const ok = databaseError === undefined && scheduler;
  return {
    ok,
    body: {
      status: ok ? 'ok' : 'unavailable',
      database: databaseError === undefined ? 'ok' : 'unreachable',
      ...(databaseError !== undefined ? { databaseError } : {}),
      scheduler: scheduler ? 'running' : 'stopped',
      queue: inputs.queueMode(),
      running: inputs.runningJobs(),
      ...(inputs.ctgov ? { ctgov: inputs.ctgov() } : {}),
    },
  };
}
