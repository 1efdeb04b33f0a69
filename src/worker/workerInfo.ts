import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * Where a worker on the embedded database can be reached. Only one process can open a DATA_DIR,
 * so while a worker runs, `resync` cannot open the database itself and hands its request to
 * the worker's HTTP endpoint instead; this file (DATA_DIR/worker.json) says where that is.
 */
export interface WorkerInfo {
  pid: number;
  host: string;
  port: number;
}

const FILE = 'worker.json';

export function writeWorkerInfo(dataDir: string, info: WorkerInfo): void {
  writeFileSync(join(resolve(dataDir), FILE), `${JSON.stringify(info)}\n`);
}

export function removeWorkerInfo(dataDir: string): void {
  rmSync(join(resolve(dataDir), FILE), { force: true });
}

export function readWorkerInfo(dataDir: string): WorkerInfo | undefined {
  try {
    const info = JSON.parse(readFileSync(join(resolve(dataDir), FILE), 'utf8')) as Partial<WorkerInfo>;
    if (typeof info.pid !== 'number' || typeof info.port !== 'number' || typeof info.host !== 'string') return undefined;
    return { pid: info.pid, host: info.host, port: info.port };
  } catch {
    return undefined;
  }
}
