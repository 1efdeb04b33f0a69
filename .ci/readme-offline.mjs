#!/usr/bin/env node
// Runs README's offline command blocks as printed, in a fresh clone after `npm ci`:
//   node .ci/readme-offline.mjs            (from a checkout; clones its HEAD into a temp folder)
// Needs git, bash, psql and the local PostgreSQL (postgres://postgres@127.0.0.1:5432). Exits 1
// with the block that failed. The blocks that need the internet or a remote server (`npm start`
// against clinicaltrials.gov, db.example.org, docker) are not run; `npm test` and the SQL examples
// are run by CI and tests/integration/readme-queries.test.ts.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const source = resolve(import.meta.dirname, '..');
const PG = 'postgres://postgres@127.0.0.1:5432/postgres';
let failures = 0;

function fail(what, detail) {
  failures++;
  process.stdout.write(`FAIL ${what}\n${detail ? `${detail}\n` : ''}`);
}
function pass(what) {
  process.stdout.write(`ok   ${what}\n`);
}

/** The unlabelled ``` blocks of a `##`/`###` section of README. */
function blocks(readme, heading) {
  const start = readme.indexOf(`\n${heading}\n`);
  if (start < 0) throw new Error(`README has no section ${heading}`);
  const rest = readme.slice(start + heading.length + 2);
  const end = rest.search(/\n##+ /);
  const text = end < 0 ? rest : rest.slice(0, end);
  return [...text.matchAll(/```\n([\s\S]*?)```/g)].map((m) => m[1]);
}

function sh(script, cwd, env = {}) {
  return spawnSync('bash', ['-c', script], { cwd, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 600_000 });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const dir = mkdtempSync(join(tmpdir(), 'ctgov-readme-'));
// The checkout's own commit (a clone would otherwise check out the origin's default branch).
const head = execFileSync('git', ['-C', source, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
execFileSync('git', ['clone', '--quiet', '--no-checkout', source, dir]);
execFileSync('git', ['-C', dir, 'checkout', '--quiet', head]);
const readme = readFileSync(join(dir, 'README.md'), 'utf8');
const env = { DATABASE_URL: '', DATA_DIR: '', MIRROR_DIR: '', CTGOV_BASE_URL: '', LOG_LEVEL: '', CONFIG_FILE: '' };
for (const k of Object.keys(env)) delete process.env[k];

// Quick start, first half: npm ci (it builds dist/ through `prepare`), then the bin works at once.
const [install, offline] = blocks(readme, '## Quick start');
const ci = sh(install.split('\n').filter((l) => l.startsWith('npm ci')).join('\n'), dir);
if (ci.status !== 0) fail('npm ci', ci.stderr.slice(-2000));
else pass('npm ci');
const help = sh('npx ctgov-sync --help', dir);
if (help.status !== 0 || !help.stdout.startsWith('Usage: ctgov-sync')) fail('npx ctgov-sync --help right after npm ci', help.stderr);
else pass('npx ctgov-sync --help right after npm ci');

// Quick start, offline: the fake CT.gov in the background, then `npm start` until the seed pages exist.
{
  const child = spawn('bash', ['-c', offline], { cwd: dir, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const pages = ['NCT00855400.md', 'NCT02286011.md', 'index.md'].map((f) => join(dir, 'mirror', f));
  const deadline = Date.now() + 180_000;
  while (Date.now() < deadline && !pages.every((p) => existsSync(p)) && child.exitCode === null) await sleep(500);
  const ok = pages.every((p) => existsSync(p));
  // A supervisor's stop: SIGTERM to the whole group (bash, the fake server, npm and the worker).
  try {
    process.kill(-child.pid, 'SIGTERM');
  } catch {}
  const closed = await Promise.race([new Promise((r) => child.on('close', () => r(true))), sleep(60_000).then(() => false)]);
  if (!ok) fail('offline quick start: npm run fake-ctgov … & CTGOV_BASE_URL=… npm start', out.slice(-3000));
  else if (!closed) fail('offline quick start: still running 60 s after SIGTERM', out.slice(-2000));
  else pass('offline quick start writes the seed pages and stops on SIGTERM');
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {}
}

// Querying change history: the imports (the second exits 1, as README says), then `history`.
{
  const exists = spawnSync('psql', [PG, '-Atc', "select 1 from pg_database where datname = 'ctgov_demo'"], { encoding: 'utf8' });
  if (exists.stdout.trim() === '1') {
    fail('querying change history', 'database ctgov_demo already exists: drop it first (this check creates it)');
  } else {
    const [load] = blocks(readme, '## Querying change history');
    const lines = load.trim().split('\n');
    const exports = lines.filter((l) => l.startsWith('export ')).join('\n');
    const expected = (l) => (l.includes('import tests/fixtures/ctgov/raw ') ? 1 : 0);
    let ok = true;
    for (const line of lines.filter((l) => !l.startsWith('export '))) {
      const r = sh(`${exports}\n${line}`, dir);
      if (r.status !== expected(line)) {
        ok = false;
        fail(`querying change history: ${line} exited ${r.status}, README says ${expected(line)}`, (r.stderr || r.stdout).slice(-2000));
      }
    }
    if (ok) pass('querying change history: database created, three imports');
    const printed = readme.slice(readme.indexOf('The same history from the command line:'));
    const [shown] = [...printed.matchAll(/```\n\$ (.*)\n([\s\S]*?)```/g)].map((m) => ({ cmd: m[1], out: m[2] }));
    const r = sh(`${exports}\n${shown.cmd}`, dir);
    if (r.status !== 0 || r.stdout !== shown.out) fail(`$ ${shown.cmd}`, `expected:\n${shown.out}got (exit ${r.status}):\n${r.stdout}${r.stderr}`);
    else pass(`$ ${shown.cmd}`);
    spawnSync('psql', [PG, '-qc', 'drop database ctgov_demo']);
  }
}

process.stdout.write(failures ? `${failures} README block(s) failed (clone left in ${dir})\n` : `README offline blocks ok (${dir})\n`);
process.exit(failures ? 1 : 0);
