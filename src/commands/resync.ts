import { isProcessRunning } from '../processes.js';
import type { AppContext } from '../app.js';
import type { Config } from '../config.js';
import { parseNctIds } from '../ctgov/nctId.js';
import { DbLockedError, UsageError } from '../errors.js';
import { enqueueResync, type ResyncTarget } from '../worker/enqueueResync.js';
import { readWorkerInfo } from '../worker/workerInfo.js';
import { EXIT_OK, type CliIo } from './io.js';
import { plural } from './plural.js';

export interface ResyncRequest {
  target: ResyncTarget;
  reason: string | null;
}

/** Checks `resync` arguments before anything is opened: bad NCT IDs are a usage error. */
export function parseResyncArgs(args: string[], options: { all?: boolean; reason?: string }): ResyncRequest {
  if (options.all && args.length > 0) throw new UsageError('resync: give NCT IDs or --all, not both');
  if (!options.all && args.length === 0) throw new UsageError('resync: give one or more NCT IDs, or --all');
  return { target: options.all ? 'all' : parseNctIds(args), reason: options.reason ?? null };
}

/**
 * `resync <NCT…> | --all [--reason TEXT]`: queues resync requests for the worker through
 * ctgov.request_resync (which NOTIFYs listening workers). `--all` is every actively tracked
 * study. A running worker processes them within seconds, otherwise the next one to start.
 */
export async function runResync(app: AppContext, io: CliIo, request: ResyncRequest): Promise<number> {
  const { queued } = await enqueueResync(app.db.pool, request.target, request.reason);
  io.stdout.write(describe(request, queued));
  return EXIT_OK;
}

/**
 * The embedded database is open in a running worker (one process per DATA_DIR): the request
 * goes to that worker's POST /resync instead, if DATA_DIR/worker.json names a live one.
 */
export async function resyncViaWorker(config: Config, io: CliIo, request: ResyncRequest, locked: DbLockedError): Promise<number> {
  const info = config.database.url === null ? readWorkerInfo(config.database.dataDir) : undefined;
  if (!info || !isProcessRunning(info.pid)) throw locked;
  const host = info.host === '0.0.0.0' ? '127.0.0.1' : info.host === '::' ? '::1' : info.host;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${info.port}/resync`;
  const body = request.target === 'all' ? { all: true, reason: request.reason } : { ids: request.target, reason: request.reason };
  let res: Response;
  try {
    res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  } catch (err) {
    throw new DbLockedError(`${locked.message}; and its worker (pid ${info.pid}) did not answer at ${url}: ${(err as Error).message}`);
  }
  const answer = (await res.json().catch(() => ({}))) as { queued?: number; error?: string };
  if (!res.ok || typeof answer.queued !== 'number') {
    throw new UsageError(`resync: the worker (pid ${info.pid}) refused the request: ${answer.error ?? `HTTP ${res.status}`}`);
  }
  io.stdout.write(describe(request, answer.queued));
  return EXIT_OK;
}

function describe(request: ResyncRequest, queued: number): string {
  if (queued === 0) return 'resync: no tracked studies; nothing queued\n';
  const what = request.target === 'all' ? 'every tracked study' : request.target.join(', ');
  return `queued ${plural(queued, 'resync request', 'resync requests')} for ${what}\n`;
}
