import type pg from 'pg';

export interface StudyFacts {
  nctId: string;
  briefTitle: string | null;
  officialTitle: string | null;
  overallStatus: string | null;
  phases: string[];
  studyType: string | null;
  enrollmentCount: number | null;
  leadSponsor: string | null;
  startDate: string | null;
  primaryCompletionDate: string | null;
  lastUpdatePostDate: string | null;
  firstSeenAt: Date;
  lastSeenAt: Date;
  removedAt: Date | null;
  currentVersionId: number | null;
}

export interface VersionEntry {
  id: number;
  firstSeenAt: Date;
  lastSeenAt: Date;
  ctLastUpdatePostDate: string | null;
  /** Change rows recorded with this version, and the sections (`status`, `locations`, …) they touch. */
  changeCount: number;
  sections: string[];
}

export async function loadStudyFacts(pool: pg.Pool, nctId: string): Promise<StudyFacts | undefined> {
  const { rows } = await pool.query<StudyFacts>(
    `select nct_id as "nctId", brief_title as "briefTitle", official_title as "officialTitle",
            overall_status as "overallStatus", phases, study_type as "studyType", enrollment_count as "enrollmentCount",
            lead_sponsor as "leadSponsor", start_date as "startDate", primary_completion_date as "primaryCompletionDate",
            last_update_post_date::text as "lastUpdatePostDate", first_seen_at as "firstSeenAt", last_seen_at as "lastSeenAt",
            removed_at as "removedAt", current_version_id as "currentVersionId"
       from ctgov.studies where nct_id = $1`,
    [nctId],
  );
  return rows[0];
}

/** The study's versions, newest first, each with what its change rows touched. */
export async function loadTimeline(pool: pg.Pool, nctId: string): Promise<VersionEntry[]> {
  const { rows } = await pool.query<VersionEntry>(
    `select v.id, v.first_seen_at as "firstSeenAt", v.last_seen_at as "lastSeenAt",
            v.ct_last_update_post_date::text as "ctLastUpdatePostDate",
            coalesce(c.n, 0)::int as "changeCount", coalesce(c.sections, '{}') as sections
       from ctgov.study_versions v
       left join lateral (
         select count(*) as n, array_agg(distinct split_part(path, '.', 1) order by split_part(path, '.', 1)) as sections
           from ctgov.field_changes where nct_id = v.nct_id and version_id = v.id
       ) c on true
      where v.nct_id = $1
      order by v.first_seen_at desc, v.id desc`,
    [nctId],
  );
  return rows;
}

/** Raw records of two versions of one study (a version of another study is not found). */
export async function loadVersionRaws(pool: pg.Pool, nctId: string, ids: readonly number[]): Promise<Map<number, unknown>> {
  const { rows } = await pool.query<{ id: number; raw: unknown }>(
    'select id, raw from ctgov.study_versions where nct_id = $1 and id = any ($2::bigint[])',
    [nctId, ids],
  );
  return new Map(rows.map((r) => [r.id, r.raw]));
}
