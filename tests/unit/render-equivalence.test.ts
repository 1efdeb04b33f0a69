import { describe, expect, it } from 'vitest';
import { mirroredPathPatterns, recentChanges, type MirrorChange, type MirrorSettings } from '../../src/mirror/render.js';
import { DEFAULT_MIRROR_SETTINGS } from '../support/mirrorSettings.js';
import { yamlQuoted } from '../../src/mirror/yaml.js';
import { compareCodeUnits } from '../../src/studies/canonical.js';
import type { ChangeKind } from '../../src/studies/model.js';

/*
 * The renderer's fast paths (a precomputed path ranking, days formatted once per instant, a
 * quoted scalar copied whole when nothing needs escaping) against the plain definitions they
 * replace, on inputs chosen to hit their edges.
 */

const DAY = 86_400_000;

function plainRank(path: string, mirrored: readonly string[]): number {
  return mirrored.findIndex((m) => (m.endsWith('.*') ? path.startsWith(m.slice(0, -1)) : m === path));
}

function plainRecentChanges(changes: readonly MirrorChange[], now: Date, settings: MirrorSettings): MirrorChange[] {
  const from = now.getTime() - settings.recentChangeDays * DAY;
  const day = (d: Date) => d.toISOString().slice(0, 10);
  return changes
    .map((c) => ({ c, rank: plainRank(c.path, settings.mirroredPaths) }))
    .filter(({ c, rank }) => rank >= 0 && c.detectedAt.getTime() > from && c.detectedAt.getTime() <= now.getTime())
    .sort(
      (a, b) =>
        compareCodeUnits(day(b.c.detectedAt), day(a.c.detectedAt)) ||
        a.rank - b.rank ||
        compareCodeUnits(a.c.path, b.c.path) ||
        b.c.detectedAt.getTime() - a.c.detectedAt.getTime() ||
        compareCodeUnits(a.c.kind, b.c.kind),
    )
    .map(({ c }) => c);
}

/** A small deterministic generator, so a failure is reproducible. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const PATHS = [
  'status.overallStatus', 'status.overallStatusX', 'status.', 'status', 'statusModule.x', 'design.enrollmentCount',
  'design.phases', 'locations.a|b||c', 'locations.', 'locations.a|b||c#2', 'locationsX.a', 'eligibility.sex',
  'identification.briefTitle', 'results.hasResults', 'sponsor.lead', 'a.*', 'a.b', 'a.',
];

const MIRRORED: string[][] = [
  DEFAULT_MIRROR_SETTINGS.mirroredPaths,
  ['status.*', 'design.enrollmentCount', 'locations.*', 'status.overallStatus', 'design.enrollmentCount'],
  ['status.overallStatus', 'status.*', 'a.*', 'a.b', '*', '.*'],
  [],
];

describe('recentChanges', () => {
  const now = new Date('2026-05-12T07:19:35.732Z');

  it.each(MIRRORED.map((m, i) => [i, m] as const))('orders and filters like the plain definition (mirrored paths #%i)', (_, mirroredPaths) => {
    const settings = { ...DEFAULT_MIRROR_SETTINGS, mirroredPaths, recentChangeDays: 3 };
    const next = random(mirroredPaths.length + 7);
    // Instants on and around the window's ends and day boundaries, shared by many changes.
    const instants = [
      now.getTime(), now.getTime() + 1, now.getTime() - 3 * DAY, now.getTime() - 3 * DAY + 1, now.getTime() - 3 * DAY - 1,
      Date.parse('2026-05-11T23:59:59.999Z'), Date.parse('2026-05-12T00:00:00.000Z'), Date.parse('2026-05-10T12:00:00.000Z'),
      Date.parse('2026-05-09T07:19:35.733Z'), Number.NaN,
    ];
    const kinds: ChangeKind[] = ['added', 'changed', 'removed'];
    for (let round = 0; round < 50; round++) {
      const changes: MirrorChange[] = Array.from({ length: Math.floor(next() * 60) }, () => ({
        path: PATHS[Math.floor(next() * PATHS.length)]!,
        kind: kinds[Math.floor(next() * kinds.length)]!,
        detectedAt: new Date(instants[Math.floor(next() * instants.length)]!),
      }));
      expect(recentChanges(changes, now, settings)).toEqual(plainRecentChanges(changes, now, settings));
    }
  });

  it('is matched by the query patterns exactly where the plain ranking finds a path', () => {
    for (const mirrored of MIRRORED) {
      const { exact, prefixes } = mirroredPathPatterns(mirrored);
      for (const path of PATHS) {
        const selected = exact.includes(path) || prefixes.some((p) => path.startsWith(p));
        expect(selected, `${path} in ${JSON.stringify(mirrored)}`).toBe(plainRank(path, mirrored) >= 0);
      }
    }
  });
});

describe('yamlQuoted', () => {
  const NAMED: Record<string, string> = { '\\': '\\\\', '"': '\\"', '\0': '\\0', '\b': '\\b', '\t': '\\t', '\n': '\\n', '\v': '\\v', '\f': '\\f', '\r': '\\r', '\x1b': '\\e' };
  const SAFE = /[^\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\u{10000}-\u{10ffff}]/u;
  function plainQuoted(value: string): string {
    let out = '"';
    for (const ch of value) {
      const code = ch.codePointAt(0)!;
      const hex = (width: number) => code.toString(16).toUpperCase().padStart(width, '0');
      out += NAMED[ch] ?? (!SAFE.test(ch) ? ch : code <= 0xff ? `\\x${hex(2)}` : code <= 0xffff ? `\\u${hex(4)}` : `\\U${hex(8)}`);
    }
    return `${out}"`;
  }

  it.each([
    '', 'https://clinicaltrials.gov/study/NCT00855400', '2026-05-12T07:19:35.732Z', 'say "hi"', 'back\\slash', 'tab\t',
    'nel\u0085', 'ls\u2028', 'bom\ufeff', 'lone \ud800 surrogate', 'pair 😀', 'é ü ®', '\x7f', '\x1b[0m', 'x"', '\\',
  ])('writes %j as the character-by-character definition does', (value) => {
    expect(yamlQuoted(value)).toBe(plainQuoted(value));
  });
});
