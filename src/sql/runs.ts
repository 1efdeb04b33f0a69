import type pg from 'pg';

export type RunTrigger = 'cron' | 'cli' | 'queue' | 'import' | 'startup';
export type RunStatus = 'succeeded' | 'partial' | 'failed' | 'skipped';

export interface RunCounts {
  requested: number;
  fetched: number;
  inserted: number;
  changed: number;
  unchanged: number;
  removed: number;
  failed: number;
  http_requests: number;
}

export async function startRun(
  pool: pg.Pool,
  run: { job: string; trigger: RunTrigger; observedAt: Date; params?: unknown; requested?: number },
): Promise<number> {
  const { rows } = await pool.query<{ id: number }>(
    `insert into ctgov.sync_runs (job, trigger, observed_at, params, requested)
     values ($1, $2, $3, $4, $5) returning id`,
    [run.job, run.trigger, run.observedAt, run.params === undefined ? null : JSON.stringify(run.params), run.requested ?? 0],
  );
  return rows[0]!.id;
}

export async function addRequested(pool: pg.Pool, runId: number, n: number): Promise<void> {
  await pool.query('update ctgov.sync_runs set requested = requested + $2 where id = $1', [runId, n]);
}

/**
 * Closes a run. The status is derived from its counts unless given: `partial` when some
 * studies failed. Returns the final counts.
 */
export async function finishRun(
  pool: pg.Pool,
  runId: number,
  outcome: { status?: RunStatus; error?: string; httpRequests?: number },
): Promise<RunCounts & { status: RunStatus }> {
  const { rows } = await pool.query<RunCounts & { status: RunStatus }>(
    `update ctgov.sync_runs
        set finished_at = now(),
            http_requests = http_requests + $4,
            error = $3,
            status = coalesce($2, case when failed > 0 then 'partial' else 'succeeded' end)
      where id = $1
      returning status, requested, fetched, inserted, changed, unchanged, removed, failed, http_requests`,
    [runId, outcome.status ?? null, outcome.error ?? null, outcome.httpRequests ?? 0],
  );
  return rows[0]!;
}
