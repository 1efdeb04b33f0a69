import { readdir } from 'node:fs/promises';
import type pg from 'pg';
import type { NctId } from '../ctgov/nctId.js';
import { exportAll, exportIndex, exportPages, type ExportCounts } from '../pipeline/exportMirror.js';
import { mirrorTarget } from '../pipeline/mirrorTarget.js';
import { finishRun, mergeRunParams, startRun } from '../sql/runs.js';
import type { JobContext, JobResult } from '../worker/job.js';
import { readSyncState, writeSyncState } from './syncState.js';
import { DAY_MS } from '../days.js';

export const MIRROR_STATE_KEY = 'mirror.lastRenderedAt';

/**
 * Keeps the mirror current between syncs (which re-export the pages of what they change):
 * re-renders the pages from which a change has dropped out of the "last N days" list since the
 * previous render, i.e. studies with changes detected in (lastRendered − N days, now − N days],
 * writes the pages missing on disk, and the index. The first run renders every page.
 */
export async function refreshMirror(ctx: JobContext): Promise<JobResult | undefined> {
  const { config, db } = ctx.app;
  if (!config.mirror.enabled) return undefined;
  const pool = db.pool;
  const target = mirrorTarget(config);
  const now = ctx.observedAt;
  const last = await readSyncState<{ at: string }>(pool, MIRROR_STATE_KEY);
  const lastAt = last ? new Date(last.at) : undefined;
  const runId = await startRun(pool, { job: 'mirror', trigger: ctx.trigger, observedAt: now, params: { lastRenderedAt: last?.at ?? null } });
  let counts: ExportCounts;
  let requested: number;
  if (!lastAt || Number.isNaN(lastAt.getTime()) || lastAt > now) {
    counts = await exportAll(pool, target, now, ctx.log);
    requested = counts.written + counts.unchanged + counts.skipped;
  } else {
    const windowMs = config.mirror.recentChangeDays * DAY_MS;
    const ids = new Set<NctId>([
      ...(await changesLeavingWindow(pool, new Date(lastAt.getTime() - windowMs), new Date(now.getTime() - windowMs))),
      ...(await missingPages(pool, target.dir, now)),
    ]);
    counts = await exportPages(pool, target, [...ids].sort(), now);
    await exportIndex(pool, target, now);
    requested = ids.size;
  }
  await mergeRunParams(pool, runId, { pagesWritten: counts.written, pagesUnchanged: counts.unchanged }, requested);
  const final = await finishRun(pool, runId, {});
  await writeSyncState(pool, MIRROR_STATE_KEY, { at: now.toISOString() });
  ctx.log.info({ runId, ...counts }, 'mirror refreshed');
  const { status, ...rest } = final;
  return { status, runId, counts: rest };
}

async function changesLeavingWindow(pool: pg.Pool, after: Date, upTo: Date): Promise<NctId[]> {
  const { rows } = await pool.query<{ nct_id: NctId }>(
    'select distinct nct_id from ctgov.field_changes where detected_at > $1 and detected_at <= $2',
    [after, upTo],
  );
  return rows.map((r) => r.nct_id);
}

/** Studies known at `now` without a page in `dir`. */
async function missingPages(pool: pg.Pool, dir: string, now: Date): Promise<NctId[]> {
  const onDisk = new Set((await readdir(dir).catch(() => [] as string[])).filter((f) => /^NCT\d{8}\.md$/.test(f)).map((f) => f.slice(0, 11)));
  const missing: NctId[] = [];
  let after = '';
  for (;;) {
    const { rows } = await pool.query<{ nct_id: NctId }>(
      'select nct_id from ctgov.studies where nct_id > $1 and first_seen_at <= $2 order by nct_id limit 5000',
      [after, now],
    );
    if (rows.length === 0) return missing;
    for (const r of rows) if (!onDisk.has(r.nct_id)) missing.push(r.nct_id);
    after = rows[rows.length - 1]!.nct_id;
  }
}
