import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createCtgovState } from '../../src/worker/ctgovState.js';

function recordingLog() {
  const lines: Array<{ level: string; msg: string }> = [];
  const at = (level: string) => (_obj: unknown, msg: string) => void lines.push({ level, msg });
  return { lines, log: { info: at('info'), error: at('error') } as never };
}

describe('CT.gov state', () => {
  it('goes unknown → failing (since the first failure) → ok with the last success; logs the outage and the recovery once each', async () => {
    const { lines, log } = recordingLog();
    const registry = new Registry();
    let now = new Date('2026-11-20T10:00:00Z');
    const state = createCtgovState('http://x/api/v2', log, registry, () => now);
    expect(state.report()).toEqual({ status: 'unknown' });

    state.onClientEvent({ type: 'request', endpoint: '/studies', status: undefined, durationMs: 1 });
    now = new Date('2026-11-20T10:05:00Z');
    state.onClientEvent({ type: 'request', endpoint: '/studies', status: 503, durationMs: 1 });
    expect(state.report()).toEqual({ status: 'failing', failingSince: '2026-11-20T10:00:00.000Z', lastError: 'HTTP 503 from /studies' });
    expect(await registry.getSingleMetricAsString('ctgov_sync_ctgov_up')).toMatch(/^ctgov_sync_ctgov_up 0$/m);

    now = new Date('2026-11-20T10:06:00Z');
    // A 404 is an answer: CT.gov is there.
    state.onClientEvent({ type: 'request', endpoint: '/studies/{id}', status: 404, durationMs: 1 });
    expect(state.report()).toEqual({ status: 'ok', lastSuccess: '2026-11-20T10:06:00.000Z' });
    expect(await registry.getSingleMetricAsString('ctgov_sync_ctgov_up')).toMatch(/^ctgov_sync_ctgov_up 1$/m);

    now = new Date('2026-11-20T11:00:00Z');
    state.onClientEvent({ type: 'request', endpoint: '/studies', status: 429, durationMs: 1 });
    expect(state.report()).toMatchObject({ status: 'failing', failingSince: '2026-11-20T11:00:00.000Z', lastSuccess: '2026-11-20T10:06:00.000Z' });
    expect(lines.map((l) => l.level)).toEqual(['error', 'info', 'error']);
    expect(lines[0]!.msg).toMatch(/^CT\.gov is not answering at http:\/\/x\/api\/v2 \(CTGOV_BASE_URL\)/);
  });
});
