/*
 * Programmable misbehaviour for the fake CT.gov. A rule fires on chosen requests among those it
 * matches (by ordinal, every k-th, or with a probability from a seeded RNG so runs repeat).
 */

export type FaultKind =
  | 'status' // an error status (default 503) with a text/plain body, optional Retry-After
  | 'slow' // answer after delayMs (combines with the others)
  | 'slowBody' // headers and half the body at once, the rest after delayMs
  | 'reset' // destroy the connection without answering
  | 'truncated' // 200 with the first half of the JSON body
  | 'html' // 200 with an HTML error page, as proxies do
  | 'invalidRecord'; // the first study of the answer broken (see mode)

export interface FaultRule {
  kind: FaultKind;
  /** Only requests whose API path starts with this (`/studies`, `/studies/`, `/version`). */
  path?: string;
  /** 1-based ordinals among matching requests, counted from when the rule was added. */
  nth?: number | number[];
  /** Every k-th matching request (k, 2k, …). */
  every?: number;
  /** Each matching request with this chance (seeded). */
  probability?: number;
  /** Fires at most this many times. */
  times?: number;
  status?: number;
  retryAfter?: string | number;
  delayMs?: number;
  /** invalidRecord: drop the nctId (default) or keep it and break field types. */
  mode?: 'missingNctId' | 'wrongTypes';
  /** invalidRecord: serve what this returns for the first study instead (overrides `mode`). */
  transform?: (raw: Record<string, unknown>) => unknown;
}

interface ActiveRule {
  rule: FaultRule;
  seen: number;
  fired: number;
}

/** mulberry32: small, fast, good enough for test schedules. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class FaultPlan {
  #rules: ActiveRule[] = [];
  #random: () => number;

  constructor(seed = 1) {
    this.#random = seededRandom(seed);
  }

  add(rules: FaultRule | FaultRule[], seed?: number): void {
    if (seed !== undefined) this.#random = seededRandom(seed);
    for (const rule of Array.isArray(rules) ? rules : [rules]) this.#rules.push({ rule, seen: 0, fired: 0 });
  }

  clear(): void {
    this.#rules = [];
  }

  /** The rules firing for this request (each matching rule counts it). */
  pick(path: string): FaultRule[] {
    const firing: FaultRule[] = [];
    for (const active of this.#rules) {
      const { rule } = active;
      if (rule.path !== undefined && !path.startsWith(rule.path)) continue;
      active.seen++;
      if (rule.times !== undefined && active.fired >= rule.times) continue;
      if (!this.#fires(rule, active.seen)) continue;
      active.fired++;
      firing.push(rule);
    }
    return firing;
  }

  #fires(rule: FaultRule, n: number): boolean {
    if (rule.nth !== undefined) return (Array.isArray(rule.nth) ? rule.nth : [rule.nth]).includes(n);
    if (rule.every !== undefined) return n % rule.every === 0;
    if (rule.probability !== undefined) return this.#random() < rule.probability;
    return true;
  }
}

/** Breaks a study the way a bad upstream record would. */
export function breakRecord(raw: Record<string, unknown>, mode: FaultRule['mode'] = 'missingNctId'): unknown {
  const ps = (raw.protocolSection ?? {}) as Record<string, Record<string, unknown> | undefined>;
  if (mode === 'missingNctId') {
    if (ps.identificationModule) delete ps.identificationModule.nctId;
    return raw;
  }
  ps.statusModule = { ...ps.statusModule, overallStatus: 42 };
  ps.conditionsModule = { ...ps.conditionsModule, conditions: [{ not: 'a string' }] };
  return raw;
}

/**
 * CT.gov-side throttling: at most `limit` accepted requests in any window; the rest get 429
 * with a Retry-After saying when the oldest accepted one leaves the window.
 */
export class ServerRateLimit {
  readonly #arrivals: number[] = [];
  constructor(
    readonly limit: number,
    readonly windowMs: number,
    readonly fractionalRetryAfter: boolean,
  ) {}

  /** Undefined when the request may pass (and is counted), else the Retry-After value. */
  check(now: number): string | undefined {
    while (this.#arrivals.length > 0 && this.#arrivals[0]! <= now - this.windowMs) this.#arrivals.shift();
    if (this.#arrivals.length < this.limit) {
      this.#arrivals.push(now);
      return undefined;
    }
    const waitMs = this.#arrivals[0]! + this.windowMs - now;
    return this.fractionalRetryAfter ? (waitMs / 1000).toFixed(3) : String(Math.max(1, Math.ceil(waitMs / 1000)));
  }
}
