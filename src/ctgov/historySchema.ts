import { z } from 'zod';
import { formatPath } from './schema.js';

/*
 * The record-history endpoints behind the website's "History of Changes" tab (`/api/int/…`):
 * undocumented and unversioned, so every body is checked here before anything reads it, and
 * every key but a change's `version` is optional (items gained keys between 2023 and 2026).
 */

const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a date YYYY-MM-DD');

const change = z.looseObject({
  version: z.number().int().nonnegative(),
  date: isoDate.optional(),
  status: z.string().optional(),
  moduleLabels: z.array(z.string()).optional(),
  studyType: z.string().optional(),
  lastUpdateSubmitQcDate: z.string().optional(),
});

export type HistoryChange = z.infer<typeof change>;

/** Shape B (`/history`): the index itself. A study without any history has no (or an empty) `changes`. */
const bareIndex = z.looseObject({ changes: z.array(change).optional() });

/** Shape A (`?history=true`): the current record, website extras, and the index under `history`. */
const wrappedIndex = z.looseObject({ study: z.looseObject({}).optional(), history: bareIndex });

const version = z.looseObject({
  studyVersion: z.number().int().nonnegative(),
  study: z.looseObject({ protocolSection: z.looseObject({}) }),
});

/** A body of a shape the backfill does not know: a per-study failure, never a crash. */
export class HistoryShapeError extends Error {
  constructor(
    readonly nctId: string,
    what: string,
    detail: string,
  ) {
    super(`${nctId}: unexpected ${what} body: ${detail}`);
    this.name = 'HistoryShapeError';
  }
}

export interface HistoryIndex {
  /** Ascending by version number; checked to be 0…n-1 without gaps. */
  changes: HistoryChange[];
}

/** Either index shape; the versions must be numbered 0…n-1 (all observed data is). */
export function parseHistoryIndex(nctId: string, json: unknown): HistoryIndex {
  const wrapped = wrappedIndex.safeParse(json);
  const parsed = wrapped.success ? { success: true as const, data: wrapped.data.history } : bareIndex.safeParse(json);
  if (!parsed.success) throw new HistoryShapeError(nctId, 'history index', describe(parsed.error));
  const changes = [...(parsed.data.changes ?? [])].sort((a, b) => a.version - b.version);
  changes.forEach((c, i) => {
    if (c.version !== i) throw new HistoryShapeError(nctId, 'history index', `versions are not numbered 0…${changes.length - 1} (found ${c.version} at ${i})`);
  });
  return { changes };
}

export interface HistoryVersion {
  studyVersion: number;
  /** The record as the history endpoint renders it (HTML text, today's derived data). */
  study: Record<string, unknown>;
}

/** `{studyVersion, study}`; `studyVersion` must echo the version asked for. */
export function parseHistoryVersion(nctId: string, requested: number, json: unknown): HistoryVersion {
  const parsed = version.safeParse(json);
  if (!parsed.success) throw new HistoryShapeError(nctId, `history version ${requested}`, describe(parsed.error));
  if (parsed.data.studyVersion !== requested) {
    throw new HistoryShapeError(nctId, `history version ${requested}`, `it is version ${parsed.data.studyVersion}`);
  }
  return { studyVersion: parsed.data.studyVersion, study: parsed.data.study };
}

function describe(error: z.ZodError): string {
  const first = error.issues[0];
  return first ? `${formatPath(first.path) || '(root)'}: ${first.message}` : 'unknown problem';
}
