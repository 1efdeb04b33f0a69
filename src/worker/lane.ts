export interface Lane {
  /** Runs `fn` after every function given before it has settled. */
  run<T>(fn: () => Promise<T>): Promise<T>;
}

/**
 * A FIFO of async functions, one at a time. The worker's CT.gov runs go through one lane so
 * that the process never sends more than the configured rate, whatever its jobs and queue do at
 * once: each run has its own client (own retry budget and request count), hence its own limiter.
 */
export function createLane(): Lane {
  let tail: Promise<unknown> = Promise.resolve();
  return {
    run(fn) {
      const result = tail.then(fn);
      tail = result.catch(() => undefined);
      return result;
    },
  };
}
