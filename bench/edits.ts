/*
 * The "re-sync with changes" stage: edits the kind a sponsor makes between two CT.gov data
 * refreshes. Every edit also moves lastUpdatePostDate to 2026-11-20 (as CT.gov does on any
 * sponsor update; the fixtures' own dates are all earlier, which the incremental query stage
 * relies on) and versionHolder (which moves on every refresh anyway).
 */

type Raw = Record<string, any>;

export const EDIT_KINDS = ['status', 'dates', 'enrollment', 'siteAdded', 'siteRemoved'] as const;
export type EditKind = (typeof EDIT_KINDS)[number];

const NEXT_STATUS: Record<string, string> = {
  NOT_YET_RECRUITING: 'RECRUITING',
  RECRUITING: 'ACTIVE_NOT_RECRUITING',
  ENROLLING_BY_INVITATION: 'ACTIVE_NOT_RECRUITING',
  ACTIVE_NOT_RECRUITING: 'COMPLETED',
};

/** Applies the edit in place; returns what it did (a site removal falls back to an addition). */
export function editStudy(raw: Raw, kind: EditKind, serial: number): EditKind {
  const ps = (raw.protocolSection ??= {});
  const status = (ps.statusModule ??= {});
  let done = kind;
  switch (kind) {
    case 'status':
      status.overallStatus = NEXT_STATUS[status.overallStatus] ?? 'TERMINATED';
      if (status.overallStatus === 'TERMINATED') status.whyStopped = 'Sponsor decision';
      break;
    case 'dates':
      status.primaryCompletionDateStruct = { date: '2027-06', type: 'ESTIMATED' };
      status.completionDateStruct = { date: '2027-12', type: 'ESTIMATED' };
      break;
    case 'enrollment': {
      const design = (ps.designModule ??= {});
      const count = Number(design.enrollmentInfo?.count ?? 0);
      design.enrollmentInfo = { count: count + 10 + (serial % 50), type: 'ACTUAL' };
      break;
    }
    case 'siteRemoved': {
      const sites = ps.contactsLocationsModule?.locations;
      if (Array.isArray(sites) && sites.length > 0) {
        sites.splice(serial % sites.length, 1);
        break;
      }
      done = 'siteAdded';
      addSite(ps, serial);
      break;
    }
    case 'siteAdded':
      addSite(ps, serial);
      break;
  }
  status.lastUpdatePostDateStruct = { date: '2026-11-20', type: 'ACTUAL' };
  status.lastUpdateSubmitDate = '2026-11-18';
  const misc = ((raw.derivedSection ??= {}).miscInfoModule ??= {});
  misc.versionHolder = '2026-11-20';
  return done;
}

function addSite(ps: Raw, serial: number): void {
  const module = (ps.contactsLocationsModule ??= {});
  (module.locations ??= []).push({
    facility: `Benchmark Research Site ${serial}`,
    status: 'RECRUITING',
    city: 'Lyon',
    zip: '69003',
    country: 'France',
    geoPoint: { lat: 45.74846, lon: 4.84671 },
  });
}
