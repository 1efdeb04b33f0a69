import type pg from 'pg';
import type { NctId } from '../ctgov/nctId.js';
import { parseCtgovStudy } from '../ctgov/schema.js';
import type { Logger } from '../log.js';
import { renderMirrorIndex } from '../mirror/renderIndex.js';
import { renderMirrorPage, type MirrorChange, type MirrorSettings } from '../mirror/render.js';
import { writeMirrorIndex, writeMirrorPage } from '../mirror/write.js';
import type { ChangeKind } from '../studies/model.js';
import { normalizeStudy } from '../studies/normalize.js';

export interface MirrorTarget {
  dir: string;
  settings: MirrorSettings;
}

export interface ExportCounts {
  written: number;
  unchanged: number;
  skipped: number;
}

const CHUNK = 500;
const DAY_MS = 86_400_000;

/**
 * Renders and writes the pages of the given studies as of `now`: the version current at that
 * instant, `last_seen_at` capped at it, and the changes of the window ending at it. Pages whose
 * bytes would not change are not touched. A study first seen after `now` is skipped.
 */
export async function exportPages(pool: pg.Pool, target: MirrorTarget, ids: readonly NctId[], now: Date): Promise<ExportCounts> {
  const counts: ExportCounts = { written: 0, unchanged: 0, skipped: 0 };
  for (let i = 0; i < ids.length; i += CHUNK) {
    const chunk = ids.slice(i, i + CHUNK);
    const pages = await loadPages(pool, chunk, now, target.settings.recentChangeDays);
    counts.skipped += chunk.length - pages.length;
    for (const page of pages) {
      const study = normalizeStudy(parseCtgovStudy(page.raw));
      const text = renderMirrorPage({ study, changes: page.changes, lastSeenAt: page.lastSeenAt, now, settings: target.settings });
      counts[await writeMirrorPage(target.dir, study.nctId, text)]++;
    }
  }
  return counts;
}

/** Every stored study, in NCT ID order, a chunk at a time (memory stays bounded), then the index. */
export async function exportAll(pool: pg.Pool, target: MirrorTarget, now: Date, log: Logger): Promise<ExportCounts> {
  const total: ExportCounts = { written: 0, unchanged: 0, skipped: 0 };
  let after = '';
  for (;;) {
    const { rows } = await pool.query<{ nct_id: NctId }>(
      'select nct_id from ctgov.studies where nct_id > $1 order by nct_id limit $2',
      [after, CHUNK],
    );
    if (rows.length === 0) break;
    const c = await exportPages(pool, target, rows.map((r) => r.nct_id), now);
    total.written += c.written;
    total.unchanged += c.unchanged;
    total.skipped += c.skipped;
    after = rows[rows.length - 1]!.nct_id;
    log.debug({ after, ...total }, 'mirror export progress');
  }
  await exportIndex(pool, target, now);
  return total;
}

/** `index.md`: every study known at `now` with its status and last change. */
export async function exportIndex(pool: pg.Pool, target: MirrorTarget, now: Date): Promise<'written' | 'unchanged'> {
  const { rows } = await pool.query<{
    nct_id: string;
    brief_title: string | null;
    overall_status: string | null;
    last_changed_at: Date | null;
    last_update_post_date: string | null;
  }>(
    `select nct_id, coalesce(brief_title, official_title, nct_id) as brief_title, overall_status,
            (select max(detected_at) from ctgov.field_changes c where c.nct_id = s.nct_id and c.detected_at <= $1) as last_changed_at,
            to_char(last_update_post_date, 'YYYY-MM-DD') as last_update_post_date
       from ctgov.studies s
      where first_seen_at <= $1
      order by nct_id`,
    [now],
  );
  const text = renderMirrorIndex(
    rows.map((r) => ({
      nctId: r.nct_id,
      title: r.brief_title ?? r.nct_id,
      overallStatus: r.overall_status ?? '',
      lastChangedAt: r.last_changed_at,
      ...(r.last_update_post_date ? { ctLastUpdatePostDate: r.last_update_post_date } : {}),
    })),
  );
  return writeMirrorIndex(target.dir, text);
}

interface PageData {
  nctId: NctId;
  raw: unknown;
  lastSeenAt: Date;
  changes: MirrorChange[];
}

async function loadPages(pool: pg.Pool, ids: readonly NctId[], now: Date, windowDays: number): Promise<PageData[]> {
  const { rows } = await pool.query<{ nct_id: NctId; raw: unknown; last_seen_at: Date }>(
    `select s.nct_id, v.raw, least(s.last_seen_at, $2) as last_seen_at
       from ctgov.studies s
       cross join lateral (
         select raw from ctgov.study_versions v
          where v.nct_id = s.nct_id and v.first_seen_at <= $2
          order by v.first_seen_at desc, v.id desc
          limit 1
       ) v
      where s.nct_id = any($1::text[])`,
    [ids, now],
  );
  const changes = await pool.query<{ nct_id: NctId; path: string; kind: ChangeKind; detected_at: Date }>(
    `select nct_id, path, kind, detected_at
       from ctgov.field_changes
      where nct_id = any($1::text[]) and detected_at <= $2 and detected_at > $3`,
    [ids, now, new Date(now.getTime() - windowDays * DAY_MS)],
  );
  const byStudy = new Map<NctId, MirrorChange[]>();
  for (const c of changes.rows) {
    const list = byStudy.get(c.nct_id) ?? [];
    list.push({ path: c.path, kind: c.kind, detectedAt: c.detected_at });
    byStudy.set(c.nct_id, list);
  }
  return rows.map((r) => ({ nctId: r.nct_id, raw: r.raw, lastSeenAt: r.last_seen_at, changes: byStudy.get(r.nct_id) ?? [] }));
}
