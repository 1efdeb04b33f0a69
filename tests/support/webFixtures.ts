import { join } from 'node:path';
import type pg from 'pg';
import { listStudyFiles, readStudyFiles } from '../../src/pipeline/readStudyFiles.js';
import { runBatches, type SourceBatch } from '../../src/pipeline/runBatches.js';
import type { WebhookMatch } from '../../src/webhooks/hookMatch.js';
import { repoRoot } from './cli.js';
import { CTGOV_FIXTURE_DIR } from './ctgovFixtures.js';
import { baseStudy } from './hostileStudies.js';
import { silentLog } from './testDb.js';

/*
 * Data for the web view and webhook tests: the fixture records (2026-11-20), the README's three
 * sponsor edits (2026-11-21), and a study with hostile text seen twice (2026-11-20, 2026-11-22)
 * whose second version edits words of the criteria and of an outcome measure, adds a site and
 * drops one.
 */

export const HOSTILE_ID = 'NCT09000001';
export const HOSTILE_TITLE =
  `<script>window.__pwned = 1</script> "Quoted" & 'single' **bold** [link](javascript:alert(1)) <img src=x onerror="window.__pwned=2">`;
const CRITERIA_V1 =
  'Inclusion Criteria:\n\n* Adults aged 18 to 65 years\n* Diagnosis confirmed by biopsy\n* <script>window.__pwned = 3</script> "quoted" **markdown**\n\nExclusion Criteria:\n\n* Pregnancy';
const CRITERIA_V2 =
  'Inclusion Criteria:\n\n* Adults aged 18 to 75 years\n* Diagnosis confirmed by imaging\n* <script>window.__pwned = 3</script> "quoted" **markdown**\n\nExclusion Criteria:\n\n* Pregnancy';
export const ADDED_SITE = { facility: 'Clínica Nueva <b>del Sur</b>', city: 'Sevilla', country: 'Spain', status: 'RECRUITING' };
export const REMOVED_SITE_CITY = 'Anniston';

type Raw = Record<string, any>;

export function hostileVersions(): [Raw, Raw] {
  const v1 = baseStudy(HOSTILE_ID);
  v1.protocolSection.identificationModule.briefTitle = HOSTILE_TITLE;
  v1.protocolSection.eligibilityModule.eligibilityCriteria = CRITERIA_V1;
  v1.protocolSection.outcomesModule.primaryOutcomes = [{ measure: 'Change in HbA1c after 24 weeks', timeFrame: 'Week 24' }];
  const v2 = structuredClone(v1);
  const p = v2.protocolSection;
  p.statusModule.lastUpdatePostDateStruct = { date: '2026-11-21', type: 'ACTUAL' };
  p.eligibilityModule.eligibilityCriteria = CRITERIA_V2;
  p.outcomesModule.primaryOutcomes = [{ measure: 'Change in fasting glucose after 24 weeks', timeFrame: 'Week 24' }];
  const sites = p.contactsLocationsModule.locations as Raw[];
  p.contactsLocationsModule.locations = [...sites.filter((s) => s.city !== REMOVED_SITE_CITY), ADDED_SITE];
  return [v1, v2];
}

async function* once(records: Raw[]): AsyncGenerator<SourceBatch> {
  yield { records: records.map((raw) => ({ raw })), failures: [] };
}

export async function loadWebFixtures(pool: pg.Pool, webhooks?: WebhookMatch[]): Promise<number[]> {
  const deps = { pool, log: silentLog, ...(webhooks ? { webhooks } : {}) };
  const [v1, v2] = hostileVersions();
  const runs: number[] = [];
  const run = async (at: string, source: AsyncIterable<SourceBatch>) => {
    const summary = await runBatches(deps, { job: 'import', trigger: 'import', observedAt: new Date(at) }, source);
    runs.push(summary.runId);
  };
  await run('2026-11-20T06:00:00Z', readStudyFiles(await listStudyFiles([CTGOV_FIXTURE_DIR]), 200));
  await run('2026-11-20T07:00:00Z', once([v1]));
  await run('2026-11-21T06:00:00Z', readStudyFiles(await listStudyFiles([join(repoRoot, 'tests', 'fixtures', 'edits')]), 200));
  await run('2026-11-22T06:00:00Z', once([v2]));
  return runs;
}
