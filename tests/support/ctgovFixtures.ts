import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NctId } from '../../src/ctgov/nctId.js';

/** Real CT.gov API v2 records (see tests/fixtures/ctgov/raw/SOURCES.md). */
export const CTGOV_FIXTURE_DIR = fileURLToPath(new URL('../fixtures/ctgov/raw', import.meta.url));
export const CTGOV_SEED_DIR = fileURLToPath(new URL('../fixtures/ctgov/seeds', import.meta.url));

export function fixtureIds(): NctId[] {
  return readdirSync(CTGOV_FIXTURE_DIR)
    .filter((f) => /^NCT\d{8}\.json$/.test(f))
    .map((f) => f.slice(0, 11) as NctId)
    .sort();
}

export function readFixture(file: string, dir = CTGOV_FIXTURE_DIR): Record<string, unknown> {
  return JSON.parse(readFileSync(join(dir, file.endsWith('.json') ? file : `${file}.json`), 'utf8'));
}

/** A small valid study with a made-up ID, for volume tests (`n` → NCT9xxxxxxx). */
export function syntheticStudy(n: number, lastUpdate = '2025-01-15'): Record<string, unknown> {
  const nctId = `NCT${String(90_000_000 + n)}`;
  return {
    protocolSection: {
      identificationModule: { nctId, briefTitle: `Synthetic study ${n}` },
      statusModule: { overallStatus: 'RECRUITING', lastUpdatePostDateStruct: { date: lastUpdate, type: 'ACTUAL' } },
      conditionsModule: { conditions: ['Synthetic Condition'] },
    },
    derivedSection: { miscInfoModule: { versionHolder: '2026-10-13' } },
    hasResults: false,
  };
}

/** The most timestamps that fall in any half-open window [t, t + windowMs). */
export function maxInWindow(times: readonly number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (j < sorted.length && sorted[j]! < sorted[i]! + windowMs) j++;
    best = Math.max(best, j - i);
  }
  return best;
}
