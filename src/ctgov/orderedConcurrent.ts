import { linkAbort } from '../linkAbort.js';

/**
 * Maps items through `fn` with at most `limit` calls running ahead of the consumer, yielding
 * results in input order. When the consumer stops early or a call fails, the calls still
 * running are aborted through the signal they were given.
 */
export async function* orderedConcurrent<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, signal: AbortSignal) => Promise<R>,
  signal?: AbortSignal,
): AsyncGenerator<R> {
  const stop = new AbortController();
  const unlink = signal ? linkAbort(signal, stop) : () => {};
  const pending: Promise<R>[] = [];
  let next = 0;
  const start = () => {
    const p = fn(items[next++]!, stop.signal);
    p.catch(() => {}); // observed when its turn comes; never an unhandled rejection meanwhile
    pending.push(p);
  };
  try {
    while (pending.length < Math.max(1, limit) && next < items.length) start();
    while (pending.length > 0) {
      const result = await pending.shift()!;
      if (next < items.length) start();
      yield result;
    }
  } finally {
    stop.abort(new Error('iteration ended'));
    unlink();
  }
}
