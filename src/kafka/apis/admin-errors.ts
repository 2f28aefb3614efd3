import { FloeError, isFloeError } from "../../errors.js";
import { errorNumber, WireRefusal } from "../error-codes.js";

/**
 * The per-item error of an admin answer (a topic's, a config resource's): Kafka's code with its
 * message. An unexpected failure answers UNKNOWN_SERVER_ERROR without its internals, as Kafka does.
 */
export function itemError(e: unknown): { errorCode: number; errorMessage: string } {
  if (isFloeError(e) || e instanceof WireRefusal)
    return { errorCode: errorNumber(e), errorMessage: e.message };
  return {
    errorCode: errorNumber(e),
    errorMessage: "The server experienced an unexpected error when processing the request.",
  };
}

export const NO_ERROR = { errorCode: 0, errorMessage: null } as const;

export function invalidRequest(message: string): FloeError {
  return new FloeError("INVALID_REQUEST", message);
}

/** The keys occurring more than once: Kafka refuses every such item, not just the repeats. */
export function duplicated<T>(items: readonly T[], key: (item: T) => string): Set<string> {
  const seen = new Set<string>();
  const twice = new Set<string>();
  for (const item of items) {
    const k = key(item);
    if (seen.has(k)) twice.add(k);
    seen.add(k);
  }
  return twice;
}
