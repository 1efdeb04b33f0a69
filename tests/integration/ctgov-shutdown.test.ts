import { getEventListeners } from 'node:events';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { NctId } from '../../src/ctgov/nctId.js';
import { useFakeCtgovClients } from '../support/fakeCtgovClients.js';
import { waitFor } from '../support/waitFor.js';

const ctgov = useFakeCtgovClients();
const setup = ctgov.setup;
const ID = 'NCT00000410' as NctId;
const arrived = (n = 1) => waitFor(() => ctgov.fake.requestCount() >= n, { what: `${n} request(s) at the fake CT.gov` });

describe('shutdown', () => {
  it('close({abort: true}) aborts a request in flight and resolves promptly', async () => {
    const { client } = setup({ timeoutMs: 30_000 });
    ctgov.fake.injectFaults({ kind: 'slow', delayMs: 10_000 });
    const call = client.getStudy(ID);
    await arrived();
    const outcome = expect(call).rejects.toThrow(/closed/);
    const started = performance.now();
    await client.close({ abort: true });
    await outcome;
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it('aborting the signal given at creation aborts requests in flight and backoff waits', async () => {
    const ac = new AbortController();
    const { client, events } = setup({ signal: ac.signal, timeoutMs: 30_000 });
    ctgov.fake.injectFaults([
      { kind: 'slow', path: '/version', delayMs: 10_000 },
      { kind: 'status', path: '/studies/', status: 503, retryAfter: 60 },
    ]);
    const inFlight = client.getVersion();
    const backingOff = client.getStudy(ID);
    await waitFor(() => events.some((e) => e.type === 'retry') && ctgov.fake.requestCount('/version') === 1, { what: 'a retry wait and a request in flight' });
    const outcomes = [expect(inFlight).rejects.toThrow('SIGTERM'), expect(backingOff).rejects.toThrow('SIGTERM')];
    const started = performance.now();
    ac.abort(new Error('SIGTERM'));
    await Promise.all(outcomes);
    expect(performance.now() - started).toBeLessThan(1_000);
    // The aborted request got no answer because we stopped it: not reported as CT.gov not answering.
    expect(events.filter((e) => e.type === 'request' && e.endpoint === '/version')).toEqual([]);
    await expect(client.getVersion()).rejects.toThrow('SIGTERM');
    await client.close();
  });

  it('a per-call signal aborts that call only', async () => {
    const { client } = setup({ timeoutMs: 30_000 });
    ctgov.fake.injectFaults({ kind: 'slow', nth: 1, delayMs: 10_000 });
    const ac = new AbortController();
    const slow = client.getStudy(ID, { signal: ac.signal });
    await arrived();
    const other = client.getVersion();
    const outcome = expect(slow).rejects.toThrow('not needed any more');
    ac.abort(new Error('not needed any more'));
    await outcome;
    await expect(other).resolves.toMatchObject({ apiVersion: '2.0.5' });
  });

  it('close() without abort lets requests in flight finish, then refuses new ones', async () => {
    const { client } = setup();
    ctgov.fake.injectFaults({ kind: 'slow', delayMs: 200 });
    let settled = false;
    const call = client.getStudy(ID).finally(() => (settled = true));
    await arrived();
    await client.close();
    expect(settled).toBe(true);
    await expect(call).resolves.toMatchObject({ kind: 'found' });
    await expect(client.getVersion()).rejects.toThrow(/closed/);
  });

  it('stopping an ID iteration early aborts the batches fetched ahead', async () => {
    const { client } = setup({ idBatchSize: 1, concurrency: 3, timeoutMs: 30_000 });
    ctgov.fake.injectFaults({ kind: 'slow', delayMs: 10_000, nth: [2, 3] });
    const iter = client.getStudiesByIds(['NCT00000410', 'NCT00162175', 'NCT00184067'] as NctId[]);
    const first = await iter.next();
    expect(first.done).toBe(false);
    await arrived(3);
    const started = performance.now();
    await iter.return(undefined);
    await client.close(); // nothing left in flight: returns at once
    expect(performance.now() - started).toBeLessThan(1_000);
  });
});

describe('many calls at once', () => {
  // Node warns (MaxListenersExceededWarning) once a signal has more than ten abort listeners: a
  // listener per call on a signal the calls share would trip it with eleven calls in flight.
  const BURST = 30;
  let warnings: Error[] = [];
  const onWarning = (w: Error) => warnings.push(w);
  beforeEach(() => {
    warnings = [];
    process.on('warning', onWarning);
  });
  afterEach(() => {
    process.off('warning', onWarning);
  });
  // process.emitWarning delivers on the next tick.
  const listenerWarnings = async () => {
    await new Promise((resolve) => setImmediate(resolve));
    return warnings.filter((w) => w.name === 'MaxListenersExceededWarning').map((w) => w.message);
  };

  it('calls sharing a signal hold one abort listener on it, none once done, and its abort ends them all', async () => {
    const { client } = setup({ concurrency: 2, timeoutMs: 30_000 });
    const shared = new AbortController();
    await Promise.all(Array.from({ length: BURST }, () => client.getVersion({ signal: shared.signal })));
    expect(getEventListeners(shared.signal, 'abort')).toHaveLength(0);

    ctgov.fake.injectFaults({ kind: 'slow', delayMs: 10_000 });
    const calls = Array.from({ length: BURST }, () => client.getVersion({ signal: shared.signal }).then(() => 'answered', (e: Error) => e.message));
    await arrived(BURST + 2);
    expect(getEventListeners(shared.signal, 'abort')).toHaveLength(1);
    shared.abort(new Error('not needed any more'));
    expect(new Set(await Promise.all(calls))).toEqual(new Set(['not needed any more']));
    expect(await listenerWarnings()).toEqual([]);
  });

  it('close({abort: true}) ends a burst of calls without piling listeners on the client\'s own signal', async () => {
    const { client } = setup({ concurrency: 2, timeoutMs: 30_000 });
    ctgov.fake.injectFaults({ kind: 'slow', delayMs: 10_000 });
    const calls = Array.from({ length: BURST }, () => client.getVersion().then(() => 'answered', (e: Error) => e.message));
    await arrived(2);
    await client.close({ abort: true });
    expect(new Set(await Promise.all(calls))).toEqual(new Set(['ctgov client closed']));
    expect(await listenerWarnings()).toEqual([]);
  });
});
