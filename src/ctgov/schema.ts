import { z } from 'zod';
import { StudyValidationError, type ValidationIssue } from '../errors.js';
import { isNctId, type NctId } from './nctId.js';

/*
 * The wire shape of a CT.gov API v2 study, for the fields this project reads. Every object is
 * loose (unknown keys are kept: the API adds fields without notice, e.g. modelPredictions) and
 * almost every field is optional (real records omit many; `fields=` answers omit most).
 * Enumerations are plain strings so that a new enum value is not a validation failure.
 */

/**
 * Older third-party exports of v2 records (ctrdata, 2023–2024) collapse a one-element list to
 * its element and an empty list to `{}`. Readers want a list either way.
 */
function coerceList(value: unknown): unknown {
  if (value === undefined || value === null || Array.isArray(value)) return value;
  if (typeof value === 'object' && Object.keys(value).length === 0) return [];
  return [value];
}

const list = <T extends z.ZodType>(item: T) => z.preprocess(coerceList, z.array(item)).optional();
const str = z.string().optional();
const bool = z.boolean().optional();
const num = z.number().optional();
const strings = list(z.string());
const obj = <T extends z.ZodRawShape>(shape: T) => z.looseObject(shape);

const nctId = z.custom<NctId>((v) => typeof v === 'string' && isNctId(v), {
  message: 'expected an NCT ID like NCT01234567',
});
const dateStruct = obj({ date: z.string(), type: str }).optional();
const agency = obj({ name: str, class: str });
const contact = obj({ name: str, role: str, phone: str, phoneExt: str, email: str, affiliation: str });
const outcome = obj({ measure: str, description: str, timeFrame: str });
const meshTerm = obj({ id: str, term: str });
const browseModule = obj({
  meshes: list(meshTerm),
  ancestors: list(meshTerm),
  browseLeaves: list(obj({ id: str, name: str, asFound: str, relevance: str })),
  browseBranches: list(obj({ abbrev: str, name: str })),
}).optional();

const identificationModule = obj({
  nctId,
  nctIdAliases: list(z.string()),
  orgStudyIdInfo: obj({ id: str, type: str, link: str }).optional(),
  secondaryIdInfos: list(obj({ id: str, type: str, domain: str, link: str })),
  organization: obj({ fullName: str, class: str }).optional(),
  briefTitle: str,
  officialTitle: str,
  acronym: str,
});

const statusModule = obj({
  statusVerifiedDate: str,
  overallStatus: str,
  lastKnownStatus: str,
  whyStopped: str,
  startDateStruct: dateStruct,
  primaryCompletionDateStruct: dateStruct,
  completionDateStruct: dateStruct,
  studyFirstSubmitDate: str,
  studyFirstPostDateStruct: dateStruct,
  resultsFirstSubmitDate: str,
  resultsFirstPostDateStruct: dateStruct,
  lastUpdateSubmitDate: str,
  lastUpdatePostDateStruct: dateStruct,
});

const sponsorCollaboratorsModule = obj({
  responsibleParty: obj({ type: str, investigatorFullName: str, investigatorAffiliation: str }).optional(),
  leadSponsor: agency.optional(),
  collaborators: list(agency),
});

const designModule = obj({
  studyType: str,
  phases: strings,
  designInfo: obj({
    allocation: str,
    interventionModel: str,
    primaryPurpose: str,
    observationalModel: str,
    timePerspective: str,
    maskingInfo: obj({ masking: str, whoMasked: strings }).optional(),
  }).optional(),
  enrollmentInfo: obj({ count: num, type: str }).optional(),
  patientRegistry: bool,
  targetDuration: str,
});

const armsInterventionsModule = obj({
  armGroups: list(obj({ label: str, type: str, description: str, interventionNames: strings })),
  interventions: list(
    obj({ type: str, name: str, description: str, armGroupLabels: strings, otherNames: strings }),
  ),
});

const eligibilityModule = obj({
  eligibilityCriteria: str,
  healthyVolunteers: bool,
  sex: str,
  genderBased: bool,
  minimumAge: str,
  maximumAge: str,
  stdAges: strings,
  studyPopulation: str,
  samplingMethod: str,
});

const location = obj({
  facility: str,
  status: str,
  city: str,
  state: str,
  zip: str,
  country: str,
  countryCode: str,
  contacts: list(contact),
  geoPoint: obj({ lat: z.number(), lon: z.number() }).optional(),
});

const protocolSection = obj({
  identificationModule,
  statusModule: statusModule.optional(),
  sponsorCollaboratorsModule: sponsorCollaboratorsModule.optional(),
  oversightModule: obj({ oversightHasDmc: bool, isFdaRegulatedDrug: bool, isFdaRegulatedDevice: bool }).optional(),
  descriptionModule: obj({ briefSummary: str, detailedDescription: str }).optional(),
  conditionsModule: obj({ conditions: strings, keywords: strings }).optional(),
  designModule: designModule.optional(),
  armsInterventionsModule: armsInterventionsModule.optional(),
  outcomesModule: obj({
    primaryOutcomes: list(outcome),
    secondaryOutcomes: list(outcome),
    otherOutcomes: list(outcome),
  }).optional(),
  eligibilityModule: eligibilityModule.optional(),
  contactsLocationsModule: obj({
    centralContacts: list(contact),
    overallOfficials: list(contact),
    locations: list(location),
  }).optional(),
  referencesModule: obj({
    references: list(obj({ pmid: str, type: str, citation: str })),
    seeAlsoLinks: list(obj({ label: str, url: str })),
  }).optional(),
  ipdSharingStatementModule: obj({ ipdSharing: str, description: str }).optional(),
});

