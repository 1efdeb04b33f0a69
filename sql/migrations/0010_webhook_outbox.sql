-- Webhook outbox: one row per delivery (a hook and the change rows it carries), inserted in the
-- same transaction as those change rows, so a committed change is never without its delivery and
-- a rolled-back batch leaves none. The worker sends them later, at least once.

create table ctgov.webhook_deliveries (
  id              bigint generated always as identity primary key,
  -- The hook's name in the configuration (its url when it has no name).
  hook            text not null,
  run_id          bigint not null,
  change_ids      bigint[] not null check (cardinality(change_ids) > 0),
  status          text not null default 'pending' check (status in ('pending', 'delivered', 'failed')),
  attempts        integer not null default 0,
  -- Due time while pending. A claimed delivery moves it past the request's timeout (a lease):
  -- a worker killed mid-delivery leaves it due again once the lease runs out.
  next_attempt_at timestamptz not null default now(),
  created_at      timestamptz not null default now(),
  delivered_at    timestamptz,
  last_status     integer,
  last_error      text
);
create index webhook_deliveries_due_idx on ctgov.webhook_deliveries (next_attempt_at) where status = 'pending';
create index webhook_deliveries_run_idx on ctgov.webhook_deliveries (run_id, hook);

-- The web view's change feed pages newest first by (detected_at, id): with this index a page of
-- 1,000 rows is an index range scan, not a sort of the whole history.
create index field_changes_time_id_idx on ctgov.field_changes (detected_at desc, id desc);
