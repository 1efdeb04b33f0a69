import { describe, expect, it } from 'vitest';
import type { ClientEvent } from '../../src/ctgov/client.js';
import type { NctId } from '../../src/ctgov/nctId.js';
import { peekNctId } from '../../src/ctgov/schema.js';
import { FetchError, StudyValidationError } from '../../src/errors.js';
import type { LogLine } from '../support/ctgovTestClient.js';
import type { FaultRule } from '../support/fakeCtgov.js';
import { useFakeCtgovClients } from '../support/fakeCtgovClients.js';
import { waitFor } from '../support/waitFor.js';

const ctgov = useFakeCtgovClients();
const setup = ctgov.setup;
const ID = 'NCT00000410' as NctId;
const retries = (events: ClientEvent[]) => events.filter((e) => e.type === 'retry');

describe('retries each kind of transient failure once and then succeeds', () => {
  // Only the timeout cases get a short timeout: a loaded machine must not turn others into timeouts.
  const cases: [string, FaultRule, string, number?][] = [
    ['503', { kind: 'status', status: 503 }, 'serverError'],
    ['500', { kind: 'status', status: 500 }, 'serverError'],
    ['429 with Retry-After', { kind: 'status', status: 429, retryAfter: '0.05' }, 'rateLimited'],
    ['connection reset', { kind: 'reset' }, 'connection'],
    ['truncated JSON', { kind: 'truncated' }, 'badBody'],
    ['HTML page with 200', { kind: 'html' }, 'badBody'],
    ['no answer within the timeout', { kind: 'slow', delayMs: 30_000 }, 'timeout', 1_000],
    ['body stalling past the timeout', { kind: 'slowBody', delayMs: 30_000 }, 'timeout', 1_000],
  ];
  it.each(cases)('%s', async (_name, rule, reason, timeoutMs = 10_000) => {
    const { client, events } = setup({ timeoutMs });
    ctgov.fake.injectFaults({ ...rule, nth: 1 });
    const result = await client.getStudy(ID);
    expect(result.kind).toBe('found');
    expect(ctgov.fake.requests.map((r) => r.fault)).toEqual([rule.kind, undefined]);
    expect(retries(events)).toEqual([expect.objectContaining({ endpoint: '/studies/{id}', reason, attempt: 1 })]);
    expect(client.stats()).toMatchObject({ requests: 2, retries: 1, retryBudgetLeft: 99 });
  });

  it('a truncated page in the middle of a search', async () => {
    const { client } = setup();
    ctgov.fake.injectFaults({ kind: 'truncated', path: '/studies', nth: 2 });
    const seen: unknown[] = [];
    for await (const page of client.searchStudies({ lastUpdateFrom: '1990-01-01', pageSize: 50 })) seen.push(...page.studies);
    expect(new Set(seen.map(peekNctId)).size).toBe(172);
    expect(ctgov.fake.requests.map((r) => r.fault)).toEqual([undefined, 'truncated', undefined, undefined, undefined]);
  });

  it('an HTML page from /version', async () => {
    const { client } = setup();
    ctgov.fake.injectFaults({ kind: 'html', nth: [1, 2] });
    expect((await client.getVersion()).apiVersion).toBe('2.0.5');
    expect(ctgov.fake.requestCount('/version')).toBe(3);
  });
});

