import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CtgovClient, IdBatch } from '../../src/ctgov/client.js';
import type { NctId } from '../../src/ctgov/nctId.js';
import { peekNctId } from '../../src/ctgov/schema.js';
import { FetchError } from '../../src/errors.js';
import { CTGOV_FIXTURE_DIR, fixtureIds, readFixture, syntheticStudy } from '../support/ctgovFixtures.js';
import { createTestClient } from '../support/ctgovTestClient.js';
import { startFakeCtgov, type FakeCtgov } from '../support/fakeCtgov.js';

let fake: FakeCtgov;
let client: CtgovClient;
const ids = fixtureIds();
const clients: CtgovClient[] = [];

/** A client with other settings, closed after the file. */
function clientWith(overrides: Parameters<typeof createTestClient>[1]): CtgovClient {
  const c = createTestClient(fake.url, overrides).client;
  clients.push(c);
  return c;
}

async function collect(iter: AsyncIterable<IdBatch>): Promise<IdBatch[]> {
  const out: IdBatch[] = [];
  for await (const b of iter) out.push(b);
  return out;
}
const studyIds = (batches: IdBatch[]) => batches.flatMap((b) => b.studies.map(peekNctId)).sort();

beforeAll(async () => {
  fake = await startFakeCtgov({ dir: CTGOV_FIXTURE_DIR });
  client = createTestClient(fake.url).client;
});
afterEach(() => {
  fake.resetCounts();
  fake.clearFaults();
});
afterAll(async () => {
  await Promise.all([client, ...clients].map((c) => c.close()));
  await fake.close();
});

describe('getStudy', () => {
  it('returns the validated study and the raw record', async () => {
    const result = await client.getStudy('NCT00000410' as NctId);
    expect(result.kind).toBe('found');
    if (result.kind !== 'found') return;
    expect(result.raw).toEqual(readFixture('NCT00000410'));
    expect(result.study.protocolSection.identificationModule.nctId).toBe('NCT00000410');
  });

  it('reports a 404 as notFound', async () => {
    expect(await client.getStudy('NCT09999999' as NctId)).toEqual({ kind: 'notFound', nctId: 'NCT09999999' });
  });

  it('follows a 301 once and reports the alias', async () => {
    const result = await client.getStudy('NCT02380456' as NctId);
    expect(result).toMatchObject({ kind: 'alias', requested: 'NCT02380456', canonical: 'NCT02300909' });
    expect(fake.requests.map((r) => [r.path, r.status])).toEqual([
      ['/studies/NCT02380456', 301],
      ['/studies/NCT02300909', 200],
    ]);
  });

  it('throws a FetchError naming the ID and CT.gov\'s message on 400', async () => {
    const err = await client.getStudy('NCT-12' as NctId).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FetchError);
    expect((err as FetchError).status).toBe(400);
    expect((err as FetchError).message).toContain('NCT-12');
    expect((err as FetchError).message).toContain('Parameter `nctId` has incorrect format');
  });

  it('sends a descriptive User-Agent and accepts gzip', async () => {
    await client.getStudy('NCT00000410' as NctId);
    expect(fake.requests[0]?.headers['user-agent']).toBe('ctgov-sync-tests/1.0');
    expect(fake.requests[0]?.headers['accept-encoding']).toBe('gzip');
  });

  it('reads a 4 MB study', async () => {
    const big = readFixture('NCT00000410') as { protocolSection: { descriptionModule: Record<string, string> } };
    big.protocolSection.descriptionModule.detailedDescription = 'x'.repeat(4 * 1024 * 1024);
    fake.setStudy(big);
    try {
      const result = await client.getStudy('NCT00000410' as NctId);
      expect(result.kind === 'found' && result.study.protocolSection.descriptionModule?.detailedDescription?.length).toBe(4 * 1024 * 1024);
    } finally {
      fake.setStudy(readFixture('NCT00000410'));
    }
  });
});

describe('getVersion', () => {
  it('returns apiVersion and dataTimestamp', async () => {
    fake.setDataTimestamp('2026-10-16T09:01:02');
    expect(await client.getVersion()).toEqual({ apiVersion: '2.0.5', dataTimestamp: '2026-10-16T09:01:02' });
  });
});

