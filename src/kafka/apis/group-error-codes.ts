import { isFloeError } from "../../errors.js";
import { StaleMemberEpochError } from "../../groups/group-errors.js";
import { ERROR_NUMBERS, errorNumber } from "../error-codes.js";

/**
 * A group operation's failure as the code a client of the group APIs acts on.
 *
 * Retriable failures (the group changing too fast to settle, a storage hiccup) answer
 * COORDINATOR_LOAD_IN_PROGRESS, which every client retries against the same coordinator; Kafka's
 * CONCURRENT_TRANSACTIONS or KAFKA_STORAGE_ERROR mean something else to a group client.
 *
 * `classic`: the caller speaks the classic protocol (an OffsetCommit below version 9), where a
 * stale or fenced member epoch is a generation the client no longer holds: ILLEGAL_GENERATION, on
 * which it rejoins, as Kafka answers its classic members. A commit refusal naming a member the
 * coordinator knows as classic is answered the same way whatever the caller says, since a classic
 * client takes STALE_MEMBER_EPOCH as fatal.
 */
export function groupErrorCode(error: unknown, options: { classic?: boolean } = {}): number {
  if (isFloeError(error)) {
    if (error.retriable) return ERROR_NUMBERS.COORDINATOR_LOAD_IN_PROGRESS;
    const classic =
      options.classic || (error instanceof StaleMemberEpochError && error.memberProtocol === "classic");
    if (classic && (error.code === "STALE_MEMBER_EPOCH" || error.code === "FENCED_MEMBER_EPOCH")) {
      return ERROR_NUMBERS.ILLEGAL_GENERATION;
    }
  }
  return errorNumber(error);
}

/** Thrown for an unknown topic or one Floe refuses to name (both are simply unknown to a group client). */
export function isUnknownTopic(error: unknown): boolean {
  return (
    isFloeError(error) &&
    (error.code === "UNKNOWN_TOPIC_OR_PARTITION" || error.code === "INVALID_TOPIC_EXCEPTION")
  );
}
