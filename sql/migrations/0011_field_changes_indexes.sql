-- Fewer indexes on field_changes: a first load writes ~80 change rows per study, and every index
-- is maintained for each of them. What stays serves every reader: the primary key (webhook
-- payloads, the web feed's page), (nct_id, detected_at) (one study's history, the mirror, the
-- webhook outbox, backfill), (path, detected_at) (changes of one field across studies, as in the
-- status_transitions view) and (detected_at desc, id desc) (the web feed, changes since a time).

-- (detected_at) alone: the (detected_at desc, id desc) index of 0010 serves the same ranges,
-- read either way.
drop index ctgov.field_changes_time_idx;

-- (run_id): no reader selects changes by run alone; the webhook outbox selects a run's rows of
-- a batch's studies, which (nct_id, detected_at) finds (a run's rows are most of a first load).
drop index ctgov.field_changes_run_idx;
