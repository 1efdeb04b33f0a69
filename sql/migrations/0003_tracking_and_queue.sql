-- What we track and why, job state, quarantine, and the manual resync queue.

create table ctgov.tracked_studies (
  nct_id   text primary key check (nct_id ~ '^NCT[0-9]{8}$'),
  source   text not null check (source in ('config', 'cli', 'query', 'import', 'resync')),
  reason   text,
  added_at timestamptz not null default now(),
  active   boolean not null default true
);

create table ctgov.sync_state (
  key        text primary key,
  value      jsonb not null,
  updated_at timestamptz not null default now()
);

create table ctgov.sync_failures (
  id              bigint generated always as identity primary key,
  run_id          bigint references ctgov.sync_runs (id),
  nct_id          text,
  stage           text not null check (stage in ('fetch', 'parse', 'validate', 'normalize', 'store', 'export')),
  error           text not null,
  payload_excerpt text,
  occurred_at     timestamptz not null default now()
);
create index sync_failures_nct_idx on ctgov.sync_failures (nct_id, occurred_at);
create index sync_failures_run_idx on ctgov.sync_failures (run_id);

create table ctgov.resync_requests (
  id           bigint generated always as identity primary key,
  nct_id       text not null check (nct_id ~ '^NCT[0-9]{8}$'),
  reason       text,
  requested_at timestamptz not null default now(),
  status       text not null default 'pending'
               check (status in ('pending', 'running', 'done', 'failed')),
  claimed_at   timestamptz,
  claimed_by   text,
  finished_at  timestamptz,
  run_id       bigint references ctgov.sync_runs (id),
  error        text
);
create index resync_requests_pending_idx on ctgov.resync_requests (requested_at) where status = 'pending';

-- Validates and canonicalises the IDs (any case, dropped leading zeros), enqueues, and wakes workers.
create function ctgov.request_resync(ids text[], reason text default null)
returns setof bigint
language plpgsql
as $$
declare
  bad text;
begin
  if ids is null or cardinality(ids) = 0 then
    raise exception 'request_resync: no NCT IDs given' using errcode = '22023';
  end if;
  select x into bad
    from unnest(ids) as x
   where x is null or x !~* '^\s*nct0*[1-9][0-9]{0,7}\s*$'
   limit 1;
  if found then
    raise exception 'invalid NCT ID %: expected NCT followed by 8 digits', coalesce(quote_literal(bad), 'NULL')
      using errcode = '22023';
  end if;
  return query
    insert into ctgov.resync_requests (nct_id, reason)
    select distinct 'NCT' || lpad(regexp_replace(upper(trim(x)), '^NCT0*', ''), 8, '0'), request_resync.reason
      from unnest(ids) as x
    returning id;
  perform pg_notify('ctgov_resync', '');
end;
$$;
