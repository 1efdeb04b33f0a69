import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { normalizeStudy, type CtgovStudyInput } from '../../src/studies/normalize.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/ctgov/', import.meta.url));
const GOLDEN_SITE = 'locations.hospital universitario virgen de la arrixaca|el palmar|murcia|spain';

type Raw = CtgovStudyInput & { protocolSection: Record<string, Record<string, unknown>> };

function readJson(path: string): unknown {
  return JSON.parse(readFileSync(path, 'utf8'));
}

// Single studies, /studies pages and website download arrays; metadata.json is not a study.
function studiesIn(dir: string): Array<{ file: string; study: Raw }> {
  const files = readdirSync(dir).filter((f) => f.endsWith('.json') && f !== 'metadata.json');
  return files.flatMap((file) => {
    const data = readJson(join(dir, file)) as Raw | Raw[];
    const list: Raw[] = Array.isArray(data) ? data : Array.isArray(data.studies) ? (data.studies as Raw[]) : [data];
    return list.map((study) => ({ file, study }));
  });
}

const allStudies = ['raw', 'raw/versions', 'seeds'].flatMap((dir) => studiesIn(join(FIXTURES, dir)));
const golden = readJson(join(FIXTURES, 'seeds/NCT00855400.json')) as Raw;
const rawStudy = (id: string) => readJson(join(FIXTURES, `raw/${id}.json`)) as Raw;
const clone = (study: Raw): Raw => structuredClone(study);
const lengthOf = (value: unknown) => (Array.isArray(value) ? value.length : 0);

describe('normalizeStudy over every fixture', () => {
  it('covers the fixture set', () => {
    expect(allStudies.length).toBeGreaterThan(200);
  });

  it.each(allStudies.map(({ file, study }) => [file, study.protocolSection.identificationModule.nctId, study]))(
    '%s %s: one path per site and per-list counts as in the source',
    (_file, nctId, study) => {
      const { nctId: id, fields } = normalizeStudy(study as Raw);
      const p = (study as Raw).protocolSection;
      expect(id).toBe(nctId);
      const sites = Object.keys(fields).filter((path) => path.startsWith('locations.'));
      expect(sites.length).toBe(lengthOf(p.contactsLocationsModule?.locations));
      expect(lengthOf(fields['outcomes.primary'])).toBe(lengthOf(p.outcomesModule?.primaryOutcomes));
      expect(lengthOf(fields['outcomes.secondary'])).toBe(lengthOf(p.outcomesModule?.secondaryOutcomes));
      expect(lengthOf(fields['outcomes.other'])).toBe(lengthOf(p.outcomesModule?.otherOutcomes));
      expect(lengthOf(fields['armsInterventions.arms'])).toBe(lengthOf(p.armsInterventionsModule?.armGroups));
      expect(lengthOf(fields['armsInterventions.interventions'])).toBe(
        lengthOf(p.armsInterventionsModule?.interventions),
      );
      expect(fields['miscInfo.versionHolder']).toBeUndefined();
      expect(fields['identification.nctId']).toBeUndefined();
    },
  );

  it('maps every results module of the studies with results', () => {
    const withResults = allStudies.filter(({ study }) => study.hasResults === true);
    expect(withResults.length).toBeGreaterThanOrEqual(66);
    for (const { study } of withResults) {
      const { fields } = normalizeStudy(study);
      expect(fields['results.hasResults']).toBe(true);
      expect(fields['results.participantFlow']).toEqual(study.resultsSection?.participantFlowModule);
      expect(fields['results.outcomeMeasures']).toEqual(study.resultsSection?.outcomeMeasuresModule);
      expect(fields['results.adverseEvents']).toEqual(study.resultsSection?.adverseEventsModule);
    }
  });
});

