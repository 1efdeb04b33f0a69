import { LOCATION_PREFIX, FIELD_PATH, type Json, type Study } from './model.js';
import { isPlainObject } from '../isPlainObject.js';

/** The `studies` row of a study, snake_case as in SQL (the one place where the names convert). */
export interface StudyRow {
  nct_id: string;
  brief_title: string | null;
  official_title: string | null;
  acronym: string | null;
  overall_status: string | null;
  last_known_status: string | null;
  why_stopped: string | null;
  study_type: string | null;
  phases: string[];
  enrollment_count: number | null;
  enrollment_type: string | null;
  lead_sponsor: string | null;
  lead_sponsor_class: string | null;
  start_date: string | null;
  start_date_sort: string | null;
  primary_completion_date: string | null;
  primary_completion_date_sort: string | null;
  completion_date: string | null;
  completion_date_sort: string | null;
  study_first_post_date: string | null;
  last_update_post_date: string | null;
  results_first_post_date: string | null;
  has_results: boolean;
}

/** Child rows of one study, keyed by table name. */
export interface ChildRows {
  conditions: Array<{ nct_id: string; ordinal: number; name: string; downcase_name: string }>;
  keywords: Array<{ nct_id: string; ordinal: number; name: string }>;
  sponsors: Array<{ nct_id: string; ordinal: number; role: 'lead' | 'collaborator'; name: string; agency_class: string | null }>;
  arms: Array<{ nct_id: string; ordinal: number; label: string | null; type: string | null; description: string | null; intervention_names: string[] }>;
  interventions: Array<{
    nct_id: string; ordinal: number; type: string | null; name: string | null; description: string | null;
    arm_group_labels: string[]; other_names: string[];
  }>;
  outcomes: Array<{ nct_id: string; ordinal: number; kind: 'primary' | 'secondary' | 'other'; measure: string | null; description: string | null; time_frame: string | null }>;
  locations: Array<{
    nct_id: string; location_key: string; facility: string | null; status: string | null; city: string | null; state: string | null;
    zip: string | null; country: string | null; latitude: number | null; longitude: number | null;
  }>;
  officials: Array<{ nct_id: string; ordinal: number; name: string | null; affiliation: string | null; role: string | null }>;
  study_references: Array<{ nct_id: string; ordinal: number; pmid: string | null; type: string | null; citation: string | null }>;
  secondary_ids: Array<{ nct_id: string; ordinal: number; secondary_id: string; type: string | null; domain: string | null; link: string | null }>;
  mesh_terms: Array<{ nct_id: string; ordinal: number; kind: 'condition' | 'intervention'; mesh_id: string | null; term: string; is_ancestor: boolean }>;
}

export const CHILD_TABLES = [
  'conditions', 'keywords', 'sponsors', 'arms', 'interventions', 'outcomes', 'locations', 'officials',
  'study_references', 'secondary_ids', 'mesh_terms',
] as const satisfies ReadonlyArray<keyof ChildRows>;

type Obj = { [key: string]: Json };

export function toStudyRow(study: Study): StudyRow {
  const f = study.fields;
  const startDate = str(f[FIELD_PATH.startDate]);
  const primaryCompletionDate = str(f[FIELD_PATH.primaryCompletionDate]);
  const completionDate = str(f[FIELD_PATH.completionDate]);
  return {
    nct_id: study.nctId,
    brief_title: str(f[FIELD_PATH.briefTitle]),
    official_title: str(f[FIELD_PATH.officialTitle]),
    acronym: str(f[FIELD_PATH.acronym]),
    overall_status: str(f[FIELD_PATH.overallStatus]),
    last_known_status: str(f['status.lastKnownStatus']),
    why_stopped: str(f['status.whyStopped']),
    study_type: str(f[FIELD_PATH.studyType]),
    phases: strings(f[FIELD_PATH.phases]),
    enrollment_count: int(f[FIELD_PATH.enrollmentCount]),
    enrollment_type: str(f[FIELD_PATH.enrollmentType]),
    lead_sponsor: str(f[FIELD_PATH.sponsorLead]),
    lead_sponsor_class: str(f['sponsor.leadClass']),
    start_date: startDate,
    start_date_sort: sortableDate(startDate),
    primary_completion_date: primaryCompletionDate,
    primary_completion_date_sort: sortableDate(primaryCompletionDate),
    completion_date: completionDate,
    completion_date_sort: sortableDate(completionDate),
    study_first_post_date: sortableDate(str(f['status.studyFirstPostDate'])),
    last_update_post_date: sortableDate(str(f[FIELD_PATH.lastUpdatePostDate])),
    results_first_post_date: sortableDate(str(f['status.resultsFirstPostDate'])),
    has_results: f[FIELD_PATH.hasResults] === true,
  };
}

