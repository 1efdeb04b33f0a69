import type { Json } from './studies/model.js';

/** A non-null object that is not an array: a JSON object, as JSON.parse makes them. */
export function isPlainObject(v: Json | undefined): v is { [key: string]: Json };
export function isPlainObject(v: unknown): v is Record<string, unknown>;
export function isPlainObject(v: unknown): boolean {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
