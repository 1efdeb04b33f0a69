import type { Json } from '../../studies/model.js';
import { recentChanges, type MirrorChange, type MirrorSettings } from '../render.js';
import { shortInline } from './markdown.js';

/**
 * A change as the `full` profile shows it: with the old and new values when the path holds a
 * scalar (a status, a date, a count). Lists and objects (sites, outcomes, results modules) are
 * not shown as values: the page's sections show their current state.
 */
export interface ValuedChange extends MirrorChange {
  oldValue?: Json | null;
  newValue?: Json | null;
}

/** Values longer than this are shortened on the page. */
const MAX_VALUE = 80;

export function changesSection(changes: readonly ValuedChange[], now: Date, settings: MirrorSettings): string | undefined {
  // recentChanges filters and orders; the objects it returns are the ones given, values included.
  const shown = recentChanges(changes, now, settings) as ValuedChange[];
  const lines = [...new Set(shown.map(changeLine))];
  const days = settings.recentChangeDays;
  return lines.length ? `## Recent Field Changes (last ${days} ${days === 1 ? 'day' : 'days'})\n\n${lines.join('\n')}` : undefined;
}

function changeLine(c: ValuedChange): string {
  const values =
    c.kind === 'changed' && isScalar(c.oldValue) && isScalar(c.newValue)
      ? `: ${scalar(c.oldValue)} → ${scalar(c.newValue)}`
      : c.kind === 'added' && isScalar(c.newValue)
        ? `: ${scalar(c.newValue)}`
        : c.kind === 'removed' && isScalar(c.oldValue)
          ? ` (was ${scalar(c.oldValue)})`
          : '';
  return `- ${codeSpan(c.path)} — ${c.kind}${values} _(${c.detectedAt.toISOString().slice(0, 10)})_`;
}

function isScalar(value: Json | null | undefined): value is string | number | boolean {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

function scalar(value: string | number | boolean): string {
  return typeof value === 'string' ? `“${shortInline(value, MAX_VALUE)}”` : String(value);
}

// A location key may hold backticks (from a facility name); a longer delimiter keeps the span whole.
function codeSpan(text: string): string {
  const flat = text.replace(/[\r\n\u2028\u2029]+/g, ' ');
  const runs = flat.match(/`+/g) ?? [];
  const fence = '`'.repeat(Math.max(0, ...runs.map((r) => r.length)) + 1);
  return fence.length === 1 ? `\`${flat}\`` : `${fence} ${flat} ${fence}`;
}