describe('normalizeStudy on the golden study', () => {
  const { nctId, fields } = normalizeStudy(golden);

  it('gives the values the mirror page reads', () => {
    expect(nctId).toBe('NCT00855400');
    expect(fields).toMatchObject({
      'identification.briefTitle':
        'Clinical Trial on the Use of Autologous Bone Marrow Stem Cells in Amyotrophic Lateral Sclerosis',
      'status.overallStatus': 'COMPLETED',
      'status.startDate': '2007-02',
      'status.primaryCompletionDate': '2009-12',
      'status.primaryCompletionDateType': 'ACTUAL',
      'status.completionDate': '2010-02',
      'status.lastUpdatePostDate': '2010-12-02',
      'status.lastUpdatePostDateType': 'ESTIMATED',
      'sponsor.lead': 'Fundacion para la Formacion e Investigacion Sanitarias de la Region de Murcia',
      'sponsor.leadClass': 'OTHER',
      'design.studyType': 'INTERVENTIONAL',
      'design.phases': ['PHASE1', 'PHASE2'],
      'design.enrollmentCount': 11,
      'design.enrollmentType': 'ACTUAL',
      'design.allocation': 'NA',
      'design.maskingInfo': { masking: 'NONE' },
      'eligibility.minAge': '20 Years',
      'eligibility.maxAge': '65 Years',
      'eligibility.sex': 'ALL',
      'eligibility.healthyVolunteers': false,
      'eligibility.stdAges': ['ADULT', 'OLDER_ADULT'],
      'conditions.conditions': ['Amyotrophic Lateral Sclerosis'],
      'conditions.keywords': ['ALS', 'Stem cells', 'Bone marrow'],
      'oversight.oversightHasDmc': true,
      'results.hasResults': false,
    });
    expect(fields['status.startDateType']).toBeUndefined();
    expect(fields['eligibility.criteria']).toMatch(/^Inclusion Criteria:\n\n\* Diagnose established/);
    expect(fields[GOLDEN_SITE]).toEqual((golden.protocolSection.contactsLocationsModule?.locations as unknown[])[0]);
  });

  it('keeps lists whole and in CT.gov order', () => {
    const module = golden.protocolSection;
    expect(fields['sponsor.collaborators']).toEqual(module.sponsorCollaboratorsModule?.collaborators);
    expect(fields['outcomes.secondary']).toEqual(module.outcomesModule?.secondaryOutcomes);
    expect(fields['armsInterventions.interventions']).toEqual(module.armsInterventionsModule?.interventions);
    expect(fields['contacts.officials']).toEqual(module.contactsLocationsModule?.overallOfficials);
    expect(fields['conditionBrowse.ancestors']).toEqual(
      (golden.derivedSection?.conditionBrowseModule as { ancestors: unknown }).ancestors,
    );
  });

  it('produces exactly the documented paths', () => {
    expect(Object.keys(fields).sort()).toEqual(GOLDEN_PATHS);
  });
});

const GOLDEN_PATHS = [
  'armsInterventions.arms', 'armsInterventions.interventions', 'conditionBrowse.ancestors',
  'conditionBrowse.meshes', 'conditions.conditions', 'conditions.keywords', 'contacts.officials',
  'description.briefSummary', 'description.detailedDescription', 'design.allocation',
  'design.enrollmentCount', 'design.enrollmentType', 'design.interventionModel', 'design.maskingInfo',
  'design.phases', 'design.primaryPurpose', 'design.studyType', 'eligibility.criteria',
  'eligibility.healthyVolunteers', 'eligibility.maxAge', 'eligibility.minAge', 'eligibility.sex',
  'eligibility.stdAges', 'identification.briefTitle', 'identification.officialTitle',
  'identification.orgStudyIdInfo', 'identification.organization', GOLDEN_SITE,
  'outcomes.primary', 'outcomes.secondary', 'oversight.oversightHasDmc', 'results.hasResults',
  'sponsor.collaborators', 'sponsor.lead', 'sponsor.leadClass', 'sponsor.responsibleParty',
  'status.completionDate', 'status.completionDateType', 'status.expandedAccessInfo',
  'status.lastUpdatePostDate', 'status.lastUpdatePostDateType', 'status.lastUpdateSubmitDate',
  'status.overallStatus', 'status.primaryCompletionDate', 'status.primaryCompletionDateType',
  'status.startDate', 'status.statusVerifiedDate', 'status.studyFirstPostDate',
  'status.studyFirstPostDateType', 'status.studyFirstSubmitDate', 'status.studyFirstSubmitQcDate',
].sort();

