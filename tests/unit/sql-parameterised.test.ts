import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../support/cli.js';
import { scanSql, type SqlAllowList } from '../support/sqlScan.js';

/*
 * SQL stays parameterised: values always travel as $n parameters. The only text spliced into SQL
 * is listed here, file by file, and each is a constant identifier, never input.
 */
const ALLOWED: SqlAllowList = {
  // Child table names and column lists from the constant CHILD_TABLES / childInsert definitions.
  'src/studies/store.ts': ['table', 'names', 'columns'],
  // The NOTIFY channel name, a module constant.
  'src/worker/queueWakeups.ts': ['RESYNC_CHANNEL'],
  // The contents of the checked-in migration files (DDL), applied by the migrator.
  'src/db/migrate.ts': ['m.sql'],
  // The change list's shared column list and filter clause, module constants.
  'src/web/changeQueries.ts': ['COMMON_COLUMNS', 'FILTERED'],
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [path] : [];
  });
}

const rel = (path: string) => relative(repoRoot, path).split(sep).join('/');

describe('SQL is never built from values', () => {
  it('no SQL in src/ or jobs/ interpolates or concatenates anything but an allowed constant', () => {
    const files = [...sourceFiles(join(repoRoot, 'src')), ...sourceFiles(join(repoRoot, 'jobs'))];
    expect(files.length).toBeGreaterThan(50);
    const all = files.flatMap((f) => scanSql(rel(f), readFileSync(f, 'utf8')));
    const allowed = (f: { file: string; expression: string }) => ALLOWED[f.file]?.includes(f.expression) ?? false;
    expect(all.filter((f) => !allowed(f))).toEqual([]);
    // Every exception is still in use (the scanner sees the real code; the list does not go stale).
    const used = new Set(all.map((f) => `${f.file}: ${f.expression}`));
    expect(Object.entries(ALLOWED).flatMap(([file, exprs]) => exprs.map((x) => `${file}: ${x}`)).filter((k) => !used.has(k))).toEqual([]);
  });

  it('the scanner catches interpolation, concatenation and computed query text', () => {
    const code = `
      const a = \`select * from ctgov.studies where nct_id = '\${id}'\`;
      const b = 'delete from ctgov.studies where nct_id = ' + id;
      const c = \`
        update ctgov.sync_runs set error = '\${message}' where id = $1\`;
      const d = \`from ctgov.\${table} where nct_id = $1\`;
      await pool.query(buildSql(filter));
      await pool.query(opts.sql, []);
      const ok1 = \`select * from ctgov.studies where nct_id = $1\`;
      const ok2 = 'select 1 ' + 'from ctgov.studies';
      const ok3 = \`Study \${id} changed\`;
      await pool.query('select $1::text', [id]);
    `;
    const found = scanSql('x.ts', code);
    expect(found.map((f) => [f.kind, f.expression])).toEqual([
      ['interpolation', 'id'],
      ['concatenation', 'id'],
      ['interpolation', 'message'],
      ['interpolation', 'table'],
      ['computed query', 'buildSql(filter)'],
      ['computed query', 'opts.sql'],
    ]);
    expect(scanSql('x.ts', code, { 'x.ts': ['id', 'message', 'table', 'buildSql(filter)', 'opts.sql'] })).toEqual([]);
  });
});
