import { Gauge, type Registry } from 'prom-client';
import type { ClientEvent } from '../ctgov/clientEvent.js';
import type { Logger } from '../log.js';

/** CT.gov as the worker last saw it: for /healthz and /metrics, never for liveness. */
export interface CtgovStateReport {
  status: 'unknown' | 'ok' | 'failing';
  /** The first failed request of the current outage. */
  failingSince?: string;
  lastSuccess?: string;
  lastError?: string;
}

export interface CtgovState {
  onClientEvent(e: ClientEvent): void;
  report(): CtgovStateReport;
}

/**
 * Follows the outcome of every request to CT.gov. An answer below 500 (a 404 or 400 too: the
 * server is there) is a success; no answer, a 5xx or a 429 is a failure. The first failure of an
 * outage is logged once with what to check; the recovery once.
 */
export function createCtgovState(baseUrl: string, log: Logger, registry: Registry, clock: () => Date = () => new Date()): CtgovState {
  let failingSince: Date | undefined;
  let lastSuccess: Date | undefined;
  let lastError: string | undefined;
  let seen = false;
  const up = new Gauge({
    name: 'ctgov_sync_ctgov_up',
    help: 'Whether the last request to CT.gov got an answer (1) or failed (0); absent before the first request',
    registers: [registry],
  });
  const lastSuccessGauge = new Gauge({
    name: 'ctgov_sync_ctgov_last_success_timestamp_seconds',
    help: 'When a request to CT.gov last got an answer',
    registers: [registry],
  });

  return {
    onClientEvent(e) {
      if (e.type !== 'request') return;
      seen = true;
      const now = clock();
      const failed = e.status === undefined || e.status >= 500 || e.status === 429;
      if (!failed) {
        if (failingSince) log.info({ baseUrl, failingSince: failingSince.toISOString() }, 'CT.gov answers again');
        failingSince = undefined;
        lastError = undefined;
        lastSuccess = now;
        up.set(1);
        lastSuccessGauge.set(now.getTime() / 1000);
        return;
      }
      lastError = e.status === undefined ? `no answer from ${e.endpoint}` : `HTTP ${e.status} from ${e.endpoint}`;
      up.set(0);
      if (failingSince) return;
      failingSince = now;
      log.error(
        { baseUrl, error: lastError },
        `CT.gov is not answering at ${baseUrl} (CTGOV_BASE_URL); the worker retries and keeps running. ` +
          'Without internet, start the offline server (npm run fake-ctgov -- --dir tests/fixtures/ctgov/seeds --port 8090) ' +
          'and set CTGOV_BASE_URL=http://127.0.0.1:8090/api/v2',
      );
    },
    report() {
      if (!seen) return { status: 'unknown' };
      return {
        status: failingSince ? 'failing' : 'ok',
        ...(failingSince ? { failingSince: failingSince.toISOString() } : {}),
        ...(lastSuccess ? { lastSuccess: lastSuccess.toISOString() } : {}),
        ...(lastError ? { lastError } : {}),
      };
    },
  };
}
