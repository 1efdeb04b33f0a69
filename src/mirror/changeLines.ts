import type { MirrorChange } from './render.js';

/** One rendered line of "Recent Field Changes" and what it is about. */
export interface ChangeLine {
  text: string;
  day: string;
  /** The mirrored entry the path falls under: `locations` for `locations.*`, else the path. */
  family: string;
  kind: MirrorChange['kind'];
}

/**
 * Replaces each group of more than `max` lines of one path family and kind on one day with a
 * single summary line, where the group's first line was (`locations` — 1,148 added). A study's
 * first observation adds one line per site; a page of a thousand site lines says nothing more.
 */
export function summarizeChangeLines(lines: readonly ChangeLine[], max: number, render: (family: string, count: number, kind: string, day: string) => string): string[] {
  const counts = new Map<string, number>();
  const keyOf = (l: ChangeLine) => `${l.day}\u0000${l.family}\u0000${l.kind}`;
  for (const l of lines) counts.set(keyOf(l), (counts.get(keyOf(l)) ?? 0) + 1);
  const out: string[] = [];
  const summarized = new Set<string>();
  for (const l of lines) {
    const key = keyOf(l);
    const n = counts.get(key)!;
    if (n <= max) out.push(l.text);
    else if (!summarized.has(key)) {
      summarized.add(key);
      out.push(render(l.family, n, l.kind, l.day));
    }
  }
  return out;
}

/** The family of a path: the `prefix` of the first `prefix.*` entry of `mirrored` it falls under, else the path. */
export function pathFamily(path: string, mirrored: readonly string[]): string {
  for (const m of mirrored) {
    if (m.endsWith('.*') && path.startsWith(m.slice(0, -1))) return m.slice(0, -2);
  }
  return path;
}
