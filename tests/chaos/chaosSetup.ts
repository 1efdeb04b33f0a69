import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { seededRandom } from '../support/fakeCtgovFaults.js';
import { SyntheticCatalog } from '../support/syntheticCatalog.js';

/** Scenario sizes; CI lowers them through the environment. */
export const CHAOS = {
  kills: envInt('CHAOS_KILLS', 20),
  cuts: envInt('CHAOS_CUTS', 3),
  studies: envInt('CHAOS_STUDIES', 5000),
  cutStudies: envInt('CHAOS_CUT_STUDIES', 1000),
  embeddedStudies: envInt('CHAOS_EMBEDDED_STUDIES', 1000),
  seed: envInt('CHAOS_SEED', Math.floor(Math.random() * 2 ** 31)),
};

function envInt(name: string, fallback: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  if (!/^\d+$/.test(v)) throw new Error(`${name} must be a non-negative integer, got ${JSON.stringify(v)}`);
  return Number(v);
}

/** A seeded RNG per scenario; the seed is printed so that a failure can be replayed with CHAOS_SEED. */
export function chaosRandom(scenario: string): () => number {
  let h = CHAOS.seed;
  for (const ch of scenario) h = (Math.imul(h, 31) + ch.charCodeAt(0)) >>> 0;
  console.info(`[chaos] ${scenario}: CHAOS_SEED=${CHAOS.seed}`);
  return seededRandom(h);
}

/** Studies up to 20 kB (102 of the 172 fixture shapes) so that 5,000 fit the time budget. */
export function chaosCatalog(size: number): SyntheticCatalog {
  return new SyntheticCatalog(size, { maxBytes: 20_000 });
}

export function writeIdFile(dir: string, ids: readonly string[]): string {
  const file = join(dir, 'ids.txt');
  writeFileSync(file, `# ${ids.length} synthetic studies\n${ids.join('\n')}\n`);
  return file;
}

/**
 * The mirror folder reduced to comparable content: every page and index.md with instants and
 * day stamps (which differ between two runs of the same data) blanked out; plus stray temp files.
 */
export function mirrorContents(dir: string): { pages: Map<string, string>; tempFiles: string[] } {
  const pages = new Map<string, string>();
  const tempFiles: string[] = [];
  for (const f of readdirSync(dir)) {
    if (f.endsWith('.tmp')) tempFiles.push(f);
    if (!f.endsWith('.md')) continue;
    const text = readFileSync(join(dir, f), 'utf8')
      .replace(/"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z"/g, '"<instant>"')
      .replace(/_\(\d{4}-\d{2}-\d{2}\)_/g, '_(<day>)_');
    pages.set(f, f === 'index.md' ? text.replace(/\| \d{4}-\d{2}-\d{2} (?=\|)/g, '| <day> ') : text);
  }
  return { pages, tempFiles };
}
