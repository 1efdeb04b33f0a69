import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CTGOV_SEED_DIR } from '../support/ctgovFixtures.js';
import { binPath, repoRoot, runCli, type CliResult } from '../support/cli.js';
import { cliEnv, type CliEnv } from '../support/cliEnv.js';
import { makeZip } from '../support/zip.js';

/* What a person at a terminal sees: one summary, words that agree with numbers, one-line errors. */

describe('the command line at a terminal and with odd input', () => {
  let e: CliEnv;
  const seed = join(CTGOV_SEED_DIR, 'NCT00855400.json');
  const run = (args: string[], env: Record<string, string> = {}) => runCli(args, { cwd: e.cwd, env: { ...e.env, ...env } });

  beforeAll(async () => {
    e = await cliEnv(undefined);
  });
  afterAll(async () => {
    await e?.done();
  });

  it('--version prints the package version', async () => {
    const r = await run(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${(JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version}\n`);
  });

  it('rejects LOG_PRETTY it cannot read, and --observed-at in the future, in one line', async () => {
    const pretty = await run(['runs'], { LOG_PRETTY: 'yes' });
    expect(pretty.code).toBe(2);
    expect(pretty.stderr).toBe('ctgov-sync: configuration error: LOG_PRETTY: expected 1, true, 0 or false\n');
    const future = new Date(Date.now() + 3 * 86_400_000).toISOString();
    const r = await run(['import', seed, '--observed-at', future]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`ctgov-sync: --observed-at: ${future} is in the future\n`);
  });

  it('says "1 study", warns about a folder with no study, skips a zip\'s metadata.json, and exits 1 for the history of an unknown study', async () => {
    const one = await run(['import', seed, '--observed-at', '2026-05-12T07:19:35.732Z']);
    expect(one.code, one.stderr).toBe(0);
    expect(one.stdout).toMatch(/^import run \d+ succeeded: 1 study stored — 1 new, 0 changed, 0 unchanged, 0 removed, 0 failed; 1 mirror page written\n$/);

    const empty = join(e.cwd, 'empty');
    mkdirSync(empty);
    writeFileSync(join(empty, 'metadata.json'), '{"dataTimestamp":"2026-05-12T07:00:00"}');
    const none = await run(['import', empty]);
    expect(none.code).toBe(0);
    expect(none.stderr).toBe(`ctgov-sync: warning: no study found in ${empty}\n`);

    const zip = join(e.cwd, 'bulk.zip');
    writeFileSync(zip, makeZip([{ name: 'metadata.json', text: '{"dataTimestamp":"2026-05-12T07:00:00"}' }, { name: 'NCT00855400.json', text: readFileSync(seed, 'utf8') }]));
    const zipped = await run(['import', zip]);
    expect(zipped.stderr).toBe('');
    expect(zipped.code).toBe(0);
    expect(zipped.stdout).toMatch(/: 1 study stored — 0 new, 0 changed, 1 unchanged, 0 removed, 0 failed/);

    const unknown = await run(['history', 'NCT09999999']);
    expect(unknown.code).toBe(1);
    expect(unknown.stdout).toBe('');
    expect(unknown.stderr).toBe('ctgov-sync: NCT09999999 is not in the database (sync or import it first)\n');
    const known = await run(['history', 'NCT00855400', '--since', '2099-01-01']);
    expect(known.code).toBe(0);
    expect(known.stdout).toBe('NCT00855400: no changes match\n');
  });

  it('on a terminal: the summary once, no info log lines (LOG_LEVEL still shows them)', async () => {
    // `script` gives the command a real pseudo-terminal, as a person's shell would.
    const underTty = (env: Record<string, string>, args = 'export --all --now 2026-05-12T07:19:35.732Z'): CliResult => {
      const r = spawnSync('script', ['-qec', `${process.execPath} ${binPath} ${args}`, '/dev/null'], {
        cwd: e.cwd,
        env: { PATH: process.env.PATH ?? '', TERM: 'dumb', ...e.env, ...env },
        encoding: 'utf8',
        timeout: 150_000,
      });
      return { code: r.status, stdout: r.stdout, stderr: r.stderr };
    };
    const quiet = underTty({});
    expect(quiet.code, quiet.stdout).toBe(0);
    // eslint-disable-next-line no-control-regex
    // The bar redraws by moving to column 1 (ESC[1G): each redraw is a line of its own here.
    const screen = quiet.stdout.replace(/\x1b\[1G/g, '\n').replace(/\x1b\[[0-9;?]*[A-Za-z]|\x1b[78]/g, '');
    const lines = screen.split(/\r?\n|\r/).map((l) => l.trim()).filter(Boolean);
    expect(lines.filter((l) => l.startsWith('export: '))).toHaveLength(1);
    // Besides the summary, only the progress bar (done/total, rate, ETA), cleared before the summary.
    const bar = lines.filter((l) => !l.startsWith('export: '));
    expect(bar.length, quiet.stdout).toBeGreaterThan(0);
    for (const l of bar) expect(l).toMatch(/ \d+\/\d+ pages? \| [\d.]+\/s \| ETA /);
    expect(lines.at(-1)).toMatch(/^export: /);
    // Migrating a new database: one summary line, not a log line per migration, unless asked for.
    const fresh = (name: string) => ({ DATABASE_URL: '', DATA_DIR: join(e.cwd, name) });
    const migrated = underTty(fresh('tty-a'), 'migrate');
    expect(migrated.code, migrated.stdout).toBe(0);
    expect(migrated.stdout.split(/\r?\n/).filter(Boolean)).toEqual([expect.stringMatching(/^applied \d+ migrations to /)]);
    const verbose = underTty({ ...fresh('tty-b'), LOG_LEVEL: 'info' }, 'migrate');
    expect(verbose.code).toBe(0);
    expect(verbose.stdout).toMatch(/INFO.*migration applied/);
  }, 320_000);

  it('npm run fake-ctgov with a folder that does not exist: one line, exit 2', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'tests/support/fakeCtgovCli.ts', '--dir', '/nonexistent'], {
      cwd: repoRoot,
      env: { PATH: process.env.PATH ?? '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(2);
    expect(stderr).toBe('fake-ctgov: --dir /nonexistent: no such folder\n');
  });
});