describe('normalizeStudy mapping rules', () => {
  it('treats false and 0 as values and null, empty strings, lists and objects as absent', () => {
    const study = clone(golden);
    const p = study.protocolSection;
    p.designModule!.enrollmentInfo = { count: 0 };
    p.statusModule!.whyStopped = '';
    p.conditionsModule!.keywords = [];
    p.sponsorCollaboratorsModule!.collaborators = {};
    p.descriptionModule!.detailedDescription = null;
    const { fields } = normalizeStudy(study);
    expect(fields['design.enrollmentCount']).toBe(0);
    expect(fields['eligibility.healthyVolunteers']).toBe(false);
    for (const path of ['design.enrollmentType', 'status.whyStopped', 'conditions.keywords',
      'sponsor.collaborators', 'description.detailedDescription']) {
      expect(fields, path).not.toHaveProperty([path]);
    }
  });

  it('numbers same-key sites by content so that list order does not matter', () => {
    const study = rawStudy('NCT03798535');
    const brussels = 'locations.research site|brussels||belgium';
    const forward = normalizeStudy(study).fields;
    expect([forward[brussels], forward[`${brussels}#2`], forward[`${brussels}#3`]]).toMatchObject([
      { zip: '1000' }, { zip: '1090' }, { zip: '1200' },
    ]);
    expect(forward).not.toHaveProperty([`${brussels}#4`]);
    study.protocolSection.contactsLocationsModule!.locations = [
      ...(study.protocolSection.contactsLocationsModule!.locations as unknown[]),
    ].reverse();
    expect(normalizeStudy(study).fields).toEqual(forward);
  });

  it('keys a site by trimmed, lower-cased parts with missing parts empty', () => {
    const study = clone(golden);
    study.protocolSection.contactsLocationsModule!.locations = [{ facility: '  Some Clinic ', country: 'France' }];
    const paths = Object.keys(normalizeStudy(study).fields).filter((path) => path.startsWith('locations.'));
    expect(paths).toEqual(['locations.some clinic|||france']);
  });

  it('keeps unknown modules, annotations, documents and other derived info under their own names', () => {
    const study = clone(golden) as Raw & Record<string, Record<string, unknown>>;
    study.protocolSection.fooBarModule = { baz: 1 };
    study.derivedSection!.miscInfoModule = { versionHolder: 'x', removedCountries: ['Chile'] };
    study.annotationSection = { annotationModule: { unpostedAnnotation: { unpostedResponsibleParty: 'X' } } };
    study.documentSection = { largeDocumentModule: { noSap: true } };
    study.resultsSection = { newThingModule: { a: 'b' } };
    const { fields } = normalizeStudy(study);
    expect(fields).toMatchObject({
      'fooBar.baz': 1,
      'miscInfo.removedCountries': ['Chile'],
      'annotation.unpostedAnnotation': { unpostedResponsibleParty: 'X' },
      'documents.noSap': true,
      'results.newThing': { a: 'b' },
    });
    expect(fields).not.toHaveProperty(['miscInfo.versionHolder']);
  });

  it('keeps values as given, including single values where CT.gov usually has a list', () => {
    const { fields } = normalizeStudy(rawStudy('NCT00617929'));
    expect(fields['design.phases']).toBe('PHASE2');
    expect(fields['conditions.conditions']).toBe('Cancer');
    expect(fields).not.toHaveProperty(['sponsor.collaborators']);
  });

  it('rejects a record without a valid NCT ID', () => {
    const study = clone(golden);
    study.protocolSection.identificationModule.nctId = 'ISRCTN123';
    expect(() => normalizeStudy(study)).toThrow(/ISRCTN123/);
  });
});

describe('normalizeStudy with keys that name Object.prototype members', () => {
  it('maps them like any other key', () => {
    const study = clone(golden) as Raw & Record<string, Record<string, unknown>>;
    study.protocolSection.constructorModule = { toString: 'a' };
    study.protocolSection.designModule!.designInfo = { constructor: 'b' };
    const { fields } = normalizeStudy(study);
    expect(fields).toMatchObject({ 'constructor.toString': 'a', 'design.constructor': 'b' });
  });
});
