import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import type pg from 'pg';
import { DbConnectionError } from '../errors.js';
import type { Logger } from '../log.js';
import { lockDataDir, type DirLock } from './dirLock.js';

export interface EmbeddedPostgres {
  clientConfig: pg.ClientConfig;
  describe: string;
  stop(): Promise<void>;
}

// PGlite is one backend, and its socket multiplexer can mix up the results of concurrent
// connections: our pool holds exactly one (see database.ts), and nothing else may connect.
const MAX_CONNECTIONS = 1;

/** Starts PGlite on `dir` (or in memory) behind a loopback socket speaking the Postgres protocol. */
export async function startEmbeddedPostgres(dir: string, log: Logger): Promise<EmbeddedPostgres> {
  let lock: DirLock | undefined;
  let dataPath = 'memory://';
  if (dir !== 'memory://') {
    lock = lockDataDir(dir);
    dataPath = join(dir, 'pgdata');
    mkdirSync(dataPath, { recursive: true });
  }
  let db: PGlite | undefined;
  try {
    db = await PGlite.create(dataPath);
    const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: MAX_CONNECTIONS });
    await server.start();
    // getServerConn() is "host:port", with the port the OS assigned for port 0.
    const port = Number(server.getServerConn().split(':').pop());
    if (!Number.isInteger(port) || port <= 0) throw new Error('embedded database socket has no port');
    log.debug({ dir, port }, 'embedded database started');
    const instance = db;
    let stopped = false;
    return {
      clientConfig: { host: '127.0.0.1', port, user: 'postgres', database: 'postgres' },
      describe: dir === 'memory://' ? 'embedded (in memory)' : `embedded (${dir})`,
      async stop() {
        if (stopped) return;
        stopped = true;
        await server.stop().catch(() => undefined);
        await instance.close().catch(() => undefined);
        lock?.release();
      },
    };
  } catch (err) {
    await db?.close().catch(() => undefined);
    lock?.release();
    throw new DbConnectionError(`cannot open the embedded database in ${dir}: ${(err as Error).message}`, { cause: err });
  }
}
