import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliResult } from '../support/cli.js';
import { cliEnv, type CliEnv } from '../support/cliEnv.js';
import { CTGOV_FIXTURE_DIR } from '../support/ctgovFixtures.js';
import { startFakeCtgov, type FakeCtgov } from '../support/fakeCtgov.js';

/*
 * Bad user input through the real CLI: each must stop the program with exit code 2 and one line
 * on stderr naming the problem, before anything is written: no sync_runs row, no mirror file,
 * no request to CT.gov (checked once at the end, over every input tried).
 */

let fake: FakeCtgov;
let e: CliEnv;
let tried = 0;

beforeAll(async () => {
  fake = await startFakeCtgov({ dir: CTGOV_FIXTURE_DIR });
  e = await cliEnv(fake.url);
});

afterAll(async () => {
  await fake?.close();
  await e?.done();
});

/** Exit 2 and one line matching `pattern` (commander follows its own with parenthesised hints). */
function expectRejected(r: CliResult, pattern: RegExp, what = ''): void {
  tried++;
  expect(r.code, `${what}: ${r.stderr}`).toBe(2);
  expect(r.stdout, what).toBe('');
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines[0], what).toMatch(pattern);
  const hints = r.stderr.startsWith('error: ') ? lines.slice(1).filter((l) => /^\(.*\)$/.test(l)) : [];
  expect(lines.slice(1), r.stderr).toEqual(hints);
}

function run(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return runCli(args, { cwd: e.cwd, env: { ...e.env, ...env } });
}

function writeTemp(name: string, text: string): string {
  const path = join(e.cwd, name);
  writeFileSync(path, text);
  return path;
}

type Case = [what: string, args: string[], env: Record<string, string>, expected: RegExp];

