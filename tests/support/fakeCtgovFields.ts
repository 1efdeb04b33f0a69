import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/*
 * `fields=` for the fake: piece names (NCTId, LastUpdatePostDate, Condition, …) and dotted field
 * names (protocolSection.statusModule) resolved through CT.gov's own /studies/metadata answer.
 */

interface MetaNode {
  name: string;
  piece?: string;
  children?: MetaNode[];
}

const METADATA = fileURLToPath(new URL('../fixtures/ctgov/raw/metadata.json', import.meta.url));
let index: Map<string, string[]> | undefined;

function fieldIndex(): Map<string, string[]> {
  if (index) return index;
  index = new Map();
  const walk = (node: MetaNode, parent: string[]) => {
    const path = [...parent, node.name];
    if (node.piece) index!.set(node.piece.toLowerCase(), path);
    index!.set(path.join('.').toLowerCase(), path);
    for (const child of node.children ?? []) walk(child, path);
  };
  for (const root of JSON.parse(readFileSync(METADATA, 'utf8')) as MetaNode[]) walk(root, []);
  return index;
}

/** Resolves a `fields` value; `bad` names the first unknown entry (CT.gov answers 400 for it). */
export function resolveFields(value: string): { paths: string[][] } | { bad: string } {
  const paths: string[][] = [];
  for (const name of value.split(/[,|]/).map((s) => s.trim()).filter(Boolean)) {
    const path = fieldIndex().get(name.toLowerCase());
    if (!path) return { bad: name };
    paths.push(path);
  }
  return { paths };
}

/** The record cut down to `paths`, keeping its nesting (lists keep one entry per element). */
export function projectRecord(raw: unknown, paths: string[][]): Record<string, unknown> {
  let out: unknown = {};
  for (const path of paths) {
    const picked = pick(raw, path);
    if (picked !== undefined) out = merge(out, picked);
  }
  return out as Record<string, unknown>;
}

function pick(value: unknown, path: string[]): unknown {
  if (path.length === 0) return value;
  if (Array.isArray(value)) {
    const items = value.map((v) => pick(v, path) ?? {});
    return items.some((i) => Object.keys(i as object).length > 0) ? items : undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const [head, ...rest] = path as [string, ...string[]];
  const sub = pick((value as Record<string, unknown>)[head], rest);
  return sub === undefined ? undefined : { [head]: sub };
}

function merge(a: unknown, b: unknown): unknown {
  if (Array.isArray(a) && Array.isArray(b)) return b.map((item, i) => merge(a[i], item));
  if (isObject(a) && isObject(b)) {
    const out: Record<string, unknown> = { ...a };
    for (const [k, v] of Object.entries(b)) out[k] = k in out ? merge(out[k], v) : v;
    return out;
  }
  return b ?? a;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
