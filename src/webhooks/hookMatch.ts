import type { Config } from '../config.js';
import { parseNctId } from '../ctgov/nctId.js';

export type WebhookConfig = Config['webhooks'][number];

/** What the outbox needs of a hook inside the sync's transaction: its key and its filters as SQL values. */
export interface WebhookMatch {
  key: string;
  /** LIKE patterns (a prefix `status.*` becomes `status.%`); null matches every path. */
  pathPatterns: string[] | null;
  nctIds: string[] | null;
  kinds: string[] | null;
}

/** A hook is known by its name, or by its url when it has none (names are checked distinct at start-up). */
export function hookKey(hook: WebhookConfig): string {
  return hook.name ?? hook.url;
}

export function webhookMatches(hooks: readonly WebhookConfig[]): WebhookMatch[] {
  return hooks.map((h) => ({
    key: hookKey(h),
    pathPatterns: h.paths && !h.paths.includes('*') ? h.paths.map(pathPattern) : null,
    // The configuration accepts the forms CT.gov accepts (nct1234567); the rows hold canonical IDs.
    nctIds: h.nctIds?.map((id) => parseNctId(id)) ?? null,
    kinds: h.kinds ?? null,
  }));
}

/** `status.*` → `status.%` (every path under status); anything else matches itself exactly. */
export function pathPattern(path: string): string {
  const prefix = path.endsWith('.*');
  const base = escapeLike(prefix ? path.slice(0, -2) : path);
  return prefix ? `${base}.%` : base;
}

export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}
