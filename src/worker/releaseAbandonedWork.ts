import { isProcessRunning } from '../processes.js';
import { hostname } from 'node:os';
import type { Database } from '../db/database.js';
import type { Logger } from '../log.js';
import { failRunningRuns } from '../sql/runs.js';
import { releaseRequestsOf, runningClaimers } from '../sql/queue.js';

/**
 * Work left half-done by a worker that was killed. On the embedded database nobody else can be
 * running (one process per DATA_DIR), so every running run and request is abandoned: runs are
 * closed as failed and requests handed back. On a server, only requests claimed by dead
 * processes of this host are known to be abandoned (others go stale and are claimed again).
 */
export async function releaseAbandonedWork(db: Database, log: Logger): Promise<void> {
  if (db.kind === 'embedded') {
    const runs = await failRunningRuns(db.pool);
    const requests = await releaseRequestsOf(db.pool, 'all');
    if (runs > 0 || requests > 0) log.warn({ runs, requests }, 'abandoned work released');
    return;
  }
  const dead = (await runningClaimers(db.pool)).filter(isDeadLocalProcess);
  if (dead.length === 0) return;
  const requests = await releaseRequestsOf(db.pool, dead);
  log.warn({ claimers: dead, requests }, 'resync requests of dead workers released');
}

function isDeadLocalProcess(claimer: string): boolean {
  const sep = claimer.lastIndexOf(':');
  const host = claimer.slice(0, sep);
  const pid = Number(claimer.slice(sep + 1));
  if (host !== hostname() || !Number.isInteger(pid) || pid <= 0 || pid === process.pid) return false;
  return !isProcessRunning(pid);
}
