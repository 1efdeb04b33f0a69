-- Write speed of a bulk sync.
--
-- History and child rows are written only by the sync, in the same transaction as the study
-- and the version they belong to (and studies are never deleted: a study CT.gov drops is marked
-- removed). Their foreign keys checked that one writer row by row, and those per-row triggers
-- cost more than the inserts themselves (a first load writes ~80 change rows per study). The
-- keys stay on study_versions (one row per stored version) and studies.current_version_id.

alter table ctgov.field_changes
  drop constraint field_changes_nct_id_fkey,
  drop constraint field_changes_run_id_fkey,
  drop constraint field_changes_version_id_fkey;

alter table ctgov.conditions drop constraint conditions_nct_id_fkey;
alter table ctgov.keywords drop constraint keywords_nct_id_fkey;
alter table ctgov.sponsors drop constraint sponsors_nct_id_fkey;
alter table ctgov.arms drop constraint arms_nct_id_fkey;
alter table ctgov.interventions drop constraint interventions_nct_id_fkey;
alter table ctgov.outcomes drop constraint outcomes_nct_id_fkey;
alter table ctgov.locations drop constraint locations_nct_id_fkey;
alter table ctgov.officials drop constraint officials_nct_id_fkey;
alter table ctgov.study_references drop constraint study_references_nct_id_fkey;
alter table ctgov.secondary_ids drop constraint secondary_ids_nct_id_fkey;
alter table ctgov.mesh_terms drop constraint mesh_terms_nct_id_fkey;

-- raw_hash: hash of the last raw record seen for the study whose content equals its current
-- version (derivedSection.miscInfoModule.versionHolder left out, as it moves on every CT.gov
-- refresh). A record arriving with the same hash is unchanged without being validated,
-- normalized or diffed again.
alter table ctgov.studies add column raw_hash text;

-- Raw records and change values are large JSON documents: lz4 compresses them several times
-- faster than the default pglz, at about the same size. Servers built without lz4 keep pglz.
do $$
begin
  alter table ctgov.study_versions alter column raw set compression lz4;
  alter table ctgov.field_changes alter column old_value set compression lz4, alter column new_value set compression lz4;
exception when feature_not_supported or invalid_parameter_value then
  raise notice 'lz4 compression not available, keeping the default';
end $$;
