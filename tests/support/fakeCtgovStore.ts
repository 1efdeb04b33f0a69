import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The fake's data: canonical studies plus aliases, like CT.gov's NCTId / NCTIdAlias. */
export interface StoredStudy {
  id: string;
  raw: Record<string, unknown>;
  /** Serialized once: pages are built by joining these. */
  json: string;
}

/** CT.gov's own ID pattern: any case, leading zeros optional (`nct4437511` is NCT04437511). */
const LOOSE_ID = /^[Nn][Cc][Tt]0*([1-9]\d{0,7})$/;

/** `NCT` + 8 digits, or undefined when CT.gov would answer 400. */
export function canonicalId(input: string): string | undefined {
  const m = LOOSE_ID.exec(input.trim());
  return m ? `NCT${m[1]!.padStart(8, '0')}` : undefined;
}

export class FakeStudyStore {
  readonly #studies = new Map<string, StoredStudy>();
  readonly #aliases = new Map<string, string>();
  #sorted: StoredStudy[] | undefined;

  /** Replaces the contents with the NCT*.json files of `dir` (not its subfolders). */
  loadDir(dir: string): number {
    this.#studies.clear();
    this.#aliases.clear();
    this.#sorted = undefined;
    const files = readdirSync(dir).filter((f) => /^NCT\d{8}\.json$/i.test(f));
    for (const f of files) this.set(JSON.parse(readFileSync(join(dir, f), 'utf8')));
    return files.length;
  }

  /** Adds or replaces a study; its nctIdAliases become aliases. Returns its ID. */
  set(raw: unknown): string {
    const record = structuredClone(raw) as Record<string, unknown>;
    const ident = identification(record);
    const id = typeof ident?.nctId === 'string' ? canonicalId(ident.nctId) : undefined;
    if (!id) throw new Error('fake CT.gov: a study needs protocolSection.identificationModule.nctId');
    this.#studies.set(id, { id, raw: record, json: JSON.stringify(record) });
    this.#aliases.delete(id);
    const aliases = Array.isArray(ident?.nctIdAliases) ? ident.nctIdAliases : [];
    for (const a of aliases) {
      const alias = typeof a === 'string' ? canonicalId(a) : undefined;
      if (alias && alias !== id) this.#aliases.set(alias, id);
    }
    this.#sorted = undefined;
    return id;
  }

  remove(id: string): boolean {
    const canonical = canonicalId(id) ?? id;
    this.#sorted = undefined;
    return this.#studies.delete(canonical);
  }

  /**
   * Makes `alias` redirect to `canonical`. Real records list their aliases (so filter.ids finds
   * them); `listInRecord: false` makes one that only /studies/{id} knows about.
   */
  addAlias(alias: string, canonical: string, { listInRecord = true } = {}): void {
    const a = canonicalId(alias);
    const c = canonicalId(canonical);
    const study = c ? this.#studies.get(c) : undefined;
    if (!a || !study) throw new Error(`fake CT.gov: cannot alias ${alias} to ${canonical}`);
    if (listInRecord) {
      const ident = identification(study.raw)!;
      const list = Array.isArray(ident.nctIdAliases) ? ident.nctIdAliases : [];
      ident.nctIdAliases = [...list, a];
      study.json = JSON.stringify(study.raw);
    }
    this.#aliases.set(a, study.id);
  }

  get(id: string): StoredStudy | undefined {
    return this.#studies.get(id);
  }

  /** The canonical ID an alias stands for, if it is one. */
  aliasOf(id: string): string | undefined {
    return this.#aliases.get(id);
  }

  /** Studies in ID order (CT.gov's order is unspecified; a stable one keeps paging simple). */
  all(): StoredStudy[] {
    this.#sorted ??= [...this.#studies.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return this.#sorted;
  }

  /** Studies matching filter.ids: by NCTId or by NCTIdAlias. */
  byIds(ids: string[]): Set<string> {
    const out = new Set<string>();
    for (const id of ids) {
      if (this.#studies.has(id)) out.add(id);
      const target = this.#aliases.get(id);
      if (target && this.#studies.has(target)) out.add(target);
    }
    return out;
  }
}

function identification(raw: Record<string, unknown>): Record<string, unknown> | undefined {
  const ps = raw.protocolSection as Record<string, unknown> | undefined;
  return ps?.identificationModule as Record<string, unknown> | undefined;
}