describe('bad input stops the CLI with exit 2 and one line, writing nothing', () => {
  it('rejected while reading the command line and the configuration (run side by side)', async () => {
    const watchlist = writeTemp('watchlist.json', JSON.stringify({ watchlist: { ids: ['NCT00000410', 'NCT00000410; drop table ctgov.studies'] } }));
    const crons = ['61 * * * *', '* * * *', 'every minute', '*/0 * * * *', '0 24 * * *'];
    const cases: Case[] = [
      ['unknown flag', ['sync', '--bogus'], {}, /^error: unknown option '--bogus'$/],
      ['misspelt flag', ['sync', 'NCT00000410', '--fiel', 'x'], {}, /^error: unknown option '--fiel'/],
      ['unknown command', ['frobnicate'], {}, /^error: unknown command 'frobnicate'$/],
      ['watchlist.ids', ['sync'], { CONFIG_FILE: watchlist }, /^ctgov-sync: configuration error: watchlist\.ids\.1: expected an NCT ID/],
      ['WATCHLIST', ['sync'], { WATCHLIST: 'NCT00000410,../x' }, /^ctgov-sync: configuration error: WATCHLIST: expected an NCT ID/],
      ['short ID in WATCHLIST', ['sync'], { WATCHLIST: 'NCT00000410,NCT123' }, /^ctgov-sync: configuration error: WATCHLIST: expected an NCT ID/],
      ...crons.map((cron, i): Case => [
        `cron ${JSON.stringify(cron)}`,
        ['sync', 'NCT00000410'],
        { CONFIG_FILE: writeTemp(`cron${i}.json`, JSON.stringify({ schedules: { refresh: cron } })) },
        /^ctgov-sync: configuration error: schedules\.refresh: expected a valid cron expression$/,
      ]),
      [
        'unreachable database',
        ['sync', 'NCT00000410'],
        { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/ctgov' },
        /^ctgov-sync: cannot connect to database postgres:\/\/postgres@127\.0\.0\.1:1\/ctgov: .*ECONNREFUSED/,
      ],
      ['malformed DATABASE_URL', ['sync', 'NCT00000410'], { DATABASE_URL: 'ctgov on localhost' }, /^ctgov-sync: configuration error: DATABASE_URL: expected a postgres:\/\/ or postgresql:\/\/ URL$/],
    ];
    const results = await Promise.all(cases.map(([, args, env]) => run(args, env)));
    cases.forEach(([what, , , expected], i) => expectRejected(results[i]!, expected, what));
  });

  it('rejected by the command before a run starts: malformed NCT IDs, --file, --query, an unwritable MIRROR_DIR', async () => {
    // One after the other: on the embedded database each of these holds DATA_DIR while it runs.
    const ids = writeTemp('ids.txt', '# watch\nNCT00000410\nNCT1234567890, NCT00162175\n');
    const file = writeTemp('not-a-dir', 'x');
    const shortIds = writeTemp('short-ids.txt', 'nct00000410\nnct41\n');
    const cases: Case[] = [
      ['path-like NCT ID', ['sync', 'NCT00000410', '../../etc/x'], {}, /^ctgov-sync: invalid NCT ID "\.\.\/\.\.\/etc\/x": expected NCT followed by 8 digits$/],
      ['NCT ID in --file', ['sync', '--file', ids], {}, /^ctgov-sync: invalid NCT ID "NCT1234567890"/],
      ['short NCT ID', ['sync', 'NCT0000041'], {}, /^ctgov-sync: invalid NCT ID "NCT0000041": expected NCT followed by 8 digits$/],
      ['short NCT ID in --file', ['sync', '--file', shortIds], {}, /^ctgov-sync: invalid NCT ID "nct41": expected NCT followed by 8 digits$/],
      ['empty --query', ['sync', '--query', ''], {}, /^ctgov-sync: --query: empty query: expected words or key=value pairs/],
      ['blank --query', ['sync', '--query', 'cond=ALS', '--query', ' \t '], {}, /^ctgov-sync: --query: empty query/],
      ['--query without a value', ['sync', '--query', 'cond='], {}, /^ctgov-sync: --query: query "cond=": cond has no value$/],
      ['--query', ['sync', '--query', '=Parkinson'], {}, /^ctgov-sync: --query: query "=Parkinson": expected key=value pairs/],
      ['MIRROR_DIR is a file', ['sync', 'NCT00000410'], { MIRROR_DIR: file }, /^ctgov-sync: cannot write mirror pages to .*not-a-dir \((EEXIST|ENOTDIR)\)/],
      ['DATA_DIR is a file', ['sync', 'NCT00000410'], { DATABASE_URL: '', DATA_DIR: file }, /^ctgov-sync: configuration error: DATA_DIR: cannot use .*not-a-dir for the embedded database \((EEXIST|ENOTDIR)\)/],
      [
        'MIRROR_DIR under a file',
        ['import', join(CTGOV_FIXTURE_DIR, 'NCT00000410.json')],
        { MIRROR_DIR: join(file, 'mirror') },
        /^ctgov-sync: cannot write mirror pages to .*not-a-dir\/mirror \(ENOTDIR\)/,
      ],
      ['--out under a file', ['export', '--all', '--out', join(file, 'out')], {}, /^ctgov-sync: cannot write mirror pages to .*not-a-dir\/out \(ENOTDIR\)/],
    ];
    for (const [what, args, env, expected] of cases) expectRejected(await run(args, env), expected, what);
    // A dozen processes one after the other, each opening the embedded database: more than the default minute on a busy machine.
  }, 240_000);

  it('a DATA_DIR in use by another live process: refused without touching it', async () => {
    const dir = join(e.cwd, 'held');
    mkdirSync(dir);
    const holder: ChildProcess = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    try {
      writeFileSync(join(dir, 'ctgov-sync.lock'), String(holder.pid));
      const env: Record<string, string> = { ...e.env, DATA_DIR: dir };
      delete env.DATABASE_URL;
      const r = await runCli(['sync', 'NCT00000410'], { cwd: e.cwd, env });
      expectRejected(r, new RegExp(`^ctgov-sync: the embedded database in .*held is in use by another ctgov-sync process \\(pid ${holder.pid}\\)`));
      expect(readdirSync(dir)).toEqual(['ctgov-sync.lock']);
    } finally {
      holder.kill('SIGKILL');
    }
  });

  it('ctgov.request_resync() in SQL rejects malformed IDs and queues nothing', async () => {
    await e.withDb(async (pool) => {
      for (const bad of ['x', 'NCT1234567890', 'NCT123', 'nct0000041', "NCT00000410'); delete from ctgov.studies; --", '../../etc/x']) {
        tried++;
        await expect(pool.query("select ctgov.request_resync(array['NCT00000410', $1], 'r')", [bad])).rejects.toThrow(/invalid NCT ID/);
      }
      await expect(pool.query('select ctgov.request_resync(array[]::text[], $1)', ['r'])).rejects.toThrow(/no NCT IDs/);
      expect((await pool.query('select count(*)::int as n from ctgov.resync_requests')).rows[0].n).toBe(0);
    });
  });

  it('after every bad input above: no run recorded, no mirror file, no request to CT.gov', async () => {
    console.info(`[reliability] ${tried} bad inputs tried`);
    expect(tried).toBeGreaterThanOrEqual(20);
    expect(fake.requests).toEqual([]);
    expect(existsSync(e.mirrorDir) ? readdirSync(e.mirrorDir) : []).toEqual([]);
    const runs = await e.withDb(async (pool) => (await pool.query('select count(*)::int as n from ctgov.sync_runs')).rows[0].n);
    expect(runs).toBe(0);
  });
});
