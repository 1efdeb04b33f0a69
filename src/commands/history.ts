import type { AppContext } from '../app.js';
import { parseNctId } from '../ctgov/nctId.js';
import { EXIT_OK, EXIT_SOME_FAILED, type CliIo } from './io.js';
import { parseInstant } from './output.js';

export interface HistoryOptions {
  path?: string;
  since?: string;
  json?: boolean;
}

interface ChangeRow {
  detected_at: Date;
  path: string;
  kind: string;
  old_value: unknown;
  new_value: unknown;
  run_id: number | null;
  ct_last_update_post_date: string | null;
}

/**
 * `history <NCT> [--path P] [--since DATE] [--json]`. `--path` matches a path or, ending in `*`,
 * a prefix (`locations.*`).
 */
export async function runHistory(app: AppContext, io: CliIo, id: string, options: HistoryOptions): Promise<number> {
  const nctId = parseNctId(id);
  const since = options.since ? parseInstant(options.since, '--since') : null;
  const pathPattern = options.path ? likePattern(options.path) : null;
  const { rows } = await app.db.pool.query<ChangeRow>(
    `select detected_at, path, kind, old_value, new_value, run_id,
            to_char(ct_last_update_post_date, 'YYYY-MM-DD') as ct_last_update_post_date
       from ctgov.field_changes
      where nct_id = $1
        and ($2::text is null or path like $2 escape '\\')
        and ($3::timestamptz is null or detected_at >= $3)
      order by detected_at, id`,
    [nctId, pathPattern, since],
  );
  if (rows.length === 0) {
    const known = await app.db.pool.query('select 1 from ctgov.studies where nct_id = $1', [nctId]);
    if (!known.rowCount) {
      io.stderr.write(`ctgov-sync: ${nctId} is not in the database (sync or import it first)\n`);
      return EXIT_SOME_FAILED;
    }
  }
  if (options.json) {
    io.stdout.write(
      `${JSON.stringify(
        rows.map((r) => ({
          detectedAt: r.detected_at.toISOString(),
          path: r.path,
          kind: r.kind,
          oldValue: r.old_value,
          newValue: r.new_value,
          runId: r.run_id,
          ctLastUpdatePostDate: r.ct_last_update_post_date,
        })),
        null,
        2,
      )}\n`,
    );
    return EXIT_OK;
  }
  if (rows.length === 0) {
    io.stdout.write(`${nctId}: no changes match\n`);
    return EXIT_OK;
  }
  for (const r of rows) {
    io.stdout.write(`${r.detected_at.toISOString()}  ${r.kind.padEnd(7)}  ${r.path}${describeValues(r)}\n`);
  }
  return EXIT_OK;
}

function describeValues(r: ChangeRow): string {
  if (r.kind === 'changed') return `: ${brief(r.old_value)} → ${brief(r.new_value)}`;
  if (r.kind === 'added') return `: ${brief(r.new_value)}`;
  return `: was ${brief(r.old_value)}`;
}

function brief(v: unknown): string {
  const s = JSON.stringify(v) ?? 'null';
  return s.length > 80 ? `${s.slice(0, 77)}…` : s;
}

/** `status.*` → `status.%` for LIKE, with LIKE's own metacharacters escaped. */
function likePattern(path: string): string {
  const escaped = path.replace(/[\\%_]/g, (c) => `\\${c}`);
  return escaped.endsWith('*') ? `${escaped.slice(0, -1)}%` : escaped;
}
