import pLimit from 'p-limit';
import type { Logger } from 'pino';
import { Agent } from 'undici';
import { FetchError } from '../errors.js';
import type { ClientEvent } from './clientEvent.js';
import type { GetOptions, HttpResult } from './getOptions.js';
import { classifyResponse, classifyThrown, type Outcome } from './outcome.js';
import { createRateLimiter } from './rateLimiter.js';
import { sendOnce } from './sendOnce.js';
import { linkAbort } from '../linkAbort.js';
import { backoffDelay, RetryBudget, sleep, type RetryPolicy } from './retry.js';

export interface HttpOptions {
  rateLimitPerMinute: number;
  /** The limiter's window; 60 000 unless a test shrinks time. */
  rateWindowMs?: number;
  concurrency: number;
  timeoutMs: number;
  retry: RetryPolicy;
  userAgent: string;
  logger: Logger;
  signal?: AbortSignal;
  onEvent?: (e: ClientEvent) => void;
  /** Jitter source; tests pass a seeded one. */
  random?: () => number;
}

export interface HttpStats {
  requests: number;
  retries: number;
  retryBudgetLeft: number;
}

export interface CtgovHttp {
  get<T>(url: URL, options: GetOptions<T>): Promise<HttpResult<T>>;
  stats(): HttpStats;
  /** Waits for requests in flight (aborting them first if asked) and closes the connections. */
  close(options?: { abort?: boolean }): Promise<void>;
}

export function createHttp(opts: HttpOptions): CtgovHttp {
  const log = opts.logger;
  const random = opts.random ?? Math.random;
  const limiter = createRateLimiter({ limit: opts.rateLimitPerMinute, windowMs: opts.rateWindowMs });
  const limit = pLimit(opts.concurrency);
  const budget = new RetryBudget(opts.retry.runBudget);
  const agent = new Agent({
    connections: opts.concurrency,
    keepAliveTimeout: 10_000,
    keepAliveMaxTimeout: 60_000,
  });
  const headers = { 'user-agent': opts.userAgent, accept: 'application/json', 'accept-encoding': 'gzip' };
  const lifetime = new AbortController();
  const unlinkOwner = opts.signal ? linkAbort(opts.signal, lifetime) : () => {};
  const inFlight = new Set<Promise<unknown>>();
  let closed: Promise<void> | undefined;
  let requests = 0;
  let retries = 0;

  const emit = (e: ClientEvent) => opts.onEvent?.(e);

  async function attempt<T>(url: URL, o: GetOptions<T>, signal: AbortSignal): Promise<Outcome<T>> {
    return limit(async () => {
      const slot = await limiter.acquire(signal);
      if (slot.waitedMs > 0) {
        emit({ type: 'rateLimitWait', ms: slot.waitedMs, source: 'limiter' });
        // Short pacing waits are the normal state at ~50/min; only long ones are news.
        log[slot.waitedMs >= 1000 ? 'info' : 'debug']({ waitMs: Math.round(slot.waitedMs), source: 'limiter' }, 'rateLimitWait');
      }
      const timeout = new AbortController();
      const unlink = linkAbort(signal, timeout);
      const timer = setTimeout(() => timeout.abort(new Error(`timeout after ${opts.timeoutMs} ms`)), opts.timeoutMs);
      const started = performance.now();
      requests++;
      try {
        const res = await sendOnce(agent, url, headers, timeout.signal);
        emit({ type: 'request', endpoint: o.endpoint, status: res.status, durationMs: performance.now() - started });
        return classifyResponse(res, url, o);
      } catch (err) {
        // Stopped by us (shutdown, a caller that no longer needs it): not an outcome of CT.gov's.
        if (signal.aborted) throw signal.reason;
        emit({ type: 'request', endpoint: o.endpoint, status: undefined, durationMs: performance.now() - started });
        if (timeout.signal.aborted) return { kind: 'retry', reason: 'timeout', detail: `no complete answer within ${opts.timeoutMs} ms` };
        return classifyThrown(err, url);
      } finally {
        clearTimeout(timer);
        unlink();
        slot.release();
      }
    });
  }

  async function getWithRetries<T>(url: URL, o: GetOptions<T>, signal: AbortSignal): Promise<HttpResult<T>> {
    for (let n = 1; ; n++) {
      const outcome = await attempt(url, o, signal);
      if (outcome.kind === 'done') return outcome.result;
      if (outcome.kind === 'fail') throw outcome.error;
      const why = n >= opts.retry.maxAttempts ? `${n} attempt(s)` : budget.take() ? undefined : 'retry budget exhausted';
      if (why) {
        throw new FetchError(
          `GET ${url.href} failed (${why}): ${outcome.detail}`,
          url.href,
          outcome.status,
          true,
          outcome.bodyExcerpt,
          { cause: outcome.cause },
        );
      }
      retries++;
      const delayMs = outcome.retryAfterMs ?? backoffDelay(n, opts.retry, random);
      const fields = { url: url.href, reason: outcome.reason, status: outcome.status, attempt: n, delayMs };
      // Told to wait, or throttled: every other request would be refused too.
      if (outcome.retryAfterMs !== undefined || outcome.reason === 'rateLimited') limiter.pauseFor(delayMs);
      if (outcome.reason === 'rateLimited') {
        limiter.throttle();
        emit({ type: 'rateLimitWait', ms: delayMs, source: 'server' });
        log.info({ ...fields, source: 'server', limit: limiter.currentLimit }, 'rateLimitWait');
      } else {
        log.warn({ ...fields, detail: outcome.detail }, 'retry');
      }
      emit({ type: 'retry', endpoint: o.endpoint, reason: outcome.reason, attempt: n, delayMs });
      await sleep(delayMs, signal);
    }
  }

  return {
    get(url, o) {
      if (closed) return Promise.reject(new Error('ctgov client is closed'));
      // Per call rather than AbortSignal.any: listeners on the long-lived signal are removed when done.
      const call = new AbortController();
      const unlinkLifetime = linkAbort(lifetime.signal, call);
      const unlinkCaller = o.signal ? linkAbort(o.signal, call) : () => {};
      const p = getWithRetries(url, o, call.signal);
      inFlight.add(p);
      const forget = () => {
        inFlight.delete(p);
        unlinkLifetime();
        unlinkCaller();
      };
      p.then(forget, forget);
      return p;
    },
    stats: () => ({ requests, retries, retryBudgetLeft: budget.remaining }),
    close({ abort = false } = {}) {
      closed ??= (async () => {
        if (abort) lifetime.abort(new Error('ctgov client closed'));
        await Promise.allSettled([...inFlight]);
        unlinkOwner();
        await (lifetime.signal.aborted ? agent.destroy() : agent.close());
      })();
      return closed;
    },
  };
}
