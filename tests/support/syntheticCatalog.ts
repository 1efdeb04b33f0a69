import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CTGOV_FIXTURE_DIR } from './ctgovFixtures.js';

/*
 * A catalog of many studies with real shapes: study i is a fixture record (tests/fixtures/ctgov/raw)
 * under its own NCT ID (NCT7xxxxxxx, clear of the fixtures and of syntheticStudy's NCT9…). Fixtures
 * larger than `maxBytes` are left out so that thousands of studies fit a test's time budget.
 */

type Raw = Record<string, any>;

const FIRST_ID = 70_000_000;

export function catalogId(i: number): string {
  return `NCT${FIRST_ID + i}`;
}

export class SyntheticCatalog {
  readonly #fixtures: string[];

  constructor(
    readonly size: number,
    options: { maxBytes?: number } = {},
  ) {
    const files = readdirSync(CTGOV_FIXTURE_DIR).filter((f) => /^NCT\d{8}\.json$/.test(f)).sort();
    const minified = files.map((f) => JSON.stringify(JSON.parse(readFileSync(join(CTGOV_FIXTURE_DIR, f), 'utf8'))));
    this.#fixtures = minified.filter((json) => json.length <= (options.maxBytes ?? Infinity));
    if (this.#fixtures.length === 0) throw new Error('no fixture is small enough for the catalog');
  }

  ids(): string[] {
    return Array.from({ length: this.size }, (_, i) => catalogId(i));
  }

  /** Study i as first published; `revision` > 0 gives a later version with a few fields changed. */
  study(i: number, revision = 0): Raw {
    const raw = JSON.parse(this.#fixtures[i % this.#fixtures.length]!) as Raw;
    const ps = raw.protocolSection;
    ps.identificationModule.nctId = catalogId(i);
    // The fixture's real aliases would make every copy of it answer for the same old IDs.
    delete ps.identificationModule.nctIdAliases;
    ps.identificationModule.briefTitle = `${ps.identificationModule.briefTitle ?? 'Study'} (copy ${i})`;
    if (revision > 0) {
      ps.statusModule = { ...ps.statusModule, overallStatus: revision % 2 === 1 ? 'ACTIVE_NOT_RECRUITING' : 'COMPLETED' };
      ps.designModule = { ...ps.designModule, enrollmentInfo: { count: 100 + revision * 7 + (i % 13), type: 'ACTUAL' } };
      ps.statusModule.lastUpdatePostDateStruct = { date: `2026-0${Math.min(9, revision)}-15`, type: 'ACTUAL' };
    }
    return raw;
  }

  all(revision = 0): Raw[] {
    return Array.from({ length: this.size }, (_, i) => this.study(i, revision));
  }
}
