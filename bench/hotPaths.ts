/*
 * The two hand-tuned hot paths against the plain code they replace, back to back on the fixture
 * records (tests/fixtures/ctgov/raw), in one process, without a database:
 * - validation: validateCtgovStudy's in-place walk (`asIs`) + normalizeValidated, against zod's
 *   parse (a deep copy) + normalizeStudy;
 * - the raw hash: rawRecordText's cut of versionHolder out of the JSON text, against hashing a
 *   copy of the record without it (a second JSON.stringify).
 *
 *   npx tsx bench/hotPaths.ts [rounds=15] [repetitions per round=5]
 *
 * Prints the median time per record of each variant over the rounds (and min/max: a shared
 * machine spreads them).
 */
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseCtgovStudy, validateCtgovStudy } from '../src/ctgov/schema.js';
import { isPlainObject } from '../src/isPlainObject.js';
import { normalizeStudy, normalizeValidated } from '../src/studies/normalize.js';
import { RAW_HASH_VERSION, rawRecordText } from '../src/studies/rawHash.js';

const dir = join(import.meta.dirname, '../tests/fixtures/ctgov/raw');
const texts = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .map((f) => readFileSync(join(dir, f), 'utf8'))
  .filter((text) => {
    const raw: unknown = JSON.parse(text);
    if (!isPlainObject(raw) || !('protocolSection' in raw)) return false;
    try {
      parseCtgovStudy(raw);
      return true;
    } catch {
      return false;
    }
  });

/** The plain raw hash: the record without versionHolder serialised again and hashed. */
function rawTextByCopy(raw: unknown): { json: string; hash: string } | undefined {
  const json = JSON.stringify(raw);
  if (json === undefined) return undefined;
  let hashed = json;
  const derived = isPlainObject(raw) ? raw.derivedSection : undefined;
  const misc = isPlainObject(derived) ? derived.miscInfoModule : undefined;
  if (isPlainObject(raw) && isPlainObject(derived) && isPlainObject(misc) && typeof misc.versionHolder === 'string') {
    const { versionHolder: _holder, ...rest } = misc;
    hashed = JSON.stringify({ ...raw, derivedSection: { ...derived, miscInfoModule: rest } });
  }
  return { json, hash: createHash('sha256').update(`${RAW_HASH_VERSION}\n`).update(hashed).digest('base64url') };
}

const variants: Record<string, (raw: unknown) => unknown> = {
  'validate+normalize, in-place walk (asIs)': (raw) => normalizeValidated(validateCtgovStudy(raw)),
  'validate+normalize, zod parse (plain)': (raw) => normalizeStudy(parseCtgovStudy(raw)),
  'raw hash, cut from the JSON text': (raw) => rawRecordText(raw),
  'raw hash, copy without versionHolder (plain)': (raw) => rawTextByCopy(raw),
};

const rounds = Number(process.argv[2] ?? 15);
const reps = Number(process.argv[3] ?? 5);
const perRecordMs = new Map<string, number[]>(Object.keys(variants).map((name) => [name, []]));
for (let round = 0; round < rounds; round++) {
  for (const [name, fn] of Object.entries(variants)) {
    const records = texts.map((text): unknown => JSON.parse(text)); // fresh objects, as a sync has
    const started = performance.now();
    for (let i = 0; i < reps; i++) for (const raw of records) fn(raw);
    perRecordMs.get(name)!.push((performance.now() - started) / (reps * records.length));
  }
}
console.log(`${texts.length} records, ${rounds} rounds of ${reps}`);
for (const [name, times] of perRecordMs) {
  const sorted = [...times].sort((a, b) => a - b);
  const us = (ms: number) => (ms * 1000).toFixed(0);
  console.log(`${name.padEnd(46)} median ${us(sorted[sorted.length >> 1]!)} µs/record (min ${us(sorted[0]!)}, max ${us(sorted.at(-1)!)})`);
}
