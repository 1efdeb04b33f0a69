import { sqlStateKind } from './db/sqlState.js';

/** Errors with stable codes. The CLI maps them to exit codes in one place (see cli.ts). */
export type ErrorCode =
  | 'CONFIG'
  | 'USAGE'
  | 'DB_CONNECTION'
  | 'DB_LOCKED'
  | 'MIGRATION'
  | 'FETCH'
  | 'STUDY_VALIDATION'
  | 'INVALID_NCT_ID'
  | 'INPUT';

export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A bad configuration value; `key` names it (e.g. `schedules.refresh`). */
export class ConfigError extends AppError {
  constructor(
    readonly key: string,
    message: string,
  ) {
    super('CONFIG', `configuration error: ${key}: ${message}`);
  }
}

/** Wrong use of the command line. */
export class UsageError extends AppError {
  constructor(message: string) {
    super('USAGE', message);
  }
}

/** The database could not be reached or opened. */
export class DbConnectionError extends AppError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('DB_CONNECTION', message, options);
  }
}

/** The embedded database directory is in use by another process. */
export class DbLockedError extends AppError {
  constructor(message: string) {
    super('DB_LOCKED', message);
  }
}

export class MigrationError extends AppError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('MIGRATION', message, options);
  }
}

/** An HTTP request to CT.gov failed for good (after retries, or not retryable). */
export class FetchError extends AppError {
  constructor(
    message: string,
    readonly url: string,
    readonly status: number | undefined,
    readonly retryable: boolean,
    readonly bodyExcerpt?: string,
    options?: { cause?: unknown },
  ) {
    super('FETCH', message, options);
  }
}

export interface ValidationIssue {
  path: string;
  message: string;
}

/** A study record that does not have the shape we read. Quarantined, the batch goes on. */
export class StudyValidationError extends AppError {
  constructor(
    readonly nctId: string | undefined,
    readonly issues: ValidationIssue[],
  ) {
    const first = issues[0];
    super(
      'STUDY_VALIDATION',
      `invalid study record ${nctId ?? '(no nctId)'}: ` +
        (first ? `${first.path || '(root)'}: ${first.message}` : 'unknown problem') +
        (issues.length > 1 ? ` (+${issues.length - 1} more)` : ''),
    );
  }
}

export class InvalidNctIdError extends AppError {
  constructor(readonly input: string) {
    super('INVALID_NCT_ID', `invalid NCT ID ${JSON.stringify(input)}: expected NCT followed by 8 digits`);
  }
}

/** The user stopped a command (Ctrl-C, SIGTERM): not a failure of the program. */
export class InterruptedError extends AppError {
  constructor(signal: string) {
    super('USAGE', `interrupted by ${signal}`);
  }
}

/** A query whose first page says it matches more studies than a run may take. Nothing is stored. */
export class QueryTooBroadError extends AppError {
  constructor(
    readonly expr: string,
    readonly totalCount: number,
    readonly limit: number,
  ) {
    super(
      'USAGE',
      `query ${JSON.stringify(expr)} matches ${totalCount.toLocaleString('en-US')} studies, more than the limit of ` +
        `${limit.toLocaleString('en-US')} (sync.maxQueryStudies): narrow the query, or raise the limit for one run with --max ${totalCount}`,
    );
  }
}

/** A user-supplied file or value that cannot be used (missing file, unreadable JSON, …). */
export class InputError extends AppError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('INPUT', message, options);
  }
}

/**
 * Any thrown value as an Error; a lost database connection (the server went away mid-command)
 * becomes a DbConnectionError, so that it is reported as such rather than as a surprise.
 */
export function coerceError(err: unknown): Error {
  if (err instanceof AppError) return err;
  if (err instanceof Error) {
    return isConnectionLost(err) ? new DbConnectionError(`lost the connection to the database: ${err.message}`, { cause: err }) : err;
  }
  return new Error(typeof err === 'string' ? err : JSON.stringify(err));
}

/** A SQLSTATE that ends the session, or node-postgres's own messages for a socket that closed under it. */
export function isConnectionLost(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const { code, syscall } = err as { code?: unknown; syscall?: unknown };
  if (sqlStateKind(err) === 'connection') return true;
  if (typeof syscall === 'string' && (code === 'ECONNRESET' || code === 'EPIPE')) return true;
  return /^Connection terminated|is not queryable/.test(err.message);
}
