-- Fewer indexes on field_changes: a first load writes ~80 change rows per study, and every index
-- is maintained for each of them. What stays serves every reader: the primary key (webhook
-- payloads, the web feed's page), (nct_id, detected_at) (one study's history, the mirror, the
-- webhook outbox, backfill), (path, detected_at) (changes of one field across studies, as in the
-- status_transitions view) and (detected_at, id) (the web feed, changes since a time).

-- (detected_at) alone: the (detected_at, id) index serves the same ranges,
-- read either way.
drop index ctgov.field_changes_time_idx;

-- (run_id): no reader selects changes by run alone; the webhook outbox selects a run's rows of
-- a batch's studies, which (nct_id, detected_at) finds (a run's rows are most of a first load).
drop index ctgov.field_changes_run_idx;

-- (detected_at, id) ascending instead of descending: the feed reads it backwards, newest first,
-- just as well, and new rows (later times, higher ids) now go to its right edge, where a btree
-- appends and fills its pages, instead of its left edge, where each split leaves two half-empty
-- pages (a first load's index was 40% smaller, and cheaper to write).
drop index ctgov.field_changes_time_id_idx;
create index field_changes_time_id_idx on ctgov.field_changes (detected_at, id);
