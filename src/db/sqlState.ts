/**
 * What a database error means for the caller, from its SQLSTATE: the one place that reads
 * error codes.
 * - `connection`: the session is gone (class 08, connection exception; 57P01-57P05, the server
 *   terminated it or is shutting down); the client must not be reused.
 * - `retry`: serialization_failure or deadlock_detected; the transaction did nothing and may
 *   run again.
 * - `data`: the database rejected the data itself (class 22, data exception; class 23,
 *   integrity constraint violation).
 * - `statement`: any other SQLSTATE; the statement failed, the session is fine.
 * Undefined when the error carries no SQLSTATE (not from the database).
 */
export type SqlStateKind = 'connection' | 'retry' | 'data' | 'statement';

export function sqlStateKind(err: unknown): SqlStateKind | undefined {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  if (typeof code !== 'string' || !/^[0-9A-Z]{5}$/.test(code)) return undefined;
  if (code.startsWith('08') || code.startsWith('57P0')) return 'connection';
  if (code === '40001' || code === '40P01') return 'retry';
  if (code.startsWith('22') || code.startsWith('23')) return 'data';
  return 'statement';
}
