/** A positive integer from the environment, or the fallback when it is unset or empty. */
export function intEnv(name: string, fallback: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  const x = Number(v);
  if (!Number.isInteger(x) || x < 1) throw new Error(`${name} must be a positive integer, got ${v}`);
  return x;
}
