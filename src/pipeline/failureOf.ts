import type { FailureRecord } from '../sql/runs.js';

const EXCERPT_CHARS = 2000;

/** A quarantine record for one study: its stage, the reason, and the start of its payload. */
export function failureOf(nctId: string | null, stage: FailureRecord['stage'], err: unknown, payload?: string): FailureRecord {
  return {
    nctId: nctId === null ? null : storableText(nctId),
    stage,
    error: storableText(err instanceof Error ? err.message : String(err)),
    payloadExcerpt: payload === undefined ? null : storableText(payload.slice(0, EXCERPT_CHARS)),
  };
}

// Postgres text cannot hold U+0000; a quarantine record must never fail to be stored because of
// the very bytes that made its study bad.
function storableText(s: string): string {
  return s.includes('\u0000') ? s.replaceAll('\u0000', '\uFFFD') : s;
}
