import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CtgovClient } from '../../src/ctgov/client.js';
import { HistoryShapeError } from '../../src/ctgov/history.js';
import type { NctId } from '../../src/ctgov/nctId.js';
import { readFixture } from '../support/ctgovFixtures.js';
import { createTestClient } from '../support/ctgovTestClient.js';
import { startFakeCtgov, type FakeCtgov } from '../support/fakeCtgov.js';
import { SCENARIO_ID, scenarioLive, scenarioVersions } from '../support/historyScenario.js';

/* The history endpoints through the v2 client's HTTP layer, against the fake CT.gov. */

let fake: FakeCtgov;
const clients: CtgovClient[] = [];
const ID = SCENARIO_ID as NctId;

function setup(overrides: Parameters<typeof createTestClient>[1] = {}) {
  const made = createTestClient(fake.url, overrides);
  clients.push(made.client);
  return made;
}

beforeAll(async () => {
  fake = await startFakeCtgov({ studies: [scenarioLive(), readFixture('NCT00000410')] });
  fake.setHistory(ID, scenarioVersions());
});
afterEach(() => {
  fake.resetCounts();
  fake.clearFaults();
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close({ abort: true })));
  await fake.close();
});

describe('history client', () => {
  it('reads the index and a version as the real endpoints give them, HTML and all', async () => {
    const { client } = setup();
    const index = await client.history.getIndex(ID);
    expect(index.kind === 'found' && index.index.changes.map((c) => [c.version, c.date])).toEqual(scenarioVersions().map((v, i) => [i, v.date]));
    const v0 = await client.history.getVersion(ID, 0);
    expect(v0.studyVersion).toBe(0);
    expect(JSON.stringify(v0.study)).toContain('&#x2F;');
    expect(JSON.stringify(v0.study)).toContain('<ul><li>');
    expect(v0.study.derivedSection).toBeUndefined();
    expect(fake.requests.map((r) => r.path)).toEqual([`/int/studies/${ID}/history`, `/int/studies/${ID}/history/0`]);
  });

  it('answers a 404 with the real body for a study CT.gov keeps no history for', async () => {
    const { client } = setup();
    fake.removeHistory('NCT00000410');
    expect(await client.history.getIndex('NCT00000410' as NctId)).toEqual({
      kind: 'notFound',
      nctId: 'NCT00000410',
      message: 'No study NCT00000410 history summary',
    });
  });

  it('retries 503, 429 and truncated history answers like v2 ones, on one request count and budget', async () => {
    const { client, events } = setup();
    fake.injectFaults([
      { kind: 'status', status: 503, path: '/int/', nth: 1 },
      { kind: 'status', status: 429, retryAfter: '0.05', path: '/int/', nth: 2 },
      { kind: 'truncated', path: '/int/', nth: 3 },
    ]);
    const version = await client.history.getVersion(ID, 2);
    expect(version.studyVersion).toBe(2);
    await client.getStudy(ID);
    expect(events.filter((e) => e.type === 'retry').map((e) => e.type === 'retry' && [e.endpoint, e.reason])).toEqual([
      ['/history/{v}', 'serverError'],
      ['/history/{v}', 'rateLimited'],
      ['/history/{v}', 'badBody'],
    ]);
    expect(client.stats()).toMatchObject({ requests: 5, retries: 3 });
  });

  it('fails a body of an unknown shape with a clear reason, without retrying it', async () => {
    const { client } = setup();
    fake.setHistoryIndex(ID, { changes: [{ version: 'zero' }] });
    await expect(client.history.getIndex(ID)).rejects.toThrow(HistoryShapeError);
    await expect(client.history.getIndex(ID)).rejects.toThrow(`${ID}: unexpected history index body: changes[0].version: Invalid input: expected number, received string`);
    expect(client.stats().retries).toBe(0);
    fake.setHistory(ID, scenarioVersions());
  });

  it('stops on the abort signal', async () => {
    const abort = new AbortController();
    const { client } = setup({ signal: abort.signal });
    fake.injectFaults({ kind: 'slow', path: '/int/', delayMs: 5_000 });
    const pending = client.history.getVersion(ID, 1);
    setTimeout(() => abort.abort(new Error('shutting down')), 50);
    await expect(pending).rejects.toThrow('shutting down');
  });
});
