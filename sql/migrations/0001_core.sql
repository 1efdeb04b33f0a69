-- Core tables: runs, studies, versions, per-field change history.
-- Schema ctgov and the migration ledger are created by the migrator before this file runs.

create table ctgov.sync_runs (
  id            bigint generated always as identity primary key,
  job           text not null,
  trigger       text not null check (trigger in ('cron', 'cli', 'queue', 'import', 'startup')),
  status        text not null default 'running'
                check (status in ('running', 'succeeded', 'partial', 'failed', 'skipped')),
  started_at    timestamptz not null default now(),
  finished_at   timestamptz,
  observed_at   timestamptz not null,
  requested     integer not null default 0,
  fetched       integer not null default 0,
  inserted      integer not null default 0,
  changed       integer not null default 0,
  unchanged     integer not null default 0,
  removed       integer not null default 0,
  failed        integer not null default 0,
  http_requests integer not null default 0,
  params        jsonb,
  error         text
);
create index sync_runs_job_started_idx on ctgov.sync_runs (job, started_at desc);

create table ctgov.studies (
  nct_id                       text primary key check (nct_id ~ '^NCT[0-9]{8}$'),
  brief_title                  text,
  official_title               text,
  acronym                      text,
  overall_status               text,
  last_known_status            text,
  why_stopped                  text,
  study_type                   text,
  phases                       text[] not null default '{}',
  enrollment_count             integer,
  enrollment_type              text,
  lead_sponsor                 text,
  lead_sponsor_class           text,
  start_date                   text,
  start_date_sort              date,
  primary_completion_date      text,
  primary_completion_date_sort date,
  completion_date              text,
  completion_date_sort         date,
  study_first_post_date        date,
  last_update_post_date        date,
  results_first_post_date      date,
  has_results                  boolean not null default false,
  content_hash                 text not null,
  current_version_id           bigint,
  first_seen_at                timestamptz not null,
  last_seen_at                 timestamptz not null,
  last_changed_at              timestamptz not null,
  removed_at                   timestamptz
);
create index studies_overall_status_idx on ctgov.studies (overall_status);
create index studies_last_seen_idx on ctgov.studies (last_seen_at);
create index studies_last_update_post_idx on ctgov.studies (last_update_post_date);

-- Every distinct observed raw record; content_hash excludes noise fields and list order.
create table ctgov.study_versions (
  id                       bigint generated always as identity primary key,
  nct_id                   text not null references ctgov.studies (nct_id) on delete cascade,
  content_hash             text not null,
  raw                      jsonb not null,
  ct_last_update_post_date date,
  first_seen_at            timestamptz not null,
  last_seen_at             timestamptz not null,
  run_id                   bigint references ctgov.sync_runs (id)
);
create index study_versions_nct_seen_idx on ctgov.study_versions (nct_id, first_seen_at);

alter table ctgov.studies
  add constraint studies_current_version_fk foreign key (current_version_id)
  references ctgov.study_versions (id) deferrable initially deferred;

-- One row per changed field path.
create table ctgov.field_changes (
  id                       bigint generated always as identity primary key,
  nct_id                   text not null references ctgov.studies (nct_id) on delete cascade,
  path                     text not null,
  kind                     text not null check (kind in ('added', 'changed', 'removed')),
  old_value                jsonb,
  new_value                jsonb,
  detected_at              timestamptz not null,
  run_id                   bigint references ctgov.sync_runs (id),
  version_id               bigint references ctgov.study_versions (id),
  ct_last_update_post_date date
);
create index field_changes_study_time_idx on ctgov.field_changes (nct_id, detected_at);
create index field_changes_path_time_idx on ctgov.field_changes (path, detected_at);
create index field_changes_time_idx on ctgov.field_changes (detected_at);
create index field_changes_run_idx on ctgov.field_changes (run_id);

create table ctgov.study_aliases (
  alias         text primary key check (alias ~ '^NCT[0-9]{8}$'),
  nct_id        text not null check (nct_id ~ '^NCT[0-9]{8}$'),
  first_seen_at timestamptz not null default now()
);
