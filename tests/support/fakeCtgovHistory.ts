import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { canonicalId, type FakeStudyStore } from './fakeCtgovStore.js';
import { derivedReferencesOf, renderHistoryStudy, type HistoryMarkup } from './fakeCtgovHistoryRender.js';

/*
 * The record-history endpoints of the fake CT.gov (`/api/int/studies/{id}`, `…?history=true`,
 * `…/history`, `…/history/{v}`), served from files or from what a test sets. See
 * CTGOV_HISTORY.md for the behaviour imitated.
 */

export interface FakeHistoryVersion {
  /** The index's `changes[].date`. */
  date: string;
  /** A v2-shaped record (Markdown text), rendered the way the history endpoint renders one. */
  study?: Record<string, unknown>;
  /** A real `/history/{v}` body, served as is. */
  body?: unknown;
  /** Served instead of the rendered body (a malformed answer). */
  bodyText?: string;
  markup?: HistoryMarkup;
  moduleLabels?: string[];
}

interface Answer {
  status: number;
  body: string;
  type?: string;
}

const json = (value: unknown): Answer => ({ status: 200, type: 'application/json', body: JSON.stringify(value) });
const notFound = (body: string): Answer => ({ status: 404, body });

export class FakeHistoryStore {
  readonly #byId = new Map<string, FakeHistoryVersion[]>();
  /** Studies CT.gov keeps no history for (404), although their record is served. */
  readonly #none = new Set<string>();
  /** Index bodies served as is (e.g. one without `changes`). */
  readonly #indexes = new Map<string, unknown>();

  set(id: string, versions: FakeHistoryVersion[]): void {
    this.#byId.set(canonicalId(id) ?? id, versions);
    this.#none.delete(canonicalId(id) ?? id);
  }

  setIndexBody(id: string, body: unknown): void {
    this.#indexes.set(canonicalId(id) ?? id, body);
  }

  /** The study gets a 404 from the history endpoints (as merged IDs do). */
  remove(id: string): void {
    this.#byId.delete(canonicalId(id) ?? id);
    this.#indexes.delete(canonicalId(id) ?? id);
    this.#none.add(canonicalId(id) ?? id);
  }

  get(id: string): FakeHistoryVersion[] | undefined {
    return this.#byId.get(id);
  }

  refuses(id: string): boolean {
    return this.#none.has(id);
  }

  indexBody(id: string): unknown {
    return this.#indexes.get(id);
  }

  /**
   * Reads `dir/NCT########/v<N>.json` files: a real history body (`{studyVersion, study}`) is
   * served as is, anything else is taken as a v2 record and rendered. A version's date is the
   * record's lastUpdateSubmitDate (its first submission for version 0).
   */
  loadDir(dir: string): number {
    if (!existsSync(dir)) return 0;
    let n = 0;
    for (const name of readdirSync(dir)) {
      const folder = join(dir, name);
      if (!/^NCT\d{8}$/.test(name) || !statSync(folder).isDirectory()) continue;
      const files = readdirSync(folder)
        .map((f) => /^v(\d+)\.json$/.exec(f))
        .filter((m): m is RegExpExecArray => m !== null)
        .sort((a, b) => Number(a[1]) - Number(b[1]));
      const versions = files.map((m) => {
        const value = JSON.parse(readFileSync(join(folder, m[0]), 'utf8')) as Record<string, unknown>;
        const isBody = typeof value.studyVersion === 'number';
        const record = (isBody ? value.study : value) as Record<string, unknown>;
        return { date: submitDate(record) ?? '2000-01-01', ...(isBody ? { body: value } : { study: record }) };
      });
      this.set(name, versions);
      n++;
    }
    return n;
  }
}

/** Routes `/int/studies/…` (the path below `/api`). */
export function answerHistory(apiPath: string, params: URLSearchParams, history: FakeHistoryStore, studies: FakeStudyStore): Answer {
  const m = /^\/int\/studies\/([^/]+)(?:\/(history)(?:\/([^/]+))?)?$/.exec(apiPath);
  if (!m) return notFound(`fake CT.gov does not serve /api${apiPath}`);
  const id = canonicalId(decodeURIComponent(m[1]!));
  if (!id) return { status: 400, body: 'Parameter `nctId` has incorrect format' };
  const current = studies.get(id)?.raw;
  const versions = history.refuses(id) ? undefined : history.get(id) ?? (current ? [{ date: submitDate(current) ?? '2000-01-01', study: current }] : undefined);
  // An alias (merged ID) has no history of its own: CT.gov answers 404 with this body.
  const noHistory = () => notFound(`No study ${id} history summary`);
  if (!m[2]) {
    if (!current) return notFound(`NCT number ${id} not found`);
    const study = renderHistoryStudy(current, derivedReferencesOf(current));
    // The website's current record keeps its derived section.
    if (current.derivedSection) study.derivedSection = current.derivedSection;
    if (params.get('history') !== 'true') return json({ study });
    return json({ study, topics: { GHR: [], MedlinePlus: [] }, history: history.indexBody(id) ?? indexOf(versions ?? []) });
  }
  const given = history.refuses(id) ? undefined : history.indexBody(id);
  if (m[3] === undefined) {
    if (given !== undefined) return json(given);
    return versions ? json(indexOf(versions)) : noHistory();
  }
  if (!versions || !/^\d+$/.test(m[3])) return noHistory();
  const v = Number(m[3]);
  const version = versions[v];
  if (!version) return notFound(`No version ${v} of study ${id}`);
  if (version.bodyText !== undefined) return { status: 200, type: 'application/json', body: version.bodyText };
  if (version.body !== undefined) return json(version.body);
  const newest = versions[versions.length - 1]?.study ?? current;
  return json({ studyVersion: v, study: renderHistoryStudy(version.study!, derivedReferencesOf(current ?? newest), version.markup) });
}

function indexOf(versions: FakeHistoryVersion[]): unknown {
  return {
    changes: versions.map((v, i) => ({
      version: i,
      date: v.date,
      status: overallStatus(v),
      moduleLabels: v.moduleLabels ?? [],
      // Items gained these keys between 2023 and 2026; odd versions show the older shape.
      ...(i % 2 === 0 ? { studyType: 'INTERVENTIONAL', lastUpdateSubmitQcDate: v.date } : {}),
    })),
    originalData: {},
    lastUpdateVersions: {},
    outcomesUpdateCount: 0,
  };
}

function overallStatus(v: FakeHistoryVersion): string | undefined {
  const record = (v.study ?? (v.body as Record<string, unknown> | undefined)?.study) as Record<string, any> | undefined;
  return record?.protocolSection?.statusModule?.overallStatus;
}

function submitDate(record: Record<string, unknown>): string | undefined {
  const status = (record.protocolSection as Record<string, any> | undefined)?.statusModule;
  const date = status?.lastUpdateSubmitDate ?? status?.studyFirstSubmitDate;
  return typeof date === 'string' ? date : undefined;
}
