import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CTGOV_FIXTURE_DIR } from '../tests/support/ctgovFixtures.js';
import { catalogId } from './catalogIds.js';

export { catalogId, catalogIds } from './catalogIds.js';

/*
 * The synthetic catalog: study i is fixture i mod F (the real CT.gov records in
 * tests/fixtures/ctgov/raw) under its own NCT ID, so record shapes and sizes are real and every
 * ID is distinct. Deterministic: the harness and the sync child derive the same IDs.
 */

type Raw = Record<string, any>;

const ID_MARK = '\u0000nctId\u0000';

export class Catalog {
  /** Each fixture minified, split around its NCT ID: a study's JSON is a join, not a parse. */
  readonly #templates: Array<[string, string]>;

  constructor(readonly n: number) {
    const files = readdirSync(CTGOV_FIXTURE_DIR).filter((f) => /^NCT\d{8}\.json$/.test(f)).sort();
    this.#templates = files.map((f) => {
      const raw = JSON.parse(readFileSync(join(CTGOV_FIXTURE_DIR, f), 'utf8')) as Raw;
      const ident = raw.protocolSection.identificationModule;
      ident.nctId = ID_MARK;
      // Real aliases would point every copy of a fixture at the same old IDs.
      delete ident.nctIdAliases;
      const [before, after] = JSON.stringify(raw).split(JSON.stringify(ID_MARK));
      return [`${before}"`, `"${after}`];
    });
  }

  get fixtureCount(): number {
    return this.#templates.length;
  }

  /** Study i as first published, as minified JSON (what the API sends). */
  json(i: number): string {
    const [before, after] = this.#templates[i % this.#templates.length]!;
    return before + catalogId(i) + after;
  }

  study(i: number): Raw {
    return JSON.parse(this.json(i)) as Raw;
  }

  /** The catalog's total size as minified JSON, in bytes. */
  bytes(): number {
    let total = 0;
    for (let i = 0; i < this.n; i++) total += Buffer.byteLength(this.json(i));
    return total;
  }
}
