import { loadConfig, type Config } from './config.js';
import { openDatabase, type Database } from './db/database.js';
import { createLogger, type Logger } from './log.js';

export interface AppContext {
  config: Config;
  log: Logger;
  db: Database;
  /** The clock is passed in so that pure stages and tests can fix "now". */
  clock: () => Date;
  close(): Promise<void>;
}

export interface CreateAppOptions {
  env?: Record<string, string | undefined>;
  config?: Config;
  log?: Logger;
  clock?: () => Date;
}

/**
 * Builds the application context: configuration (validated before anything is touched), the
 * root logger and the database. `close()` releases everything in reverse order of creation.
 */
export async function createApp(options: CreateAppOptions = {}): Promise<AppContext> {
  const config = options.config ?? loadConfig(options.env ?? process.env);
  const log = options.log ?? createLogger(config.log);
  const db = await openDatabase(config.database, log);
  let closed = false;
  return {
    config,
    log,
    db,
    clock: options.clock ?? (() => new Date()),
    async close() {
      if (closed) return;
      closed = true;
      await db.close();
      log.flush?.();
    },
  };
}
