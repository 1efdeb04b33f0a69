-- AACT-style child tables, replaced per study when its content changes.

create table ctgov.conditions (
  nct_id        text not null references ctgov.studies (nct_id) on delete cascade,
  ordinal       integer not null,
  name          text not null,
  downcase_name text not null,
  primary key (nct_id, ordinal)
);
create index conditions_downcase_name_idx on ctgov.conditions (downcase_name);

create table ctgov.keywords (
  nct_id  text not null references ctgov.studies (nct_id) on delete cascade,
  ordinal integer not null,
  name    text not null,
  primary key (nct_id, ordinal)
);

create table ctgov.sponsors (
  nct_id       text not null references ctgov.studies (nct_id) on delete cascade,
  ordinal      integer not null,
  role         text not null check (role in ('lead', 'collaborator')),
  name         text not null,
  agency_class text,
  primary key (nct_id, ordinal)
);
create index sponsors_name_idx on ctgov.sponsors (name);

create table ctgov.arms (
  nct_id             text not null references ctgov.studies (nct_id) on delete cascade,
  ordinal            integer not null,
  label              text,
  type               text,
  description        text,
  intervention_names text[] not null default '{}',
  primary key (nct_id, ordinal)
);

create table ctgov.interventions (
  nct_id           text not null references ctgov.studies (nct_id) on delete cascade,
  ordinal          integer not null,
  type             text,
  name             text,
  description      text,
  arm_group_labels text[] not null default '{}',
  other_names      text[] not null default '{}',
  primary key (nct_id, ordinal)
);

create table ctgov.outcomes (
  nct_id      text not null references ctgov.studies (nct_id) on delete cascade,
  ordinal     integer not null,
  kind        text not null check (kind in ('primary', 'secondary', 'other')),
  measure     text,
  description text,
  time_frame  text,
  primary key (nct_id, kind, ordinal)
);

create table ctgov.locations (
  nct_id       text not null references ctgov.studies (nct_id) on delete cascade,
  location_key text not null,
  facility     text,
  status       text,
  city         text,
  state        text,
  zip          text,
  country      text,
  latitude     double precision,
  longitude    double precision,
  primary key (nct_id, location_key)
);
create index locations_country_idx on ctgov.locations (country);

create table ctgov.officials (
  nct_id      text not null references ctgov.studies (nct_id) on delete cascade,
  ordinal     integer not null,
  name        text,
  affiliation text,
  role        text,
  primary key (nct_id, ordinal)
);

create table ctgov.study_references (
  nct_id   text not null references ctgov.studies (nct_id) on delete cascade,
  ordinal  integer not null,
  pmid     text,
  type     text,
  citation text,
  primary key (nct_id, ordinal)
);

create table ctgov.secondary_ids (
  nct_id       text not null references ctgov.studies (nct_id) on delete cascade,
  ordinal      integer not null,
  secondary_id text not null,
  type         text,
  domain       text,
  link         text,
  primary key (nct_id, ordinal)
);

create table ctgov.mesh_terms (
  nct_id      text not null references ctgov.studies (nct_id) on delete cascade,
  ordinal     integer not null,
  kind        text not null check (kind in ('condition', 'intervention')),
  mesh_id     text,
  term        text not null,
  is_ancestor boolean not null,
  primary key (nct_id, kind, ordinal)
);
create index mesh_terms_term_idx on ctgov.mesh_terms (term);
