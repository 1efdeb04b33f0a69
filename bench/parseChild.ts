import { request } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { catalogIds, idBatchUrls } from './catalogIds.js';
import { gunzipChunkSize } from '../src/ctgov/gunzip.js';

/*
 * The parse ceiling, in its own process: the `/studies` pages a by-ID sync receives, as the fake
 * CT.gov sends them (gzip), gunzipped, decoded and `JSON.parse`d one after the other, nothing
 * else. No database, no validation, no hash: the least any re-sync must do with a page, so the
 * fastest one core of this machine can take studies in. The bodies are downloaded before the
 * clock starts; the best of PASSES passes counts (the machine is shared, the work is fixed).
 * Compiled to dist/bench/ like syncChild.ts; prints one JSON line.
 */

export interface ParseSpec {
  baseUrl: string;
  n: number;
  idBatchSize: number;
}

export interface ParseResult {
  studies: number;
  pages: number;
  gzipMb: number;
  jsonMb: number;
  /** Wall seconds of the best pass. */
  seconds: number;
  /** CPU seconds of the best pass (process user + system). */
  cpuSeconds: number;
  passes: number;
}

const PASSES = 3;

const spec = JSON.parse(process.argv[2]!) as ParseSpec;
const bodies: Buffer[] = [];
for (const url of idBatchUrls(spec.baseUrl, catalogIds(spec.n), spec.idBatchSize)) bodies.push(await download(url));

let best: { seconds: number; cpuSeconds: number } | undefined;
let studies = 0;
let jsonBytes = 0;
for (let pass = 0; pass < PASSES; pass++) {
  studies = 0;
  jsonBytes = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (const body of bodies) {
    // Inflated the way the sync does it (one output buffer sized from the gzip trailer), on this thread.
    const json = gunzipSync(body, { chunkSize: gunzipChunkSize(body) });
    const page = JSON.parse(json.toString('utf8')) as { studies: unknown[] };
    studies += page.studies.length;
    jsonBytes += json.length;
  }
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  if (!best || seconds < best.seconds) best = { seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
}

const result: ParseResult = {
  studies,
  pages: bodies.length,
  gzipMb: bodies.reduce((s, b) => s + b.length, 0) / 2 ** 20,
  jsonMb: jsonBytes / 2 ** 20,
  seconds: best!.seconds,
  cpuSeconds: best!.cpuSeconds,
  passes: PASSES,
};
process.stdout.write(`${JSON.stringify(result)}\n`);

/** The page as sent: gzip, undecoded. */
function download(url: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { 'accept-encoding': 'gzip' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        if (res.statusCode !== 200 || res.headers['content-encoding'] !== 'gzip') {
          reject(new Error(`parse ceiling: GET ${url} answered ${res.statusCode} (${res.headers['content-encoding'] ?? 'identity'})`));
        } else resolve(Buffer.concat(chunks));
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}
