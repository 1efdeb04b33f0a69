import { isProcessRunning } from '../processes.js';
import { mkdirSync, openSync, readFileSync, unlinkSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { DbLockedError } from '../errors.js';

export interface DirLock {
  release(): void;
}

const LOCK_NAME = 'ctgov-sync.lock';

/**
 * Takes an exclusive lock on an embedded database folder: a lock file created with O_EXCL that
 * holds our pid. PGlite has no protection of its own, and two processes writing one data folder
 * would corrupt it. A lock left by a dead process is taken over.
 */
export function lockDataDir(dir: string): DirLock {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, LOCK_NAME);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      let released = false;
      return {
        release() {
          if (released) return;
          released = true;
          try {
            unlinkSync(path);
          } catch {
            // already gone: nothing to release
          }
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = readHolder(path);
      if (holder !== undefined && isProcessRunning(holder)) {
        throw new DbLockedError(
          `the embedded database in ${dir} is in use by another ctgov-sync process (pid ${holder}); ` +
            'stop it, or set DATABASE_URL to share a Postgres server between processes',
        );
      }
      try {
        unlinkSync(path);
      } catch {
        // another process took it over first; the next attempt decides
      }
    }
  }
  throw new DbLockedError(`could not lock the embedded database in ${dir}`);
}

function readHolder(path: string): number | undefined {
  try {
    const pid = Number(readFileSync(path, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}
