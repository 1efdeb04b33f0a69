import { Counter, Gauge, type Registry } from 'prom-client';
import type pg from 'pg';

export type AttemptOutcome = 'delivered' | 'retry' | 'failed';

export interface WebhookMetrics {
  attempt(hook: string, outcome: AttemptOutcome): void;
}

/** Delivery attempts by outcome, and the outbox by status (read from the database at scrape time). */
export function createWebhookMetrics(registry: Registry, pool: pg.Pool): WebhookMetrics {
  const attempts = new Counter({
    name: 'ctgov_sync_webhook_attempts_total',
    help: 'Webhook delivery attempts by hook and outcome (delivered, retry = failed and rescheduled, failed = given up)',
    labelNames: ['hook', 'outcome'],
    registers: [registry],
  });
  new Gauge({
    name: 'ctgov_sync_webhook_outbox',
    help: 'Webhook deliveries in the outbox by status',
    labelNames: ['status'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const status of ['pending', 'delivered', 'failed']) this.set({ status }, 0);
      try {
        const { rows } = await pool.query<{ status: string; n: number }>(
          'select status, count(*)::int as n from ctgov.webhook_deliveries group by status',
        );
        for (const r of rows) this.set({ status: r.status }, r.n);
      } catch {
        // the database is away: /healthz says so; the scrape keeps the other metrics
      }
    },
  });
  return { attempt: (hook, outcome) => attempts.inc({ hook, outcome }) };
}
