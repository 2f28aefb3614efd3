import { FloeError, isFloeError } from "../../errors.js";
import { errorNumber, numberOfCode, type WireErrorName } from "../error-codes.js";

/**
 * A refusal only the wire protocol names (INVALID_REPLICATION_FACTOR, UNKNOWN_TOPIC_ID,
 * MISMATCHED_ENDPOINT_TYPE): Floe's error family has no such code because nothing but a Kafka
 * request can cause it.
 */
export class WireRefusal extends Error {
  constructor(
    readonly code: WireErrorName,
    message: string,
  ) {
    super(message);
    this.name = code;
  }
}

/**
 * The per-item error of an admin answer (a topic's, a config resource's): Kafka's code with its
 * message. An unexpected failure answers UNKNOWN_SERVER_ERROR without its internals, as Kafka does.
 */
export function itemError(e: unknown): { errorCode: number; errorMessage: string } {
  if (e instanceof WireRefusal) return { errorCode: numberOfCode(e.code), errorMessage: e.message };
  if (isFloeError(e)) return { errorCode: errorNumber(e), errorMessage: e.message };
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
