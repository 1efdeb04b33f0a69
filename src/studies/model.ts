import type { NctId } from '../ctgov/nctId.js';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * A field path names a unit of change: `section.field`, or `locations.<key>` with one path per
 * site (key = lower-cased "facility|city|state|country").
 */
export type FieldPath = string;

/**
 * Our model of a study: every field path that has a value, mapped to that value as CT.gov gave
 * it (lists keep CT.gov's order for display; comparisons ignore order, see canonical.ts).
 * Absent, null and empty lists are not values and never appear here; `false` and `0` do.
 */
export interface Study {
  nctId: NctId;
  fields: Record<FieldPath, Json>;
}

export type ChangeKind = 'added' | 'changed' | 'removed';

export interface FieldChange {
  path: FieldPath;
  kind: ChangeKind;
  oldValue: Json | null;
  newValue: Json | null;
}

/** Paths whose names other parts (mirror, SQL users) depend on. */
export const FIELD_PATH = {
  briefTitle: 'identification.briefTitle',
  officialTitle: 'identification.officialTitle',
  acronym: 'identification.acronym',
  overallStatus: 'status.overallStatus',
  startDate: 'status.startDate',
  primaryCompletionDate: 'status.primaryCompletionDate',
  completionDate: 'status.completionDate',
  lastUpdatePostDate: 'status.lastUpdatePostDate',
  sponsorLead: 'sponsor.lead',
  sponsorCollaborators: 'sponsor.collaborators',
  briefSummary: 'description.briefSummary',
  detailedDescription: 'description.detailedDescription',
  conditions: 'conditions.conditions',
  keywords: 'conditions.keywords',
  studyType: 'design.studyType',
  phases: 'design.phases',
  enrollmentCount: 'design.enrollmentCount',
  enrollmentType: 'design.enrollmentType',
  criteria: 'eligibility.criteria',
  minAge: 'eligibility.minAge',
  maxAge: 'eligibility.maxAge',
  sex: 'eligibility.sex',
  healthyVolunteers: 'eligibility.healthyVolunteers',
  primaryOutcomes: 'outcomes.primary',
  secondaryOutcomes: 'outcomes.secondary',
  otherOutcomes: 'outcomes.other',
  arms: 'armsInterventions.arms',
  interventions: 'armsInterventions.interventions',
  hasResults: 'results.hasResults',
  officials: 'contacts.officials',
  centralContacts: 'contacts.central',
  references: 'references.references',
  secondaryIds: 'identification.secondaryIdInfos',
  conditionMeshes: 'conditionBrowse.meshes',
  interventionMeshes: 'interventionBrowse.meshes',
} as const;

export const LOCATION_PREFIX = 'locations.';

/** The path under which a tracked study's own presence on CT.gov is recorded (removed / added back). */
export const STUDY_PRESENCE_PATH = 'study';
