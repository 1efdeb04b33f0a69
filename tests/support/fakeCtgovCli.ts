import { existsSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startFakeCtgov, type FaultRule } from './fakeCtgov.js';

/*
 * npm run fake-ctgov -- --dir <folder> --port <n> [--history-dir <folder>] [--rate-limit-per-minute N]
 *   [--fail-every K] [--delay-ms MS] [--seed S] [--data-timestamp yyyy-MM-ddTHH:mm:ss]
 * Serves the folder's NCT*.json as CT.gov API v2 on 127.0.0.1, and the record histories of
 * --history-dir (NCT########/v<N>.json) under /api/int. SIGHUP reloads the folders.
 */
const HELP = `usage: fake-ctgov [--dir DIR] [--history-dir DIR] [--port N] [--host H] [--rate-limit-per-minute N]
                  [--fail-every K] [--delay-ms MS] [--seed S] [--data-timestamp T]`;

const { values } = parseArgs({
  options: {
    dir: { type: 'string', default: fileURLToPath(new URL('../fixtures/ctgov/raw', import.meta.url)) },
    'history-dir': { type: 'string' },
    port: { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
    'rate-limit-per-minute': { type: 'string' },
    'fail-every': { type: 'string' },
    'delay-ms': { type: 'string' },
    seed: { type: 'string' },
    'data-timestamp': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});

if (values.help) {
  process.stdout.write(`${HELP}\n`);
  process.exit(0);
}

const int = (name: string, v: string | undefined): number | undefined => {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) {
    process.stderr.write(`--${name} must be a non-negative integer\n${HELP}\n`);
    process.exit(2);
  }
  return Number(v);
};

const faults: FaultRule[] = [];
const failEvery = int('fail-every', values['fail-every']);
if (failEvery) faults.push({ kind: 'status', status: 503, every: failEvery });
const delayMs = int('delay-ms', values['delay-ms']);
if (delayMs) faults.push({ kind: 'slow', delayMs });

// One line for a folder that is not there (a typo), not a readdir stack trace.
if (!existsSync(values.dir) || !statSync(values.dir).isDirectory()) {
  process.stderr.write(`fake-ctgov: --dir ${values.dir}: no such folder\n`);
  process.exit(2);
}

const fake = await startFakeCtgov({
  dir: values.dir,
  historyDir: values['history-dir'],
  port: int('port', values.port),
  host: values.host,
  rateLimitPerMinute: int('rate-limit-per-minute', values['rate-limit-per-minute']),
  seed: int('seed', values.seed),
  dataTimestamp: values['data-timestamp'],
  faults,
});
process.stdout.write(`fake CT.gov serving ${values.dir} at ${fake.url}\n`);

process.on('SIGHUP', () => process.stdout.write(`reloaded ${fake.reload()} studies\n`));
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void fake.close().then(() => process.exit(0)));
}
