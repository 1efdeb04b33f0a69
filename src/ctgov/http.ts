import pLimit from 'p-limit';
import type { Logger } from 'pino';
import { Agent } from 'undici';
import { FetchError } from '../errors.js';
import type { ClientEvent, Endpoint } from './clientEvent.js';
import { classifyResponse, classifyThrown, type Outcome } from './outcome.js';
import { createRateLimiter } from './rateLimiter.js';
import { sendOnce } from './sendOnce.js';
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

export interface GetOptions<T> {
  endpoint: Endpoint;
  /** Checks a 200 body; throwing means the body is garbage and the request is retried. */
  parse: (json: unknown) => T;
  /** Statuses handed back to the caller as text instead of being treated as failures. */
  passStatuses?: readonly number[];
  signal?: AbortSignal;
}

export type HttpResult<T> =
  | { status: 200; value: T; url: string }
  | { status: number; text: string; location: string | undefined; url: string };

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
  const forward = () => lifetime.abort(opts.signal?.reason);
  if (opts.signal?.aborted) forward();
  else opts.signal?.addEventListener('abort', forward, { once: true });
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
        emit({ type: 'request', endpoint: o.endpoint, status: undefined, durationMs: performance.now() - started });
        if (signal.aborted) throw signal.reason;
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
        opts.signal?.removeEventListener('abort', forward);
        await (lifetime.signal.aborted ? agent.destroy() : agent.close());
      })();
      return closed;
    },
  };
}

/** The controllers linked to a signal, and the one listener that aborts them. */
const links = new WeakMap<AbortSignal, { targets: Set<AbortController>; onAbort(): void }>();

/**
 * Aborts `target` when `source` aborts; returns the unlink function. Links from one source share
 * a single listener on it: every call in flight (queued ones included) is linked to the client's
 * signal and often to its caller's, and a listener each would pile up past Node's limit of ten.
 */
function linkAbort(source: AbortSignal, target: AbortController): () => void {
  if (source.aborted) {
    target.abort(source.reason);
    return () => {};
  }
  let link = links.get(source);
  if (!link) {
    const targets = new Set<AbortController>();
    const onAbort = () => {
      links.delete(source);
      for (const t of targets) t.abort(source.reason);
    };
    link = { targets, onAbort };
    links.set(source, link);
    source.addEventListener('abort', onAbort, { once: true });
  }
  const { targets, onAbort } = link;
  targets.add(target);
  return () => {
    if (!targets.delete(target) || targets.size > 0) return;
    source.removeEventListener('abort', onAbort);
    links.delete(source);
  };
}
