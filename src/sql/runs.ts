import type pg from 'pg';
import type { Queryable } from '../db/transaction.js';

export type RunTrigger = 'cron' | 'cli' | 'queue' | 'import' | 'startup';
export type RunStatus = 'succeeded' | 'partial' | 'failed' | 'skipped';

/*
 * Every statement on the run tables (sync_runs, sync_failures) lives in this file.
 */

/** One sync_failures row: a study quarantined at a stage, with the reason. */
export interface FailureRecord {
  nctId: string | null;
  stage: 'fetch' | 'parse' | 'validate' | 'normalize' | 'store' | 'export' | 'history';
  error: string;
  payloadExcerpt: string | null;
}

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

/** What a batch adds to its run's counts, inside the batch's transaction. */
export type RunIncrements = Partial<Record<'fetched' | 'inserted' | 'changed' | 'unchanged' | 'removed' | 'failed', number>>;

export async function addRunCounts(client: Queryable, runId: number, add: RunIncrements): Promise<void> {
  await client.query(
    `update ctgov.sync_runs
        set fetched = fetched + $2, inserted = inserted + $3, changed = changed + $4,
            unchanged = unchanged + $5, removed = removed + $6, failed = failed + $7
      where id = $1`,
    [runId, add.fetched ?? 0, add.inserted ?? 0, add.changed ?? 0, add.unchanged ?? 0, add.removed ?? 0, add.failed ?? 0],
  );
}

export async function insertFailures(client: Queryable, runId: number, failures: readonly FailureRecord[]): Promise<void> {
  await client.query(
    `insert into ctgov.sync_failures (run_id, nct_id, stage, error, payload_excerpt)
     select $1, r.nct_id, r.stage, r.error, r.payload_excerpt
       from json_to_recordset($2::json) as r(nct_id text, stage text, error text, payload_excerpt text)`,
    [
      runId,
      JSON.stringify(
        failures.map((f) => ({ nct_id: f.nctId, stage: f.stage, error: f.error, payload_excerpt: f.payloadExcerpt })),
      ),
    ],
  );
}

/** Adds to a run's params (a jsonb object), and sets its requested count when given. */
export async function mergeRunParams(pool: pg.Pool, runId: number, params: Record<string, unknown>, requested?: number): Promise<void> {
  await pool.query(
    `update ctgov.sync_runs set requested = coalesce($3, requested), params = coalesce(params, '{}'::jsonb) || $2::jsonb where id = $1`,
    [runId, JSON.stringify(params), requested ?? null],
  );
}

/** Whether a run of one of these jobs has completed (succeeded or partial) before. */
export async function hasCompletedRun(pool: pg.Pool, jobs: readonly string[]): Promise<boolean> {
  const { rows } = await pool.query<{ yes: boolean }>(
    `select exists (select 1 from ctgov.sync_runs
                     where job = any($1::text[]) and status in ('succeeded', 'partial')) as yes`,
    [jobs],
  );
  return rows[0]?.yes === true;
}

/** When each job last finished without failing. */
export async function selectLastSuccesses(pool: pg.Pool): Promise<Array<{ job: string; at: Date }>> {
  const { rows } = await pool.query<{ job: string; at: Date }>(
    `select job, max(finished_at) as at from ctgov.sync_runs
      where status in ('succeeded', 'partial', 'skipped') and finished_at is not null
      group by job`,
  );
  return rows;
}

/** Closes every run still marked running as failed (abandoned); returns how many. */
export async function failRunningRuns(pool: pg.Pool): Promise<number> {
  const result = await pool.query(
    `update ctgov.sync_runs set status = 'failed', finished_at = now(),
            error = coalesce(error, 'abandoned: the process stopped before the run finished')
      where status = 'running'`,
  );
  return result.rowCount ?? 0;
}

/** Closes the run's row as failed if it is still running; inserts a failed row if it has none. */
export async function recordFailedRun(pool: pg.Pool, run: { job: string; trigger: RunTrigger; observedAt: Date; error: string }): Promise<void> {
  await pool.query(
    `with closed as (
       update ctgov.sync_runs set status = 'failed', finished_at = now(), error = coalesce(error, $4)
        where job = $1 and observed_at = $3 and status = 'running'
       returning id
     )
     insert into ctgov.sync_runs (job, trigger, status, observed_at, started_at, finished_at, error)
     select $1, $2, 'failed', $3, $3, now(), $4
      where not exists (select 1 from ctgov.sync_runs where job = $1 and observed_at = $3)`,
    [run.job, run.trigger, run.observedAt, run.error],
  );
}

export type RunRow = Record<string, string | number | Date | null>;

/** The most recent runs, newest first, with their counts. */
export async function selectRecentRuns(pool: pg.Pool, limit: number): Promise<RunRow[]> {
  const { rows } = await pool.query<RunRow>(
    `select id, job, trigger, status, started_at, finished_at, requested, fetched, inserted, changed, unchanged,
            removed, failed, http_requests, error
       from ctgov.sync_runs order by id desc limit $1`,
    [limit],
  );
  return rows;
}

/** The first `limit` failed studies of each run, in the order they were recorded. */
export async function selectFirstFailures(pool: pg.Pool, runIds: number[], limit: number): Promise<Map<number, Array<string | null>>> {
  if (runIds.length === 0) return new Map();
  const { rows } = await pool.query<{ run_id: string; ids: Array<string | null> }>(
    `select r.id as run_id, array(select f.nct_id from ctgov.sync_failures f where f.run_id = r.id order by f.id limit $2) as ids
       from unnest($1::bigint[]) as r(id)`,
    [runIds, limit],
  );
  return new Map(rows.map((r) => [Number(r.run_id), r.ids]));
}

/** A run's counts, or undefined when there is no such run. */
export async function selectRunCounts(pool: pg.Pool, runId: number): Promise<RunCounts | undefined> {
  const { rows } = await pool.query<RunCounts>(
    'select requested, fetched, inserted, changed, unchanged, removed, failed, http_requests from ctgov.sync_runs where id = $1',
    [runId],
  );
  return rows[0];
}

/** The first `limit` failures of a run, in the order they were recorded. */
export async function selectRunFailures(
  pool: pg.Pool,
  runId: number,
  limit: number,
): Promise<Array<{ nct_id: string | null; stage: string; error: string }>> {
  const { rows } = await pool.query<{ nct_id: string | null; stage: string; error: string }>(
    'select nct_id, stage, error from ctgov.sync_failures where run_id = $1 order by id limit $2',
    [runId, limit],
  );
  return rows;
}
