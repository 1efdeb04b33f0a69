import { request } from 'node:http';
import zlib from 'node:zlib';
import { startFakeCtgov, type FakeCtgov } from '../tests/support/fakeCtgov.js';
import type { Catalog } from './catalog.js';

export { idBatchUrls } from './catalogIds.js';

/*
 * The fake CT.gov of the tests, serving the synthetic catalog on loopback with no rate limit.
 *
 * The fake builds and gzips every answer on the fly (the client asks for gzip, as it does of
 * CT.gov). On a 2-core machine that work would take more CPU than the sync itself and the
 * benchmark would measure the stand-in for CT.gov. So the fake keeps its gzipped `/studies`
 * answers (`cacheAnswers`, dropped whenever a study changes): `warm()` requests what the sync is
 * about to request, untimed, and during the stage the server only looks each answer up and sends
 * it. The sync still receives and gunzips gzip.
 */

export async function startCatalogServer(catalog: Catalog): Promise<FakeCtgov> {
  const fake = await startFakeCtgov({ maxLoggedRequests: 1_000_000, cacheAnswers: true });
  for (let i = 0; i < catalog.n; i++) fake.setStudy(catalog.study(i));
  return fake;
}

/** Requests each URL (and, for queries, every later page) so that its answer is compressed now. */
export async function warm(urls: readonly string[], concurrency = 2): Promise<number> {
  let next = 0;
  let pages = 0;
  const worker = async () => {
    while (next < urls.length) {
      let url: string | undefined = urls[next++]!;
      while (url) {
        const { token } = await fetchToken(url);
        pages++;
        url = token ? `${url.replace(/&pageToken=[^&]*/, '')}&pageToken=${encodeURIComponent(token)}` : undefined;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return pages;
}

/** GETs a page (gzip) and returns its nextPageToken (only a query's pages have one), read from the end of the body. */
function fetchToken(url: string): Promise<{ token: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { 'accept-encoding': 'gzip' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        if (res.statusCode !== 200) return reject(new Error(`warm-up GET ${url} answered ${res.statusCode}`));
        if (url.includes('filter.ids=')) return resolve({ token: undefined });
        const text = zlib.gunzipSync(Buffer.concat(chunks)).toString('utf8');
        // The fake writes nextPageToken after the studies array.
        const m = /"nextPageToken":"([^"]+)"/.exec(text.slice(text.lastIndexOf(']')));
        resolve({ token: m?.[1] });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}
