/** Aborts `target` when `source` aborts (with its reason); returns the function that unlinks them. */
export function linkAbort(source: AbortSignal, target: AbortController): () => void {
  const onAbort = () => target.abort(source.reason);
  if (source.aborted) onAbort();
  else source.addEventListener('abort', onAbort, { once: true });
  return () => source.removeEventListener('abort', onAbort);
}
