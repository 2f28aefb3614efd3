/**
 * One delivery attempt's signal: the dispatcher's (a stop that cannot wait) joined with the
 * target's own timeout, whose abort reason says how long it waited. `clear()` when the attempt
 * ends, so a finished attempt leaves no timer behind.
 */
export function attemptSignal(
  signal: AbortSignal,
  timeoutMs: number,
): { signal: AbortSignal; clear: () => void } {
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
  return { signal: AbortSignal.any([signal, timeout.signal]), clear: () => clearTimeout(timer) };
}
