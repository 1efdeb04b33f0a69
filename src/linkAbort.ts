/** The controllers linked to a signal, and the one listener that aborts them. */
const links = new WeakMap<AbortSignal, { targets: Set<AbortController>; onAbort(): void }>();

/**
 * Aborts `target` when `source` aborts (with its reason); returns the function that unlinks them.
 * Links from one source share a single listener on it: every CT.gov call in flight (queued ones
 * included) is linked to the client's signal and often to its caller's, and a listener each would
 * pile up past Node's limit of ten.
 */
export function linkAbort(source: AbortSignal, target: AbortController): () => void {
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
