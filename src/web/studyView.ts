import type pg from 'pg';
import { validateCtgovStudy } from '../ctgov/schema.js';
import { diffStudies } from '../studies/diff.js';
import type { Study } from '../studies/model.js';
import { normalizeValidated } from '../studies/normalize.js';
import { renderStudyPage } from './studyPage.js';
import { loadStudyFacts, loadTimeline, loadVersionRaws, type VersionEntry } from './studyQueries.js';
import { diffRows } from './valueDiff.js';

export class StudyRequestError extends Error {
  constructor(
    readonly status: 400 | 404,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The study page: facts, timeline, and the diff of versions `from` → `to` (query parameters,
 * version ids), by default the latest version against the one before it. Both versions are
 * normalized by today's rules and diffed as a sync would, so any two versions compare.
 */
export async function loadStudyPage(pool: pg.Pool, nctId: string, params: URLSearchParams, ctgovBase: string): Promise<string> {
  for (const name of params.keys()) {
    if (name !== 'from' && name !== 'to') throw new StudyRequestError(400, `unknown parameter ${name}; expected from and to (version ids)`);
  }
  const facts = await loadStudyFacts(pool, nctId);
  if (!facts) throw new StudyRequestError(404, `${nctId} is not a study stored here`);
  const timeline = await loadTimeline(pool, nctId);
  const to = pickVersion(timeline, params.get('to'), 'to') ?? timeline[0];
  const fromParam = pickVersion(timeline, params.get('from'), 'from');
  const from = fromParam ?? (to ? timeline[timeline.indexOf(to) + 1] : undefined);
  let rows: ReturnType<typeof diffRows> = [];
  if (to) {
    const raws = await loadVersionRaws(pool, nctId, from ? [from.id, to.id] : [to.id]);
    const before = from ? studyOf(raws.get(from.id)) : undefined;
    rows = diffRows(diffStudies(before, studyOf(raws.get(to.id))!));
  }
  return renderStudyPage({ facts, timeline, from, to, rows, ctgovUrl: `${ctgovBase}${nctId}` });
}

function pickVersion(timeline: readonly VersionEntry[], text: string | null, name: string): VersionEntry | undefined {
  if (text === null || text === '') return undefined;
  if (!/^\d{1,15}$/.test(text)) throw new StudyRequestError(400, `${name}: expected a version id (a whole number)`);
  const v = timeline.find((t) => t.id === Number(text));
  if (!v) throw new StudyRequestError(404, `${name}: version ${text} is not a version of this study`);
  return v;
}

function studyOf(raw: unknown): Study | undefined {
  return raw === undefined ? undefined : normalizeValidated(validateCtgovStudy(raw));
}
