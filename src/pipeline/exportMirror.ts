import pg from 'pg';
import type { NctId } from '../ctgov/nctId.js';
import { validateCtgovStudy } from '../ctgov/schema.js';
import type { Logger } from '../log.js';
import type { ValuedChange } from '../mirror/full/changeLines.js';
import { renderFullPage, type FullPageLimits } from '../mirror/full/renderFullPage.js';
import { renderMirrorIndex } from '../mirror/renderIndex.js';
import { mirroredPathPatterns, renderMirrorPage, type MirrorChange, type MirrorSettings } from '../mirror/render.js';
import { MirrorPageBatch, PageListing, writeMirrorIndex } from '../mirror/write.js';
import type { ChangeKind, Json } from '../studies/model.js';
import { normalizeValidated } from '../studies/normalize.js';
import { DAY_MS } from '../days.js';

export type MirrorProfile = 'golden' | 'full';

export interface MirrorTarget {
  dir: string;
  settings: MirrorSettings;
  /** `golden` (the default) or `full`: the whole record, results included. */
  profile?: MirrorProfile;
  /** Table bounds of the `full` profile. */
  limits?: FullPageLimits;
}

/** For a target built without configuration (tests, tools): config/default.json's bounds. */
const DEFAULT_LIMITS: FullPageLimits = { maxTableRows: 25, maxTableColumns: 8 };

export interface ExportCounts {
  written: number;
  unchanged: number;
  skipped: number;
}

/** Tuning knobs, for tests: the defaults suit every caller. */
export interface ExportOptions {
  /** Studies loaded per round of queries (memory holds at most two such chunks). */
  chunkSize?: number;
  /** Pages being written at once (each write waits on the disk: read, fsync, rename). */
  writers?: number;
  /** Called after each chunk with the number of studies it held (a progress bar). */
  onChunk?: (studies: number) => void;
}

const CHUNK = 500;
const WRITERS = 16;

/**
 * Renders and writes the pages of the given studies as of `now`: the version current at that
 * instant, `last_seen_at` capped at it, and the changes of the window ending at it. Pages whose
 * bytes would not change are not touched. A study first seen after `now` is skipped.
 */
export async function exportPages(
  pool: pg.Pool,
  target: MirrorTarget,
  ids: readonly NctId[],
  now: Date,
  options: ExportOptions = {},
): Promise<ExportCounts> {
  const size = options.chunkSize ?? CHUNK;
  async function* chunks(): AsyncGenerator<readonly NctId[]> {
    for (let i = 0; i < ids.length; i += size) yield ids.slice(i, i + size);
  }
  return exportChunks(pool, target, now, chunks(), options, (chunk) => options.onChunk?.(chunk.length));
}

