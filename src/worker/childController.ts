/** A controller that aborts when `parent` does (with its reason); `unlink` drops the listener. */
export function childController(parent: AbortSignal): { controller: AbortController; unlink(): void } {
  const controller = new AbortController();
  const forward = () => controller.abort(parent.reason);
  if (parent.aborted) forward();
  else parent.addEventListener('abort', forward, { once: true });
  return { controller, unlink: () => parent.removeEventListener('abort', forward) };
}
