import type { FakeHistoryVersion } from './fakeCtgov.js';
import { readFixture } from './ctgovFixtures.js';

type Obj = Record<string, any>;

/**
 * A study with four record versions (CT.gov's history of NCT02569060, made up from its live
 * record): v0 as registered; v1 edits the primary outcome; v2 adds the Houston site and moves
 * the status from RECRUITING to COMPLETED (v2's content is today's live record); v3 is v2's
 * content again, rendered with different markup (line breaks, `<p>` inside items, `&#47;`).
 */
export const SCENARIO_ID = 'NCT02569060';
export const SCENARIO_DATES = ['2015-10-05', '2017-03-01', '2020-05-14', '2020-06-01'] as const;
export const OLD_MEASURE = 'HbA1c at 6 Months';
export const ADDED_SITE = 'houston food bank|houston|texas|united states';

export function scenarioLive(): Obj {
  return readFixture(SCENARIO_ID) as Obj;
}

export function scenarioVersions(): FakeHistoryVersion[] {
  const live = scenarioLive();
  const v2 = structuredClone(live);
  delete v2.derivedSection;
  const v1 = structuredClone(v2);
  const status = v1.protocolSection.statusModule;
  status.overallStatus = 'RECRUITING';
  status.lastUpdateSubmitDate = SCENARIO_DATES[1];
  status.lastUpdatePostDateStruct = { date: '2017-03-03', type: 'ACTUAL' };
  v1.protocolSection.contactsLocationsModule.locations = v1.protocolSection.contactsLocationsModule.locations.filter(
    (l: Obj) => l.facility !== 'Houston Food Bank',
  );
  const v0 = structuredClone(v1);
  v0.protocolSection.statusModule.lastUpdateSubmitDate = SCENARIO_DATES[0];
  v0.protocolSection.statusModule.lastUpdatePostDateStruct = { date: '2015-10-06', type: 'ESTIMATED' };
  v0.protocolSection.outcomesModule.primaryOutcomes[0].measure = OLD_MEASURE;
  return [
    { date: SCENARIO_DATES[0], study: v0 },
    { date: SCENARIO_DATES[1], study: v1, moduleLabels: ['Study Status', 'Outcome Measures'] },
    { date: SCENARIO_DATES[2], study: v2, moduleLabels: ['Study Status', 'Contacts/Locations'] },
    { date: SCENARIO_DATES[3], study: structuredClone(v2), markup: 'reflowed', moduleLabels: ['Study Description'] },
  ];
}