describe('giving up', () => {
  it('throws a FetchError naming URL, status and a body excerpt after maxAttempts', async () => {
    const { client } = setup({ retry: { maxAttempts: 4 } });
    ctgov.fake.injectFaults({ kind: 'status', status: 503 });
    const err = (await client.getStudy(ID).catch((e: unknown) => e)) as FetchError;
    expect(err).toBeInstanceOf(FetchError);
    expect(err).toMatchObject({ status: 503, retryable: true, bodyExcerpt: 'upstream error 503' });
    expect(err.url).toBe(`${ctgov.fake.url}/studies/${ID}`);
    expect(err.message).toContain(err.url);
    expect(err.message).toContain('4 attempt(s)');
    expect(ctgov.fake.requestCount()).toBe(4);
  });

  it('names the connection error when no response ever came', async () => {
    const { client } = setup({ retry: { maxAttempts: 2 } });
    ctgov.fake.injectFaults({ kind: 'reset' });
    const err = (await client.getStudy(ID).catch((e: unknown) => e)) as FetchError;
    expect(err).toBeInstanceOf(FetchError);
    expect(err.status).toBeUndefined();
    expect(err.message).toMatch(/UND_ERR_SOCKET|ECONNRESET/);
  });

  it('stops retrying when the run\'s retry budget is spent', async () => {
    const { client } = setup({ retry: { maxAttempts: 10, runBudget: 2 } });
    ctgov.fake.injectFaults({ kind: 'status', status: 503 });
    await expect(client.getStudy(ID)).rejects.toThrow(/retry budget exhausted/);
    expect(ctgov.fake.requestCount()).toBe(3);
    await expect(client.getVersion()).rejects.toThrow(/retry budget exhausted/);
    expect(ctgov.fake.requestCount()).toBe(4);
    expect(client.stats().retryBudgetLeft).toBe(0);
  });

  it('does not retry other client errors', async () => {
    const { client } = setup();
    ctgov.fake.injectFaults({ kind: 'status', status: 403 });
    await expect(client.getStudy(ID)).rejects.toMatchObject({ status: 403, retryable: false });
    expect(ctgov.fake.requestCount()).toBe(1);
  });
});

describe('Retry-After', () => {
  it('waits as long as CT.gov asks before retrying', async () => {
    const { client } = setup();
    ctgov.fake.injectFaults({ kind: 'status', status: 429, retryAfter: '0.3', nth: 1 });
    await client.getStudy(ID);
    const [first, second] = ctgov.fake.requests;
    expect(second!.time - first!.time).toBeGreaterThanOrEqual(295);
  });

  it('holds back every other request of the client too', async () => {
    const { client, events } = setup();
    ctgov.fake.injectFaults({ kind: 'status', status: 429, retryAfter: '0.3', nth: 1 });
    const a = client.getStudy(ID);
    await waitFor(() => events.some((e) => e.type === 'retry'), { what: 'the retry' });
    await client.getVersion();
    await a;
    const limited = ctgov.fake.requests.find((r) => r.status === 429)!;
    const version = ctgov.fake.requests.find((r) => r.path === '/version')!;
    expect(version.time - limited.time).toBeGreaterThanOrEqual(295);
  });

  it('logs CT.gov throttling as info rateLimitWait and outages as warn retry', async () => {
    const { client, lines } = setup();
    ctgov.fake.injectFaults([
      { kind: 'status', status: 429, retryAfter: '0.01', nth: 1 },
      { kind: 'status', status: 503, nth: 2 },
    ]);
    await client.getStudy(ID);
    const pick = (l: LogLine) => [l.level, l.msg, l.source ?? l.reason];
    const notable = lines.filter((l) => l.level >= 30 && (l.msg === 'rateLimitWait' || l.msg === 'retry'));
    expect(notable.map(pick)).toEqual([
      [30, 'rateLimitWait', 'server'],
      [40, 'retry', 'serverError'],
    ]);
  });
});

describe('invalid records', () => {
  it('getStudy throws StudyValidationError naming the study, without retrying', async () => {
    const { client } = setup();
    ctgov.fake.injectFaults({ kind: 'invalidRecord', nth: 1, mode: 'wrongTypes' });
    const err = (await client.getStudy(ID).catch((e: unknown) => e)) as StudyValidationError;
    expect(err).toBeInstanceOf(StudyValidationError);
    expect(err.nctId).toBe(ID);
    expect(err.issues.map((i) => i.path)).toContain('protocolSection.statusModule.overallStatus');
    expect(ctgov.fake.requestCount()).toBe(1);
  });
});