describe('getStudiesByIds', () => {
  it('fetches the 172 fixtures in one request (≤ 1 per 200 IDs)', async () => {
    const batches = await collect(client.getStudiesByIds(ids));
    expect(studyIds(batches)).toEqual(ids);
    expect(fake.requestCount()).toBe(1);
    expect(fake.requests[0]?.query['filter.ids']?.split(',')).toHaveLength(172);
  });

  it('costs one extra request per missing ID, reported as notFound', async () => {
    const missing = ['NCT09999991', 'NCT09999992', 'NCT09999993'] as NctId[];
    const batches = await collect(client.getStudiesByIds([...ids, ...missing]));
    expect(studyIds(batches)).toEqual(ids);
    expect(batches.flatMap((b) => b.notFound).sort()).toEqual(missing);
    expect(fake.requestCount('/studies/')).toBe(3);
    expect(fake.requestCount()).toBe(1 + 3);
  });

  it('costs 1 request per 200 IDs at volume (1,000 IDs → 5)', async () => {
    const extra = Array.from({ length: 1000 - ids.length }, (_, i) => syntheticStudy(i));
    for (const s of extra) fake.setStudy(s);
    try {
      const all = [...ids, ...extra.map(peekNctId)] as NctId[];
      const batches = await collect(client.getStudiesByIds(all));
      expect(batches).toHaveLength(5);
      expect(batches.map((b) => b.requested)).toEqual([0, 1, 2, 3, 4].map((i) => all.slice(i * 200, i * 200 + 200)));
      expect(studyIds(batches)).toEqual([...all].sort());
      expect(fake.requestCount()).toBe(5);
    } finally {
      for (const s of extra) fake.removeStudy(peekNctId(s)!);
    }
  });

  it('recognises an alias answered by filter.ids without an extra request', async () => {
    const [batch] = await collect(client.getStudiesByIds(['NCT02380456', 'NCT00000410'] as NctId[]));
    expect(batch?.aliases).toEqual([{ requested: 'NCT02380456', canonical: 'NCT02300909' }]);
    expect(batch?.studies.map(peekNctId).sort()).toEqual(['NCT00000410', 'NCT02300909']);
    expect(fake.requestCount()).toBe(1);
  });

  it('resolves an alias the list query missed with /studies/{id} (301)', async () => {
    fake.addAlias('NCT07777777', 'NCT00000410', { listInRecord: false });
    const [batch] = await collect(client.getStudiesByIds(['NCT07777777', 'NCT00162175'] as NctId[]));
    expect(batch?.aliases).toEqual([{ requested: 'NCT07777777', canonical: 'NCT00000410' }]);
    expect(batch?.studies.map(peekNctId).sort()).toEqual(['NCT00000410', 'NCT00162175']);
    expect(fake.requests.map((r) => r.status)).toEqual([200, 301, 200]);
  });

  it('yields a study once when both an alias and its canonical ID are asked for, even across batches', async () => {
    const batches = await collect(
      clientWith({ idBatchSize: 1 }).getStudiesByIds(['NCT02380456', 'NCT02300909'] as NctId[]),
    );
    expect(batches.flatMap((b) => b.studies).map(peekNctId)).toEqual(['NCT02300909']);
    expect(batches[0]?.aliases).toEqual([{ requested: 'NCT02380456', canonical: 'NCT02300909' }]);
  });

  it('isolates a bad ID in a batch of 200 and loses none of the other 199', async () => {
    const extra = Array.from({ length: 27 }, (_, i) => syntheticStudy(i));
    for (const s of extra) fake.setStudy(s);
    try {
      const good = [...ids, ...extra.map(peekNctId)] as NctId[];
      const batchIds = [...good.slice(0, 120), 'NCT1X' as NctId, ...good.slice(120)];
      expect(batchIds).toHaveLength(200);
      const batches = await collect(client.getStudiesByIds(batchIds));
      expect(batches).toHaveLength(1);
      expect(studyIds(batches)).toEqual([...good].sort());
      expect(batches[0]?.invalid).toEqual([{ nctId: 'NCT1X', message: expect.stringContaining('NCT1X') }]);
      expect(batches[0]?.notFound).toEqual([]);
      expect(fake.requests[0]?.status).toBe(400);
      // Halving: at most 2 requests per level of an 8-level split, plus the first.
      expect(fake.requestCount()).toBeLessThanOrEqual(1 + 2 * 8);
    } finally {
      for (const s of extra) fake.removeStudy(peekNctId(s)!);
    }
  });

  it('pages through a batch larger than pageSize', async () => {
    const small = clientWith({ pageSize: 50 });
    const batches = await collect(small.getStudiesByIds(ids));
    expect(studyIds(batches)).toEqual(ids);
    expect(fake.requestCount()).toBe(4);
    expect(fake.requests.slice(1).every((r) => r.query.pageToken && r.query['filter.ids'] === fake.requests[0]?.query['filter.ids'])).toBe(true);
  });

  it('fetches batches concurrently but yields them in order', async () => {
    fake.injectFaults({ kind: 'slow', nth: 1, delayMs: 200 });
    const c = clientWith({ idBatchSize: 20, concurrency: 3 });
    const batches = await collect(c.getStudiesByIds(ids));
    expect(batches.map((b) => b.requested[0])).toEqual(ids.filter((_, i) => i % 20 === 0));
    expect(studyIds(batches)).toEqual(ids);
    // Batches 2 and 3 arrived while batch 1 was still being answered.
    expect(fake.requests[2]!.time).toBeLessThan(fake.requests[0]!.finished!);
  });

  it('recovers a record without nctId by looking the ID up alone', async () => {
    fake.injectFaults({ kind: 'invalidRecord', nth: 1, mode: 'missingNctId' });
    const batches = await collect(client.getStudiesByIds(ids.slice(0, 10)));
    expect(studyIds(batches)).toEqual(ids.slice(0, 10));
    expect(fake.requests.map((r) => r.path)).toEqual(['/studies', `/studies/${ids[0]}`]);
  });

  it('reports a record without nctId as malformed when the lookup gives the same', async () => {
    fake.injectFaults({ kind: 'invalidRecord', nth: [1, 2], mode: 'missingNctId' });
    const [batch] = await collect(client.getStudiesByIds(ids.slice(0, 3)));
    expect(batch?.studies.map(peekNctId)).toEqual(ids.slice(1, 3));
    expect(batch?.malformed).toEqual([{ requested: ids[0], raw: expect.any(Object) }]);
  });

  it('passes a record with wrong field types on untouched (validation is the caller\'s stage)', async () => {
    fake.injectFaults({ kind: 'invalidRecord', nth: 1, mode: 'wrongTypes' });
    const [batch] = await collect(client.getStudiesByIds(ids.slice(0, 3)));
    expect(batch?.studies.map(peekNctId)).toEqual(ids.slice(0, 3));
    expect(fake.requestCount()).toBe(1);
  });
});

