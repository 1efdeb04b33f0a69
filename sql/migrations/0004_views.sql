-- Views for people writing SQL against the change history.

create view ctgov.recent_changes as
select c.id,
       c.detected_at,
       c.nct_id,
       s.brief_title,
       c.path,
       c.kind,
       c.old_value,
       c.new_value,
       c.ct_last_update_post_date,
       c.run_id
  from ctgov.field_changes c
  join ctgov.studies s using (nct_id);

create view ctgov.status_transitions as
select c.nct_id,
       s.brief_title,
       c.detected_at,
       c.old_value #>> '{}' as from_status,
       c.new_value #>> '{}' as to_status,
       c.ct_last_update_post_date,
       c.run_id
  from ctgov.field_changes c
  join ctgov.studies s using (nct_id)
 where c.path = 'status.overallStatus';

create view ctgov.study_timeline as
select c.nct_id,
       c.detected_at,
       c.path,
       c.kind,
       c.old_value,
       c.new_value,
       r.job,
       r.trigger,
       c.run_id
  from ctgov.field_changes c
  left join ctgov.sync_runs r on r.id = c.run_id;
