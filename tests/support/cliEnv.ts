import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { openDatabase } from '../../src/db/database.js';
import { binPath, repoRoot, type CliResult } from './cli.js';
import { createServerDatabase, silentLog } from './testDb.js';

/*
 * A place for real `ctgov-sync` processes: a temp folder, a CONFIG_FILE, a mirror folder and a
 * database of their own (a fresh one on the test server, or an embedded DATA_DIR), plus a way to
 * look into that database from the test afterwards.
 */

export interface CliEnv {
  cwd: string;
  env: Record<string, string>;
  mirrorDir: string;
  /** Server mode: the database's URL; embedded: undefined (DATA_DIR in env). */
  databaseUrl: string | undefined;
  /** Runs `fn` against the CLI's database. Embedded: only while no CLI process holds DATA_DIR. */
  withDb<T>(fn: (pool: pg.Pool) => Promise<T>): Promise<T>;
  done(): Promise<void>;
}

/** Limits that keep a test fast; a test's own config is merged over them. */
export const FAST_CTGOV = {
  rateLimitPerMinute: 1_000_000,
  timeoutMs: 10_000,
  retry: { maxAttempts: 4, baseDelayMs: 20, maxDelayMs: 200, runBudget: 100 },
};

export async function cliEnv(
  ctgovUrl: string | undefined,
  config: Record<string, unknown> = {},
  options: { backend?: 'server' | 'embedded' } = {},
): Promise<CliEnv> {
  const cwd = mkdtempSync(join(tmpdir(), 'ctgov-rel-'));
  const server = options.backend === 'embedded' ? undefined : await createServerDatabase();
  if (options.backend === 'server' && !server) throw new Error('a server database needs TEST_DATABASE_URL');
  const mirrorDir = join(cwd, 'mirror');
  const dataDir = join(cwd, 'data');
  writeFileSync(join(cwd, 'config.json'), JSON.stringify(merge({ ctgov: FAST_CTGOV }, config)));
  const env: Record<string, string> = {
    CONFIG_FILE: join(cwd, 'config.json'),
    MIRROR_DIR: mirrorDir,
    ...(ctgovUrl ? { CTGOV_BASE_URL: ctgovUrl } : {}),
    ...(server ? { DATABASE_URL: server.url } : { DATA_DIR: dataDir }),
  };
  return {
    cwd,
    env,
    mirrorDir,
    databaseUrl: server?.url,
    withDb: (fn) => (server ? withServerPool(server.url, fn) : withEmbedded(dataDir, fn)),
    done: async () => server?.drop(),
  };
}

async function withServerPool<T>(url: string, fn: (pool: pg.Pool) => Promise<T>): Promise<T> {
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  try {
    return await fn(pool);
  } finally {
    await pool.end();
  }
}

async function withEmbedded<T>(dataDir: string, fn: (pool: pg.Pool) => Promise<T>): Promise<T> {
  const db = await openDatabase({ url: null, dataDir, poolSize: 2, statementTimeoutMs: 0 }, silentLog);
  try {
    return await fn(db.pool);
  } finally {
    await db.close();
  }
}

export interface CliProcess {
  child: ChildProcess;
  pid: number;
  /** Settles when the process has exited. */
  exited: Promise<CliResult & { signal: NodeJS.Signals | null }>;
  readonly running: boolean;
}

/** Starts the built CLI and returns at once (for tests that kill it or race two of them). */
export function startCli(args: string[], env: Record<string, string>, options: { timeoutMs?: number } = {}): CliProcess {
  const child = spawn(process.execPath, [binPath, ...args], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let running = true;
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 300_000);
  const exited = new Promise<CliResult & { signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      running = false;
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
  if (child.pid === undefined) throw new Error('ctgov-sync did not start');
  return {
    child,
    pid: child.pid,
    exited,
    get running() {
      return running;
    },
  };
}

function merge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const prev = out[k];
    out[k] = isObject(prev) && isObject(v) ? merge(prev, v) : v;
  }
  return out;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
