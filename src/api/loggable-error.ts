/**
 * An error as a plain object for the structured log: name, code, message, stack and the cause
 * chain. FloeError's toJSON (the public shape) would otherwise hide the stack and the cause when
 * the logger serialises it.
 */
export function loggableError(error: unknown, depth = 0): unknown {
  if (!(error instanceof Error) || depth > 4) return error instanceof Error ? String(error) : error;
  const { code, retriable, fault } = error as Error & {
    code?: unknown;
    retriable?: unknown;
    fault?: unknown;
  };
  return {
    name: error.name,
    ...(code === undefined ? {} : { code, retriable, fault }),
    message: error.message,
    stack: error.stack,
    ...(error.cause === undefined ? {} : { cause: loggableError(error.cause, depth + 1) }),
  };
}
