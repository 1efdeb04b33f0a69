-- History backfill: a study's change history rebuilt from CT.gov's own record versions.
--
-- field_changes.source tells rows seen by our syncs and imports ('live') from rows derived from
-- CT.gov's record history ('history'); ct_version is CT.gov's 0-based version number of the
-- version that made the change (null where unknown, as for live rows). The default keeps every
-- existing writer (and every existing row) 'live' without touching it.
alter table ctgov.field_changes
  add column source text not null default 'live' check (source in ('live', 'history')),
  add column ct_version integer;

-- A version stored from CT.gov's history carries its version number and date; live versions
-- have neither.
alter table ctgov.study_versions
  add column ct_version integer,
  add column ct_version_date date;
create index study_versions_history_idx on ctgov.study_versions (nct_id, ct_version) where ct_version is not null;

-- One row per backfilled study: how much of its history is already in the tables, so that the
-- next backfill fetches only the index (and versions it has not seen).
create table ctgov.history_backfills (
  nct_id           text primary key check (nct_id ~ '^NCT[0-9]{8}$'),
  -- Versions listed by the index when it was last read, and the date of the last one used.
  versions_listed  integer not null,
  versions_used    integer not null,
  last_used_version integer,
  last_used_date   date,
  history_rows     integer not null,
  backfilled_at    timestamptz not null,
  run_id           bigint
);

alter table ctgov.sync_failures drop constraint sync_failures_stage_check;
alter table ctgov.sync_failures add constraint sync_failures_stage_check
  check (stage in ('fetch', 'parse', 'validate', 'normalize', 'store', 'export', 'history'));
