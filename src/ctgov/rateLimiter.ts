/**
 * A sliding-window limiter: at most `limit` requests in any window of `windowMs`.
 *
 * A slot counts from the moment it is granted until `windowMs` after it is released (the response
 * has been read or the attempt failed), not after it was granted. Every instant at which the
 * server can see a request lies between those two, so however long requests take, the server can
 * never observe more than `limit` arrivals in one window. (A token bucket would allow 2× the limit
 * across a window boundary, and counting from grant time would let network jitter do the same.)
 *
 * When the server throttles anyway (429), the configured rate is evidently too high for now:
 * throttle() halves the rate (at most once per window) and it climbs back by a tenth of the
 * configured limit per window without a 429. Without this, requests released together after a
 * Retry-After would all be refused again and the unlucky ones would run out of attempts.
 */
export interface RateLimiterOptions {
  limit: number;
  /** Default 60 000 (per minute); tests shrink it. */
  windowMs?: number;
  now?: () => number;
}

export interface RateSlot {
  /** How long acquire() waited, in ms (0 when a slot was free). */
  readonly waitedMs: number;
  /** Marks the request as finished; the slot frees `windowMs` later. Idempotent. */
  release(): void;
}

export interface RateLimiter {
  readonly limit: number;
  readonly windowMs: number;
  /** The limit in force now: `limit`, or less after throttle(). */
  readonly currentLimit: number;
  acquire(signal?: AbortSignal): Promise<RateSlot>;
  /** Grants nothing for `ms` (the server said Retry-After: every request sent sooner would fail). */
  pauseFor(ms: number): void;
  /** The server refused a request for its rate: slow down. */
  throttle(): void;
}

interface Waiter {
  start: number;
  grant: (slot: RateSlot) => void;
  detach: () => void;
}

export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  const { limit, windowMs = 60_000, now = () => performance.now() } = options;
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`rate limit must be a positive integer, got ${limit}`);
  if (!(windowMs > 0)) throw new RangeError(`rate window must be positive, got ${windowMs}`);

  const released: number[] = []; // release times, ascending (now() is monotonic)
  const waiters: Waiter[] = [];
  let inFlight = 0;
  let pausedUntil = 0;
  let timer: NodeJS.Timeout | undefined;
  let current = limit;
  let lastChange = -Infinity;
  const step = Math.max(1, Math.ceil(limit / 10));

  function recover(t: number): void {
    if (current >= limit) return;
    const windows = Math.floor((t - lastChange) / windowMs);
    if (windows < 1) return;
    current = Math.min(limit, current + windows * step);
    lastChange += windows * windowMs;
  }

  function newSlot(waitedMs: number): RateSlot {
    inFlight++;
    let done = false;
    return {
      waitedMs,
      release() {
        if (done) return;
        done = true;
        inFlight--;
        released.push(now());
        pump();
      },
    };
  }

  function hasRoom(t: number): boolean {
    while (released.length > 0 && released[0]! <= t - windowMs) released.shift();
    recover(t);
    return t >= pausedUntil && inFlight + released.length < current;
  }

  function pump(): void {
    const t = now();
    while (waiters.length > 0 && hasRoom(t)) {
      const waiter = waiters.shift()!;
      waiter.detach();
      waiter.grant(newSlot(t - waiter.start));
    }
    schedule(t);
  }

  function schedule(t: number): void {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (waiters.length === 0) return;
    // With every slot in flight there is nothing to time: release() pumps.
    const wakeAt = t < pausedUntil ? pausedUntil : released.length > 0 ? released[0]! + windowMs : undefined;
    if (wakeAt === undefined) return;
    timer = setTimeout(pump, Math.max(1, Math.ceil(wakeAt - t)));
  }

  return {
    limit,
    windowMs,
    get currentLimit() {
      recover(now());
      return current;
    },
    acquire(signal) {
      if (signal?.aborted) return Promise.reject(signal.reason);
      // Granted at once means no wait at all (0), however slow the machine is right now.
      if (waiters.length === 0 && hasRoom(now())) return Promise.resolve(newSlot(0));
      return new Promise<RateSlot>((resolve, reject) => {
        const onAbort = () => {
          const i = waiters.indexOf(waiter);
          if (i >= 0) waiters.splice(i, 1);
          schedule(now());
          reject(signal?.reason);
        };
        const waiter: Waiter = {
          start: now(),
          grant: resolve,
          detach: () => signal?.removeEventListener('abort', onAbort),
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        waiters.push(waiter);
        pump();
      });
    },
    pauseFor(ms) {
      const until = now() + ms;
      if (until <= pausedUntil) return;
      pausedUntil = until;
      pump();
    },
    throttle() {
      const t = now();
      if (t - lastChange < windowMs) return;
      current = Math.max(1, Math.floor(current / 2));
      lastChange = t;
    },
  };
}