describe('searchStudies', () => {
  it('costs 1 request per 1,000 matching studies', async () => {
    const pages = [];
    for await (const page of client.searchStudies({ lastUpdateFrom: '1990-01-01', countTotal: true })) pages.push(page);
    expect(pages).toHaveLength(1);
    expect(pages[0]?.totalCount).toBe(172);
    expect(pages[0]?.studies.map(peekNctId)).toEqual(ids);
    expect(fake.requests[0]?.query).toEqual({
      'filter.advanced': 'AREA[LastUpdatePostDate]RANGE[1990-01-01,MAX]',
      pageSize: '1000',
      countTotal: 'true',
    });

    const extra = Array.from({ length: 2500 - ids.length }, (_, i) => syntheticStudy(i));
    for (const s of extra) fake.setStudy(s);
    try {
      fake.resetCounts();
      let n = 0;
      for await (const page of client.searchStudies({ lastUpdateFrom: '1990-01-01' })) n += page.studies.length;
      expect(n).toBe(2500);
      expect(fake.requestCount()).toBe(3);
    } finally {
      for (const s of extra) fake.removeStudy(peekNctId(s)!);
    }
  });

  it('streams pages with pageToken, repeating the query, totalCount on the first page only', async () => {
    const pages = [];
    for await (const page of client.searchStudies({ query: { cond: 'cluster headache' }, pageSize: 5, countTotal: true })) pages.push(page);
    const total = pages[0]?.totalCount ?? 0;
    expect(total).toBeGreaterThan(10);
    expect(pages).toHaveLength(Math.ceil(total / 5));
    expect(pages.slice(1).every((p) => p.totalCount === undefined)).toBe(true);
    expect(new Set(pages.flatMap((p) => p.studies.map(peekNctId))).size).toBe(total);
    for (const r of fake.requests.slice(1)) {
      expect(r.query['query.cond']).toBe('cluster headache');
      expect(r.query.pageToken).toBeTruthy();
      expect(r.query.countTotal).toBeUndefined();
    }
  });

  it('asks for fields and returns the partial records', async () => {
    for await (const page of client.searchStudies({ query: { term: 'Masonic' }, fields: ['NCTId', 'LastUpdatePostDate'] })) {
      for (const s of page.studies) expect(Object.keys((s as { protocolSection: object }).protocolSection)).toEqual(['identificationModule', 'statusModule']);
    }
    expect(fake.requests[0]?.query.fields).toBe('NCTId,LastUpdatePostDate');
  });

  it('throws a non-retryable FetchError with CT.gov\'s message on 400', async () => {
    const iter = client.searchStudies({ query: { cond: 'x' }, filterAdvanced: 'AREA[Nope]1' });
    const err = await iter.next().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FetchError);
    expect(err).toMatchObject({ status: 400, retryable: false });
    expect((err as FetchError).bodyExcerpt).toMatch(/advanced filter/);
    expect(fake.requestCount()).toBe(1);
  });
});
