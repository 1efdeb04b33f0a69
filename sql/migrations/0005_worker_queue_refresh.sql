-- Worker bookkeeping. A claimed resync request carries a heartbeat that its worker refreshes
-- while it works on it; a row whose heartbeat stopped (its worker died) is claimed again, at
-- most a few times (attempts). The rolling refresh keeps its cursor on tracked_studies, so that
-- studies CT.gov no longer returns (whose last_seen_at never moves) do not crowd out the rest.

alter table ctgov.resync_requests
  add column heartbeat_at timestamptz,
  add column attempts     integer not null default 0;

create index resync_requests_running_idx on ctgov.resync_requests (heartbeat_at) where status = 'running';

alter table ctgov.tracked_studies
  add column last_refreshed_at timestamptz;
