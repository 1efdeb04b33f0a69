import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { connect, createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { binPath, repoRoot } from './cli.js';
import { openDatabase } from '../../src/db/database.js';
import { createServerDatabase, silentLog } from './testDb.js';

/*
 * Helpers for the worker's process tests: an environment (config file, database, mirror folder)
 * and a real `ctgov-sync worker` process whose JSON log lines can be waited on.
 */

export interface WorkerEnv {
  cwd: string;
  env: Record<string, string>;
  mirrorDir: string;
  /** Server mode: the test database's URL. Embedded: undefined (reach it through a running worker). */
  databaseUrl: string | undefined;
  done(): Promise<void>;
}

/** Fast, second-level schedules that never fire unless a test sets them. */
export const NEVER = '0 0 0 1 1 *';

export async function workerEnv(ctgovUrl: string, config: Record<string, unknown>): Promise<WorkerEnv> {
  const cwd = mkdtempSync(join(tmpdir(), 'ctgov-worker-'));
  const server = await createServerDatabase();
  const mirrorDir = join(cwd, 'mirror');
  const base = {
    ctgov: { rateLimitPerMinute: 100_000, timeoutMs: 5_000, retry: { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 50, runBudget: 50 } },
    schedules: { incremental: NEVER, discover: NEVER, refresh: NEVER, mirror: NEVER, backfill: NEVER },
    sync: { queuePollMs: 300 },
  };
  writeFileSync(join(cwd, 'config.json'), JSON.stringify(merge(base, config)));
  const env: Record<string, string> = {
    CONFIG_FILE: join(cwd, 'config.json'),
    CTGOV_BASE_URL: ctgovUrl,
    MIRROR_DIR: mirrorDir,
    HTTP_PORT: '0',
    LOG_LEVEL: 'info',
    ...(server ? { DATABASE_URL: server.url } : { DATA_DIR: join(cwd, 'data') }),
  };
  return { cwd, env, mirrorDir, databaseUrl: server?.url, done: async () => server?.drop() };
}

function merge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const prev = out[k];
    out[k] =
      typeof prev === 'object' && prev !== null && !Array.isArray(prev) && typeof v === 'object' && v !== null && !Array.isArray(v)
        ? merge(prev as Record<string, unknown>, v as Record<string, unknown>)
        : v;
  }
  return out;
}

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

export interface WorkerProcess {
  child: ChildProcess;
  lines: LogLine[];
  stderr(): string;
  /** Resolves with the first log line matching (from line `from` on), failing after `timeoutMs`. */
  waitForLog(match: (l: LogLine) => boolean, timeoutMs?: number, from?: number): Promise<LogLine>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves with the HTTP port once the worker has started. */
  ready(timeoutMs?: number): Promise<number>;
  kill(signal?: NodeJS.Signals): void;
}

export function startWorkerProcess(env: WorkerEnv, extraEnv: Record<string, string> = {}): WorkerProcess {
  const child = spawn(process.execPath, [binPath, 'worker'], {
    cwd: env.cwd ?? repoRoot,
    env: { PATH: process.env.PATH ?? '', ...env.env, ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: LogLine[] = [];
  let raw = '';
  let partial = '';
  const waiters = new Set<() => void>();
  child.stderr!.on('data', (d: Buffer) => {
    raw += d.toString();
    partial += d.toString();
    const parts = partial.split('\n');
    partial = parts.pop() ?? '';
    for (const p of parts) {
      try {
        lines.push(JSON.parse(p) as LogLine);
      } catch {
        lines.push({ level: 60, msg: p });
      }
    }
    for (const w of waiters) w();
  });
  child.stdout!.resume();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => {
      for (const w of waiters) w();
      resolve({ code, signal });
    }),
  );
  let dead = false;
  void exited.then(() => (dead = true));

  function waitForLog(match: (l: LogLine) => boolean, timeoutMs = 30_000, from = 0): Promise<LogLine> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = lines.slice(from).find(match);
        if (found) {
          cleanup();
          resolve(found);
        } else if (dead) {
          cleanup();
          reject(new Error(`worker exited before the expected log line; stderr:\n${raw.slice(-3000)}`));
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`no matching log line within ${timeoutMs} ms; stderr:\n${raw.slice(-3000)}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });
  }

  return {
    child,
    lines,
    stderr: () => raw,
    waitForLog,
    exited,
    async ready(timeoutMs = 60_000) {
      const l = await waitForLog((x) => x.msg === 'worker started', timeoutMs);
      return l.httpPort as number;
    },
    kill(signal = 'SIGTERM') {
      if (!dead) child.kill(signal);
    },
  };
}

/**
 * The environment's database, for assertions: the server's (any time), or the embedded one,
 * opened in this process, which works only while no worker holds its DATA_DIR. (Connecting to a
 * running worker's embedded socket is not safe: pglite-socket interleaves the messages of
 * concurrent connections.)
 */
export async function openDb(env: WorkerEnv): Promise<{ pool: pg.Pool; close(): Promise<void> }> {
  if (env.databaseUrl) {
    const pool = new pg.Pool({ connectionString: env.databaseUrl, max: 2 });
    return { pool, close: () => pool.end() };
  }
  const db = await openDatabase({ url: null, dataDir: env.env.DATA_DIR!, poolSize: 1, statementTimeoutMs: 0 }, silentLog);
  return { pool: db.pool, close: () => db.close() };
}

/** Resolves with the exit, or rejects if the process is still running after `timeoutMs`. */
export async function exitWithin(w: WorkerProcess, timeoutMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`worker still running ${timeoutMs} ms after the signal`)), timeoutMs);
  });
  try {
    return await Promise.race([w.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export async function getText(port: number, path: string): Promise<{ status: number; body: string; type: string | null }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, body: await res.text(), type: res.headers.get('content-type') };
}

/**
 * Checks the invariants a crash or shutdown must not break: every study has its current version,
 * and every change row belongs to a stored version of its own study.
 */
export async function consistencyProblems(db: pg.Pool): Promise<string[]> {
  const problems: string[] = [];
  const orphans = await db.query(
    `select s.nct_id from ctgov.studies s
      left join ctgov.study_versions v on v.id = s.current_version_id and v.nct_id = s.nct_id
      where v.id is null`,
  );
  for (const r of orphans.rows) problems.push(`study ${r.nct_id} without its current version`);
  const changes = await db.query(
    `select c.id, c.nct_id from ctgov.field_changes c
      left join ctgov.study_versions v on v.id = c.version_id and v.nct_id = c.nct_id
      where v.id is null`,
  );
  for (const r of changes.rows) problems.push(`change ${r.id} of ${r.nct_id} without a stored version`);
  const versions = await db.query(
    `select v.nct_id, v.id from ctgov.study_versions v
      where not exists (select 1 from ctgov.field_changes c where c.version_id = v.id)`,
  );
  for (const r of versions.rows) problems.push(`version ${r.id} of ${r.nct_id} without change rows`);
  return problems;
}

export interface TcpProxy {
  readonly port: number;
  /** Drops every connection and refuses new ones: the database looks down. */
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

/** A loopback TCP proxy in front of a server, to take the database away and bring it back. */
export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let down = false;
  const server = createNetServer((client) => {
    if (down) return void client.destroy();
    const upstream = connect(targetPort, targetHost);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    cut() {
      down = true;
      for (const s of sockets) s.destroy();
    },
    restore() {
      down = false;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
