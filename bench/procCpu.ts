import { readdirSync, readFileSync } from 'node:fs';

/*
 * CPU accounting from /proc (Linux; elsewhere these answer undefined): the whole machine, and
 * the Postgres backends serving one database, so that a stage's time can be split between the
 * sync process, the database and the rest.
 */

const TICK = 100; // USER_HZ: clock ticks per second on Linux

/** Busy CPU seconds of the whole machine so far, from /proc/stat. */
export function machineCpuSeconds(): number | undefined {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
    return (fields.reduce((a, b) => a + b, 0) - idle) / TICK;
  } catch {
    return undefined;
  }
}

/** CPU seconds (user + system) one process has used so far. */
export function processCpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICK;
  } catch {
    return undefined;
  }
}

/** CPU seconds used so far by each backend connected to `database` on this machine. */
export function backendCpu(database: string): Map<number, number> | undefined {
  try {
    const out = new Map<number, number>();
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
        if (!cmd.startsWith('postgres: ') || !cmd.split(/\s+/).includes(database)) continue;
        const seconds = processCpuSeconds(Number(entry));
        if (seconds !== undefined) out.set(Number(entry), seconds);
      } catch {
        // the process ended meanwhile
      }
    }
    return out;
  } catch {
    return undefined;
  }
}

/** CPU the backends used between two readings (backends that ended meanwhile are not counted). */
export function backendCpuDelta(before: Map<number, number> | undefined, after: Map<number, number> | undefined): number | undefined {
  if (!before || !after) return undefined;
  let total = 0;
  for (const [pid, seconds] of after) total += seconds - (before.get(pid) ?? 0);
  return total;
}