const derivedSection = obj({
  miscInfoModule: obj({ versionHolder: str, removedCountries: strings }).optional(),
  conditionBrowseModule: browseModule,
  interventionBrowseModule: browseModule,
});

const documentSection = obj({
  largeDocumentModule: obj({
    noSap: bool,
    largeDocs: list(
      obj({ typeAbbrev: str, hasProtocol: bool, hasSap: bool, hasIcf: bool, label: str, date: str, uploadDate: str, filename: str, size: num }),
    ),
  }).optional(),
});

export const ctgovStudySchema = obj({
  protocolSection,
  // Only its presence is read here; results modules are kept raw.
  resultsSection: obj({}).optional(),
  annotationSection: obj({}).optional(),
  documentSection: documentSection.optional(),
  derivedSection: derivedSection.optional(),
  hasResults: bool,
});

export type CtgovStudy = z.infer<typeof ctgovStudySchema>;

const studiesPageSchema = z.looseObject({
  studies: z.array(z.unknown()),
  nextPageToken: z.string().optional(),
  totalCount: z.number().int().nonnegative().optional(),
});

export type StudiesPage = z.infer<typeof studiesPageSchema>;

/** Validates one study record; throws StudyValidationError naming the study and the bad paths. */
export function parseCtgovStudy(raw: unknown): CtgovStudy {
  const result = ctgovStudySchema.safeParse(raw);
  if (result.success) return result.data;
  throw new StudyValidationError(peekNctId(raw), toIssues(result.error));
}

export interface ValidatedStudy {
  record: CtgovStudy;
  /** The record is the raw input itself, not zod's copy. */
  asIs: boolean;
}

/**
 * Validates like parseCtgovStudy, but a record zod would return an equal copy of (nothing to
 * coerce, the common case) is checked in place and returned itself (`asIs`): checking costs a
 * fraction of zod's deep copy. Its keys keep their own order, where zod's copy puts the
 * schema's keys first.
 */
export function validateCtgovStudy(raw: unknown): ValidatedStudy {
  return plainStudy(raw) ? { record: raw as CtgovStudy, asIs: true } : { record: parseCtgovStudy(raw), asIs: false };
}

type Check = (value: unknown) => boolean;

const never: Check = () => false;

/**
 * "zod accepts it and returns an equal copy", derived from the schema's own definition so that
 * the two cannot drift apart; a kind of schema it does not know never passes (zod decides).
 */
function plainCheck(schema: z.core.$ZodType): Check {
  const def = schema._zod.def as z.core.$ZodTypeDef & Record<string, any>;
  switch (def.type) {
    case 'string':
      return (v) => typeof v === 'string';
    case 'boolean':
      return (v) => typeof v === 'boolean';
    case 'number':
      return def.checks?.length ? never : (v) => typeof v === 'number' && Number.isFinite(v);
    case 'unknown':
      return () => true;
    case 'custom':
      return (v) => def.fn(v) === true;
    case 'optional': {
      const inner = plainCheck(def.innerType);
      return (v) => v === undefined || inner(v);
    }
    case 'pipe':
      // z.preprocess(coerceList, …) hands a list on untouched; anything else it would change.
      return def.in._zod.def.type === 'transform' && def.in._zod.def.transform === coerceList ? plainList(def.out) : never;
    case 'array':
      return plainList(schema);
    case 'object':
      return def.catchall?._zod.def.type === 'unknown' ? plainObject(def.shape) : never;
    default:
      return never;
  }
}

function plainList(schema: z.core.$ZodType): Check {
  const def = schema._zod.def as z.core.$ZodTypeDef & Record<string, any>;
  if (def.type !== 'array' || def.checks?.length) return never;
  const item = plainCheck(def.element);
  return (v) => {
    if (!Array.isArray(v)) return false;
    for (let i = 0; i < v.length; i++) if (!item(v[i])) return false;
    return true;
  };
}

function plainObject(shape: Record<string, z.core.$ZodType>): Check {
  const fields = Object.entries(shape).map(([key, s]) => [key, plainCheck(s)] as const);
  return (v) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
    for (const [key, check] of fields) if (!check((v as Record<string, unknown>)[key])) return false;
    return true;
  };
}

const plainStudy = plainCheck(ctgovStudySchema);

/** Validates the envelope of a `/studies` page; the records inside stay unvalidated. */
export function parseStudiesPage(raw: unknown): StudiesPage {
  const result = studiesPageSchema.safeParse(raw);
  if (result.success) return result.data;
  const issues = toIssues(result.error);
  throw new TypeError(`not a /studies page: ${issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; ')}`);
}

/**
 * The nctId of a record that may not be valid, for error messages and batch bookkeeping.
 * Returns undefined when there is no string where the nctId belongs.
 */
export function peekNctId(raw: unknown): string | undefined {
  const id = dig(raw, ['protocolSection', 'identificationModule', 'nctId']);
  return typeof id === 'string' ? id : undefined;
}

/** The aliases a record declares (merged older registrations), as given; [] if none readable. */
export function peekNctIdAliases(raw: unknown): string[] {
  const aliases = coerceList(dig(raw, ['protocolSection', 'identificationModule', 'nctIdAliases']));
  return Array.isArray(aliases) ? aliases.filter((a): a is string => typeof a === 'string') : [];
}

function dig(raw: unknown, path: string[]): unknown {
  let at = raw;
  for (const key of path) {
    if (typeof at !== 'object' || at === null) return undefined;
    at = (at as Record<string, unknown>)[key];
  }
  return at;
}

function toIssues(error: z.ZodError): ValidationIssue[] {
  return error.issues.map((issue) => ({ path: formatPath(issue.path), message: issue.message }));
}

/** `protocolSection.contactsLocationsModule.locations[3].geoPoint.lat` */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out ? `.${String(key)}` : String(key);
  }
  return out;
}
