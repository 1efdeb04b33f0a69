import { parseNctId } from '../ctgov/nctId.js';
import { parseCtgovStudy, type ValidatedStudy } from '../ctgov/schema.js';
import { hasValue } from './canonical.js';
import { keyLocations } from './locationKey.js';
import { LOCATION_PREFIX, type Json, type Study } from './model.js';
import { isPlainObject } from '../isPlainObject.js';

type Obj = Record<string, unknown>;

/** The CT.gov v2 study as far as normalize needs it; any validated (zod) record fits. */
export interface CtgovStudyInput {
  protocolSection: {
    identificationModule: { nctId: string; [key: string]: unknown };
    [key: string]: unknown;
  };
  resultsSection?: Obj;
  annotationSection?: Obj;
  documentSection?: Obj;
  derivedSection?: Obj;
  hasResults?: boolean;
  [key: string]: unknown;
}

type Fields = Record<string, Json>;
type KeyRule = (fields: Fields, section: string, key: string, value: unknown) => void;

// Maps, not object literals: a CT.gov key like `constructor` must not hit Object.prototype.
const SECTION_NAMES = new Map([
  ['sponsorCollaborators', 'sponsor'],
  ['contactsLocations', 'contacts'],
  ['ipdSharingStatement', 'ipdSharing'],
  ['largeDocument', 'documents'],
]);

const FIELD_NAMES = new Map([
  ['eligibility.eligibilityCriteria', 'eligibility.criteria'],
  ['eligibility.minimumAge', 'eligibility.minAge'],
  ['eligibility.maximumAge', 'eligibility.maxAge'],
  ['armsInterventions.armGroups', 'armsInterventions.arms'],
  ['outcomes.primaryOutcomes', 'outcomes.primary'],
  ['outcomes.secondaryOutcomes', 'outcomes.secondary'],
  ['outcomes.otherOutcomes', 'outcomes.other'],
  ['contacts.centralContacts', 'contacts.central'],
  ['contacts.overallOfficials', 'contacts.officials'],
]);

const ignore: KeyRule = () => {};

const KEY_RULES = new Map<string, KeyRule>([
  ['identification.nctId', ignore],
  // Changes on every CT.gov data refresh without any change to the study.
  ['miscInfo.versionHolder', ignore],
  ['sponsor.leadSponsor', spreadInto('lead', { name: 'lead', class: 'leadClass' })],
  ['design.enrollmentInfo', spreadInto('enrollment', { count: 'enrollmentCount', type: 'enrollmentType' })],
  ['design.designInfo', spreadInto('', {})],
  ['contacts.locations', addLocations],
]);

/** Maps a CT.gov v2 study to our Study (DESIGN §3.1, docs/field-paths.md). Pure. */
export function normalizeStudy(record: CtgovStudyInput): Study {
  const nctId = parseNctId(String(record.protocolSection.identificationModule.nctId ?? ''));
  const fields: Fields = {};
  writes = 0;
  for (const [sectionKey, section] of Object.entries(record)) {
    if (sectionKey === 'hasResults') set(fields, 'results.hasResults', section);
    else if (!isPlainObject(section)) set(fields, `record.${sectionKey}`, section);
    else if (sectionKey === 'resultsSection') addResults(fields, section);
    else addSection(fields, sectionKey, section);
  }
  return { nctId, fields };
}

/**
 * normalizeStudy of a validated record. A record validated as is keeps its own key order, so
 * where two of its keys fill one path (no CT.gov record does) the last one would depend on that
 * order: such a record is normalized from zod's copy instead, exactly as before.
 */
export function normalizeValidated({ record, asIs }: ValidatedStudy): Study {
  const study = normalizeStudy(record);
  if (!asIs || writes === Object.keys(study.fields).length) return study;
  return normalizeStudy(parseCtgovStudy(record));
}

// Paths written by the last normalizeStudy call (it is synchronous): more than it has means a collision.
let writes = 0;

function addSection(fields: Fields, sectionKey: string, section: Obj): void {
  for (const [moduleKey, module] of Object.entries(section)) {
    if (!isPlainObject(module)) {
      set(fields, `${stripSuffix(sectionKey, 'Section')}.${moduleKey}`, module);
      continue;
    }
    const name = stripSuffix(moduleKey, 'Module');
    const target = SECTION_NAMES.get(name) ?? name;
    for (const [key, value] of Object.entries(module)) addKey(fields, target, key, value);
  }
}

function addKey(fields: Fields, section: string, key: string, value: unknown): void {
  const path = `${section}.${key}`;
  const rule = KEY_RULES.get(path);
  if (rule) rule(fields, section, key, value);
  else if (key.endsWith('DateStruct') && isPlainObject(value)) addDateStruct(fields, section, key, value);
  else set(fields, FIELD_NAMES.get(path) ?? path, value);
}

// {date, type} -> <name>Date (partial dates kept as given) and <name>DateType.
function addDateStruct(fields: Fields, section: string, key: string, value: Obj): void {
  const date = key.slice(0, -'Struct'.length);
  spreadInto(date, { date, type: `${date}Type` })(fields, section, key, value);
}

/** Flattens an object's keys into the section: named ones renamed, others as prefix + Key. */
function spreadInto(prefix: string, names: Record<string, string>): KeyRule {
  return (fields, section, key, value) => {
    if (!isPlainObject(value)) return set(fields, `${section}.${key}`, value);
    for (const [inner, innerValue] of Object.entries(value)) {
      const named = Object.hasOwn(names, inner) ? names[inner] : undefined;
      const field = named ?? (prefix === '' ? inner : prefix + capitalize(inner));
      set(fields, `${section}.${field}`, innerValue);
    }
  };
}

function addLocations(fields: Fields, section: string, key: string, value: unknown): void {
  if (!Array.isArray(value)) return set(fields, `${section}.${key}`, value);
  for (const [siteKey, site] of keyLocations(value)) {
    fields[LOCATION_PREFIX + siteKey] = site;
    writes++;
  }
}

function addResults(fields: Fields, section: Obj): void {
  for (const [moduleKey, module] of Object.entries(section)) {
    set(fields, `results.${stripSuffix(moduleKey, 'Module')}`, module);
  }
}

function set(fields: Fields, path: string, value: unknown): void {
  if (!hasValue(value)) return;
  fields[path] = value as Json;
  writes++;
}

function stripSuffix(name: string, suffix: string): string {
  return name.endsWith(suffix) && name.length > suffix.length ? name.slice(0, -suffix.length) : name;
}

function capitalize(name: string): string {
  return name.charAt(0).toUpperCase() + name.slice(1);
}