export function toChildRows(study: Study): ChildRows {
  const f = study.fields;
  const nct_id: string = study.nctId;
  const lead = str(f[FIELD_PATH.sponsorLead]);
  const collaborators = objects(f[FIELD_PATH.sponsorCollaborators]);
  return {
    conditions: strings(f[FIELD_PATH.conditions]).map((name, ordinal) => ({ nct_id, ordinal, name, downcase_name: name.toLowerCase() })),
    keywords: strings(f[FIELD_PATH.keywords]).map((name, ordinal) => ({ nct_id, ordinal, name })),
    sponsors: [
      ...(lead ? [{ nct_id, ordinal: 0, role: 'lead' as const, name: lead, agency_class: str(f['sponsor.leadClass']) }] : []),
      ...collaborators
        .filter((c) => str(c.name))
        .map((c, i) => ({ nct_id, ordinal: i + 1, role: 'collaborator' as const, name: str(c.name)!, agency_class: str(c.class) })),
    ],
    arms: objects(f[FIELD_PATH.arms]).map((a, ordinal) => ({
      nct_id, ordinal, label: str(a.label), type: str(a.type), description: str(a.description), intervention_names: strings(a.interventionNames),
    })),
    interventions: objects(f[FIELD_PATH.interventions]).map((i, ordinal) => ({
      nct_id, ordinal, type: str(i.type), name: str(i.name), description: str(i.description),
      arm_group_labels: strings(i.armGroupLabels), other_names: strings(i.otherNames),
    })),
    outcomes: (['primary', 'secondary', 'other'] as const).flatMap((kind) =>
      objects(f[`outcomes.${kind}`]).map((o, ordinal) => ({
        nct_id, ordinal, kind, measure: str(o.measure), description: str(o.description), time_frame: str(o.timeFrame),
      })),
    ),
    locations: locationRows(study),
    officials: objects(f[FIELD_PATH.officials]).map((o, ordinal) => ({ nct_id, ordinal, name: str(o.name), affiliation: str(o.affiliation), role: str(o.role) })),
    study_references: objects(f[FIELD_PATH.references]).map((r, ordinal) => ({ nct_id, ordinal, pmid: str(r.pmid), type: str(r.type), citation: str(r.citation) })),
    secondary_ids: objects(f[FIELD_PATH.secondaryIds])
      .filter((s) => str(s.id))
      .map((s, ordinal) => ({ nct_id, ordinal, secondary_id: str(s.id)!, type: str(s.type), domain: str(s.domain), link: str(s.link) })),
    mesh_terms: meshRows(study),
  };
}

function locationRows(study: Study): ChildRows['locations'] {
  const rows: ChildRows['locations'] = [];
  for (const [path, value] of Object.entries(study.fields)) {
    if (!path.startsWith(LOCATION_PREFIX) || !isPlainObject(value)) continue;
    const geo = isPlainObject(value.geoPoint) ? value.geoPoint : {};
    rows.push({
      nct_id: study.nctId,
      location_key: path.slice(LOCATION_PREFIX.length),
      facility: str(value.facility),
      status: str(value.status),
      city: str(value.city),
      state: str(value.state),
      zip: str(value.zip),
      country: str(value.country),
      latitude: num(geo.lat),
      longitude: num(geo.lon),
    });
  }
  return rows;
}

function meshRows(study: Study): ChildRows['mesh_terms'] {
  const rows: ChildRows['mesh_terms'] = [];
  for (const kind of ['condition', 'intervention'] as const) {
    for (const [list, isAncestor] of [['meshes', false], ['ancestors', true]] as const) {
      for (const m of objects(study.fields[`${kind}Browse.${list}`])) {
        const term = str(m.term);
        if (term) rows.push({ nct_id: study.nctId, ordinal: 0, kind, mesh_id: str(m.id), term, is_ancestor: isAncestor });
      }
    }
  }
  let condition = 0;
  let intervention = 0;
  for (const r of rows) r.ordinal = r.kind === 'condition' ? condition++ : intervention++;
  return rows;
}

/**
 * A sortable date for a CT.gov partial date: `2007-02` → `2007-02-01`, `2007` → `2007-01-01`.
 * The text as given is kept next to it; this is only for ordering and ranges.
 */
export function sortableDate(value: string | null): string | null {
  if (!value) return null;
  const m = /^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?$/.exec(value);
  if (!m) return null;
  const iso = `${m[1]}-${m[2] ?? '01'}-${m[3] ?? '01'}`;
  const d = new Date(`${iso}T00:00:00Z`);
  return Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== iso ? null : iso;
}

function str(v: Json | undefined): string | null {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return null;
}

function int(v: Json | undefined): number | null {
  return typeof v === 'number' && Number.isInteger(v) && Math.abs(v) <= 2_147_483_647 ? v : null;
}

function num(v: Json | undefined): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

function strings(v: Json | undefined): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

function objects(v: Json | undefined): Obj[] {
  return Array.isArray(v) ? v.filter((x): x is Obj => isPlainObject(x)) : [];
}
