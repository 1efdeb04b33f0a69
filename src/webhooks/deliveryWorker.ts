import type pg from 'pg';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { buildPayload, type DeliveryRow } from './deliveryPayload.js';
import { hookKey, type WebhookConfig } from './hookMatch.js';
import { SIGNATURE_HEADER, signBody } from './signature.js';
import type { WebhookMetrics } from './webhookMetrics.js';

export interface WebhookDelivery {
  /** Stops claiming, aborts the request in flight (its attempt is handed back) and waits for the loop. Idempotent. */
  stop(): Promise<void>;
}

export interface WebhookDeliveryDeps {
  pool: pg.Pool;
  log: Logger;
  hooks: readonly WebhookConfig[];
  options: Config['webhookDelivery'];
  metrics: WebhookMetrics;
  userAgent: string;
}

const ERROR_EXCERPT = 300;

/**
 * Sends the outbox: every `pollMs` it claims due deliveries one at a time and POSTs them. It runs
 * beside the jobs and never holds a transaction or a connection while a receiver answers, so a
 * slow or failing receiver cannot hold up a sync. A claim moves the due time past the request's
 * timeout (a lease): a worker killed mid-delivery leaves the delivery to be sent again then.
 */
export function startWebhookDelivery(deps: WebhookDeliveryDeps): WebhookDelivery {
  const { pool, log, options } = deps;
  const byKey = new Map(deps.hooks.map((h) => [hookKey(h), h]));
  const leaseMs = 2 * options.timeoutMs;
  const abort = new AbortController();
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;

  async function drain(): Promise<void> {
    while (!stopped) {
      const d = await claim(pool, leaseMs, [...byKey.keys()]);
      if (!d) return;
      await deliver(d);
    }
  }

  async function deliver(d: DeliveryRow): Promise<void> {
    const hook = byKey.get(d.hook)!; // claim() only takes deliveries of configured hooks
    const body = await buildPayload(pool, d);
    const answer = await post(hook, d.id, body, options.timeoutMs, abort.signal, deps.userAgent);
    if (answer.error === undefined) {
      await finish(pool, d.id, 'delivered', answer.status, null);
      deps.metrics.attempt(d.hook, 'delivered');
      log.info({ delivery: d.id, hook: d.hook, attempts: d.attempts, changes: d.change_ids.length }, 'webhook delivered');
      return;
    }
    if (stopped) {
      // Cut short by shutdown: not the receiver's fault, the attempt is handed back.
      await pool.query('update ctgov.webhook_deliveries set attempts = attempts - 1, next_attempt_at = now() where id = $1', [d.id]);
      return;
    }
    if (d.attempts >= options.maxAttempts) {
      const why = `gave up after ${d.attempts} attempts; last: ${answer.error}`;
      await finish(pool, d.id, 'failed', answer.status, why);
      deps.metrics.attempt(d.hook, 'failed');
      log.warn({ delivery: d.id, hook: d.hook, attempts: d.attempts, err: answer.error }, 'webhook delivery failed for good');
      return;
    }
    const delayMs = backoffMs(d.attempts, options);
    await pool.query(
      `update ctgov.webhook_deliveries
          set next_attempt_at = now() + make_interval(secs => $2::float8 / 1000), last_status = $3, last_error = $4
        where id = $1`,
      [d.id, delayMs, answer.status, answer.error],
    );
    deps.metrics.attempt(d.hook, 'retry');
    log.warn({ delivery: d.id, hook: d.hook, attempts: d.attempts, delayMs, err: answer.error }, 'webhook delivery failed, will retry');
  }

  function tick(): void {
    timer = undefined;
    if (stopped || running) return;
    running = drain()
      .catch((err: unknown) => log.warn({ err: err instanceof Error ? err.message : String(err) }, 'webhook delivery loop failed'))
      .finally(() => {
        running = undefined;
        if (!stopped) timer = setTimeout(tick, options.pollMs);
      });
  }

  timer = setTimeout(tick, 0);
  let stopping: Promise<void> | undefined;
  return {
    stop() {
      stopping ??= (async () => {
        stopped = true;
        if (timer) clearTimeout(timer);
        abort.abort(new Error('worker shutting down'));
        await running;
      })();
      return stopping;
    },
  };
}

/**
 * Only deliveries of hooks this worker is configured with: a worker still running an older
 * configuration leaves a new hook's deliveries to one that knows its url and secret.
 */
async function claim(pool: pg.Pool, leaseMs: number, hooks: string[]): Promise<DeliveryRow | undefined> {
  if (hooks.length === 0) return undefined;
  const { rows } = await pool.query<DeliveryRow>(
    `update ctgov.webhook_deliveries d
        set attempts = d.attempts + 1, next_attempt_at = now() + make_interval(secs => $1::float8 / 1000)
      where d.id = (select id from ctgov.webhook_deliveries
                     where status = 'pending' and next_attempt_at <= now() and hook = any ($2::text[])
                     order by next_attempt_at, id limit 1 for update skip locked)
      returning d.id, d.hook, d.run_id, d.change_ids, d.attempts`,
    [leaseMs, hooks],
  );
  return rows[0];
}

function finish(pool: pg.Pool, id: number, status: 'delivered' | 'failed', httpStatus: number | null, error: string | null): Promise<unknown> {
  return pool.query(
    `update ctgov.webhook_deliveries
        set status = $2, last_status = $3, last_error = $4,
            delivered_at = case when $2 = 'delivered' then now() end
      where id = $1`,
    [id, status, httpStatus, error],
  );
}

/** Exponential: base, 2×base, 4×base … capped at maxDelayMs, ±20 % so that hooks failing together spread out. */
export function backoffMs(attempt: number, options: Pick<Config['webhookDelivery'], 'baseDelayMs' | 'maxDelayMs'>): number {
  const exp = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exp * (0.8 + 0.4 * Math.random()));
}

async function post(
  hook: WebhookConfig,
  deliveryId: number,
  body: string,
  timeoutMs: number,
  shutdown: AbortSignal,
  userAgent: string,
): Promise<{ status: number | null; error?: string }> {
  try {
    const res = await fetch(hook.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': userAgent,
        [SIGNATURE_HEADER]: signBody(hook.secret, body),
        'idempotency-key': `ctgov-sync-delivery-${deliveryId}`,
        'x-ctgov-sync-delivery': String(deliveryId),
      },
      body,
      redirect: 'manual',
      signal: AbortSignal.any([shutdown, AbortSignal.timeout(timeoutMs)]),
    });
    const text = await res.text().catch(() => '');
    if (res.status >= 200 && res.status < 300) return { status: res.status };
    return { status: res.status, error: `HTTP ${res.status}${text ? `: ${text.slice(0, ERROR_EXCERPT)}` : ''}` };
  } catch (err) {
    const e = err as Error & { cause?: { message?: string } };
    return { status: null, error: e.cause?.message ? `${e.message}: ${e.cause.message}` : e.message || String(err) };
  }
}