/** Every stored study, in NCT ID order, a chunk at a time (memory stays bounded), then the index. */
export async function exportAll(pool: pg.Pool, target: MirrorTarget, now: Date, log: Logger, options: ExportOptions = {}): Promise<ExportCounts> {
  const size = options.chunkSize ?? CHUNK;
  async function* chunks(): AsyncGenerator<readonly NctId[]> {
    let after = '';
    for (;;) {
      const { rows } = await pool.query<{ nct_id: NctId }>(
        'select nct_id from ctgov.studies where nct_id > $1 order by nct_id limit $2',
        [after, size],
      );
      if (rows.length === 0) return;
      after = rows[rows.length - 1]!.nct_id;
      yield rows.map((r) => r.nct_id);
    }
  }
  // The whole mirror: one listing of the folder spares reading each page it does not hold yet.
  const listing = await PageListing.of(target.dir);
  const total = await exportChunks(pool, target, now, chunks(), { ...options, listing }, (ids, counts) => {
    log.debug({ after: ids[ids.length - 1], ...counts }, 'mirror export progress');
    options.onChunk?.(ids.length);
  });
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
    removed_at: Date | null;
  }>(
    `select nct_id, coalesce(brief_title, official_title, nct_id) as brief_title, overall_status,
            (select max(detected_at) from ctgov.field_changes c where c.nct_id = s.nct_id and c.detected_at <= $1) as last_changed_at,
            to_char(last_update_post_date, 'YYYY-MM-DD') as last_update_post_date,
            case when removed_at <= $1 then removed_at end as removed_at
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
      ...(r.removed_at ? { removedAt: r.removed_at } : {}),
    })),
  );
  return writeMirrorIndex(target.dir, text);
}

interface Chunk {
  ids: readonly NctId[];
  /** The studies of `ids` known at `now`; each entry is dropped once its page is written. */
  pages: Array<PageData | undefined>;
}

interface PageData {
  /** The stored record as JSON text: parsed only when its page is rendered, so a waiting chunk stays small. */
  raw: string;
  lastSeenAt: Date;
  /** With old and new values for the `full` profile. */
  changes: ValuedChange[];
  removedAt: Date | null;
}

/**
 * The export as a pipeline: while one chunk's pages are rendered and written (several writes in
 * flight, so the disk's waits overlap), the next chunk's rows are already being read. At most
 * two chunks are in memory.
 */
async function exportChunks(
  pool: pg.Pool,
  target: MirrorTarget,
  now: Date,
  chunks: AsyncIterator<readonly NctId[]>,
  options: ExportOptions & { listing?: PageListing },
  progress?: (ids: readonly NctId[], counts: ExportCounts) => void,
): Promise<ExportCounts> {
  const counts: ExportCounts = { written: 0, unchanged: 0, skipped: 0 };
  const load = (): Promise<Chunk | undefined> => {
    const loading = (async () => {
      const next = await chunks.next();
      if (next.done) return undefined;
      return { ids: next.value, pages: await loadPages(pool, next.value, now, target.settings, target.profile === 'full') };
    })();
    // A read may fail while the previous chunk is still being written: it is thrown when the
    // loop gets to it, and must not count as unhandled until then.
    loading.catch(() => undefined);
    return loading;
  };
  let pending = load();
  try {
    for (;;) {
      const chunk = await pending;
      if (!chunk) return counts;
      pending = load();
      counts.skipped += chunk.ids.length - chunk.pages.length;
      await writePages(target, chunk.pages, now, counts, options.writers ?? WRITERS, options.listing);
      progress?.(chunk.ids, counts);
    }
  } catch (err) {
    // Nothing of this export may still be running once it has failed.
    await pending.catch(() => undefined);
    throw err;
  }
}

/**
 * Renders and writes a chunk's pages, `writers` at a time, as one MirrorPageBatch: each page is
 * rendered just before it goes to its temp file and dropped after it; once every page is staged,
 * the batch is fsynced and renamed in place. The first failure stops further pages; the writes
 * already under way finish, the staged ones are discarded (the pages stay as they were), then it
 * is thrown.
 */
async function writePages(
  target: MirrorTarget,
  pages: Array<PageData | undefined>,
  now: Date,
  counts: ExportCounts,
  writers: number,
  listing?: PageListing,
): Promise<void> {
  const batch = new MirrorPageBatch(target.dir, listing);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const writer = async (): Promise<void> => {
    while (!failure && next < pages.length) {
      const page = pages[next]!;
      pages[next++] = undefined;
      try {
        // Read again from the stored version rather than taken from the batch that wrote it: the
        // page shows the version current at `now` (an export may render the past), and the same
        // code serves the export command and the mirror job, which have no batch in memory.
        const study = normalizeValidated(validateCtgovStudy(JSON.parse(page.raw)));
        const input = {
          study,
          changes: page.changes,
          lastSeenAt: page.lastSeenAt,
          now,
          settings: target.settings,
          ...(page.removedAt ? { removedAt: page.removedAt } : {}),
        };
        const text = target.profile === 'full' ? renderFullPage({ ...input, limits: target.limits ?? DEFAULT_LIMITS }) : renderMirrorPage(input);
        if ((await batch.stage(study.nctId, text)) === 'unchanged') counts.unchanged++;
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(writers, pages.length)) }, writer));
  if (failure) {
    await batch.abort();
    throw failure.error;
  }
  counts.written += await batch.commit();
}

/**
 * What a golden page reads of a record: `protocolSection` without the modules no golden page
 * shows, and `hasResults` (its `results.hasResults`). The rest (the results, often half a
 * record's bytes, the derived MeSH terms, documents, references…) stays in the database rather
 * than being sent, decoded, parsed, validated and normalized for nothing; what a page shows is
 * read, validated and normalized as before. The two parts are joined as text, so Postgres
 * rebuilds no jsonb but the protocol section's. The full profile reads the whole record.
 */
const UNSHOWN_PROTOCOL_MODULES = ['referencesModule', 'oversightModule', 'ipdSharingStatementModule'];

const TIMESTAMPTZ = 1184;

/**
 * Type parsers for one query whose rows repeat a few instants many times (a sync stamps all its
 * changes with one detected_at): each distinct text is parsed once, by the usual parser.
 */
function sharedTimestamps(): pg.CustomTypesConfig {
  const parse = pg.types.getTypeParser(TIMESTAMPTZ, 'text') as (text: string) => Date;
  const seen = new Map<string, Date>();
  const parseOnce = (text: string): Date => {
    let date = seen.get(text);
    if (date === undefined) {
      date = parse(text);
      seen.set(text, date);
    }
    return date;
  };
  return {
    getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
      oid === TIMESTAMPTZ && format !== 'binary' ? parseOnce : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
  };
}

async function loadPages(pool: pg.Pool, ids: readonly NctId[], now: Date, settings: MirrorSettings, full: boolean): Promise<PageData[]> {
  // Only changes the page can show: in the window and on a mirrored path (the renderer applies
  // the same tests again; these just keep the rows it would drop from being read at all).
  const { exact, prefixes } = mirroredPathPatterns(settings.mirroredPaths);
  const [studies, changes] = await Promise.all([
    pool.query<{ nct_id: NctId; raw: string; last_seen_at: Date; removed_at: Date | null }>(
      `select s.nct_id, least(s.last_seen_at, $2) as last_seen_at,
              case when s.removed_at <= $2 then s.removed_at end as removed_at,
              case when $3 then v.raw::text
                   else concat('{', '"hasResults":' || (v.raw->'hasResults')::text || ',',
                               '"protocolSection":', ((v.raw->'protocolSection') - $4::text[])::text, '}') end as raw
         from ctgov.studies s
         cross join lateral (
           select raw from ctgov.study_versions v
            where v.nct_id = s.nct_id and v.first_seen_at <= $2
            order by v.first_seen_at desc, v.id desc
            limit 1
         ) v
        where s.nct_id = any($1::text[])`,
      [ids, now, full, UNSHOWN_PROTOCOL_MODULES],
    ),
    pool.query<[NctId, string, ChangeKind, Date, Json?, Json?]>({
      // The full profile ($6) shows the values of scalar changes; lists and objects stay unread.
      // Study by study through the (nct_id, detected_at) index: `offset 0` keeps the planner from
      // turning this into one scan of every change in the window (the time index) filtered by
      // study, which it picks when it misjudges the window as small (no statistics yet after a
      // bulk load, or a first load's changes all in it) and which costs a chunk as much as the
      // whole table: the export became quadratic in the number of studies.
      text: `select c.* from unnest($1::text[]) i (nct_id) cross join lateral (
               select c.nct_id, c.path, c.kind, c.detected_at,
                      case when $6 and jsonb_typeof(old_value) in ('string', 'number', 'boolean') then old_value end,
                      case when $6 and jsonb_typeof(new_value) in ('string', 'number', 'boolean') then new_value end
                 from ctgov.field_changes c
                where c.nct_id = i.nct_id and detected_at <= $2 and detected_at > $3
                  and (path = any($4::text[]) or exists (select from unnest($5::text[]) p where starts_with(path, p)))
               offset 0) c`,
      // Each study once: a study named twice would have its changes read (and shown) twice.
      values: [[...new Set(ids)], now, new Date(now.getTime() - settings.recentChangeDays * DAY_MS), exact, prefixes, full],
      rowMode: 'array',
      types: sharedTimestamps(),
    }),
  ]);
  const byStudy = new Map<NctId, ValuedChange[]>();
  for (const [nctId, path, kind, detectedAt, oldValue, newValue] of changes.rows) {
    const list = byStudy.get(nctId);
    const change: ValuedChange = full ? { path, kind, detectedAt, oldValue, newValue } : { path, kind, detectedAt };
    if (list) list.push(change);
    else byStudy.set(nctId, [change]);
  }
  return studies.rows.map((r) => ({ raw: r.raw, lastSeenAt: r.last_seen_at, changes: byStudy.get(r.nct_id) ?? [], removedAt: r.removed_at }));
}
