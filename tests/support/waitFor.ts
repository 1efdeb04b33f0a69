export interface WaitOptions {
  /** Give up after this long (default 10 s). */
  timeoutMs?: number;
  /** Pause between two probes (default 25 ms); a probe that awaits I/O paces itself as well. */
  everyMs?: number;
  /** What is awaited, for the timeout message. */
  what?: string;
}

/**
 * Waits for a condition driven by real I/O (a request arriving, a row committed, a log line),
 * polling `probe` until it returns something other than undefined, null or false, and resolves
 * with that value. Rejects once `timeoutMs` has passed, so a test fails instead of hanging.
 * A probe that throws ends the wait with its error: a broken probe is not "not yet".
 */
export async function waitFor<T>(probe: () => T | Promise<T>, options: WaitOptions = {}): Promise<Exclude<T, undefined | null | false>> {
  const { timeoutMs = 10_000, everyMs = 25, what = 'the condition' } = options;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== null && value !== false) return value as Exclude<T, undefined | null | false>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
