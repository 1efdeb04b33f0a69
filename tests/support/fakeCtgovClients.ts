import { afterAll, afterEach, beforeAll } from 'vitest';
import type { CtgovClient } from '../../src/ctgov/client.js';
import { CTGOV_FIXTURE_DIR } from './ctgovFixtures.js';
import { createTestClient } from './ctgovTestClient.js';
import { startFakeCtgov, type FakeCtgov } from './fakeCtgov.js';

export interface FakeCtgovClients {
  /** The fake CT.gov of this file (started in beforeAll). */
  readonly fake: FakeCtgov;
  /** A test client of the fake, closed (aborting) when the file's tests are done. */
  setup(overrides?: Parameters<typeof createTestClient>[1]): ReturnType<typeof createTestClient>;
}

/**
 * Registers the hooks of a test file whose tests drive clients against one fake CT.gov serving
 * the fixtures: the server starts once, each test starts with no faults and empty request counts,
 * and every client made is closed before the server is.
 */
export function useFakeCtgovClients(): FakeCtgovClients {
  let fake: FakeCtgov | undefined;
  const clients: CtgovClient[] = [];
  beforeAll(async () => {
    fake = await startFakeCtgov({ dir: CTGOV_FIXTURE_DIR });
  });
  afterEach(() => {
    fake?.resetCounts();
    fake?.clearFaults();
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close({ abort: true })));
    await fake?.close();
  });
  const suite: FakeCtgovClients = {
    get fake() {
      if (!fake) throw new Error('the fake CT.gov is started in beforeAll');
      return fake;
    },
    setup(overrides = {}) {
      const made = createTestClient(suite.fake.url, overrides);
      clients.push(made.client);
      return made;
    },
  };
  return suite;
}
