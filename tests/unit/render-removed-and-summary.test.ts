import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { renderMirrorPage, type MirrorChange } from '../../src/mirror/render.js';
import { DEFAULT_MIRROR_SETTINGS } from '../support/mirrorSettings.js';
import { renderMirrorIndex } from '../../src/mirror/renderIndex.js';
import { LOCATION_PREFIX, type Study } from '../../src/studies/model.js';
import { normalizeStudy, type CtgovStudyInput } from '../../src/studies/normalize.js';

const SEED = join(import.meta.dirname, '../fixtures/ctgov/seeds/NCT00855400.json');
const NOW = new Date('2026-05-20T08:00:00.000Z');
const REMOVED = new Date('2026-05-19T06:30:00.000Z');

function seedStudy(): Study {
  return normalizeStudy(JSON.parse(readFileSync(SEED, 'utf8')) as CtgovStudyInput);
}

function changesSection(page: string): string[] {
  const start = page.indexOf('## Recent Field Changes');
  const end = page.indexOf('\n---\n', start);
  return page.slice(start, end).split('\n').filter((l) => l.startsWith('- '));
}

describe('a removed study', () => {
  it('says so at the top of its page, with the date and the last known status, and in front matter', () => {
    const page = renderMirrorPage({ study: seedStudy(), changes: [], lastSeenAt: NOW, now: NOW, settings: DEFAULT_MIRROR_SETTINGS, removedAt: REMOVED });
    const body = page.slice(page.indexOf('\n---\n') + 5).split('\n\n');
    expect(body[0]).toMatch(/^# /);
    expect(body[1]).toBe(
      '> **Removed from ClinicalTrials.gov on 2026-05-19.** CT.gov no longer returns this study; this page shows its last known record. Last known status: COMPLETED.',
    );
    const fm = parse(page.slice(4, page.indexOf('\n---\n') + 1)) as Record<string, unknown>;
    expect(fm.removed_at).toBe('2026-05-19T06:30:00.000Z');
    expect(fm.overall_status).toBe('COMPLETED');
  });

  it('is listed as removed in index.md; a live study is not', () => {
    const index = renderMirrorIndex([
      { nctId: 'NCT00855400', title: 'A', overallStatus: 'COMPLETED', lastChangedAt: REMOVED, removedAt: REMOVED },
      { nctId: 'NCT02286011', title: 'B', overallStatus: 'RECRUITING', lastChangedAt: null },
    ]);
    expect(index).toContain('| [NCT00855400](NCT00855400.md) | A | REMOVED 2026-05-19 (last known: COMPLETED) | 2026-05-19 | — |');
    expect(index).toContain('| [NCT02286011](NCT02286011.md) | B | RECRUITING | — | — |');
  });
});

describe('Recent Field Changes on a page with many sites', () => {
  const sites = (n: number, kind: MirrorChange['kind'], at: Date): MirrorChange[] =>
    Array.from({ length: n }, (_, i) => ({ path: `${LOCATION_PREFIX}site ${String(i).padStart(4, '0')}|city||country`, kind, detectedAt: at }));

  it('more than mirror.maxChangeLinesPerPath lines of one family, kind and day become one summary line', () => {
    const day1 = new Date('2026-05-12T07:00:00Z');
    const day2 = new Date('2026-05-14T07:00:00Z');
    const changes = [
      ...sites(1148, 'added', day1),
      { path: 'status.overallStatus', kind: 'changed' as const, detectedAt: day2 },
      ...sites(3, 'removed', day2),
    ];
    const lines = changesSection(renderMirrorPage({ study: seedStudy(), changes, lastSeenAt: NOW, now: NOW, settings: DEFAULT_MIRROR_SETTINGS }));
    expect(lines[0]).toBe('- `status.overallStatus` — changed _(2026-05-14)_');
    // Three removals stay listed one by one: at most 10 lines per family and kind.
    expect(lines.slice(1, 4)).toEqual([0, 1, 2].map((i) => `- \`locations.site ${String(i).padStart(4, '0')}|city||country\` — removed _(2026-05-14)_`));
    expect(lines.slice(4)).toEqual(['- `locations` — 1,148 added _(2026-05-12)_']);
  });

  it('the threshold is the setting: 10 lines stay, 11 become one', () => {
    const at = new Date('2026-05-12T07:00:00Z');
    const render = (n: number, max = DEFAULT_MIRROR_SETTINGS.maxChangeLinesPerPath) =>
      changesSection(renderMirrorPage({ study: seedStudy(), changes: sites(n, 'added', at), lastSeenAt: NOW, now: NOW, settings: { ...DEFAULT_MIRROR_SETTINGS, maxChangeLinesPerPath: max } }));
    expect(render(10)).toHaveLength(10);
    expect(render(11)).toEqual(['- `locations` — 11 added _(2026-05-12)_']);
    expect(render(3, 2)).toEqual(['- `locations` — 3 added _(2026-05-12)_']);
  });
});
