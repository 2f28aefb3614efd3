import { FloeError } from "../errors.js";
import type { MemberProtocol } from "./types.js";

/** The errors several group operations answer with, worded once. */

export function unknownMember(groupId: string, memberId: string): FloeError {
  return new FloeError(
    "UNKNOWN_MEMBER_ID",
    `Member ${memberId} is not a member of group '${groupId}' (never joined, left, or its session expired); rejoin with epoch 0.`,
  );
}

export function groupNotFound(groupId: string): FloeError {
  return new FloeError("GROUP_ID_NOT_FOUND", `Consumer group '${groupId}' does not exist.`);
}

/** kafka-consumer-groups' wording: resets and deletes need an inactive group. */
export function nonEmptyGroup(groupId: string, members: number, action: string): FloeError {
  return new FloeError(
    "NON_EMPTY_GROUP",
    `Cannot ${action} group '${groupId}': it has ${members} active member(s). Stop its consumers (or wait for their sessions to expire) first.`,
  );
}

/**
 * A commit refused because the member's epoch moved on or the partition is no longer its own
 * (STALE_MEMBER_EPOCH). It names the protocol the coordinator knows the member by, read from the
 * member item the commit checks anyway, so a transport can answer in that protocol's terms: Kafka
 * tells a classic member ILLEGAL_GENERATION, on which it rejoins.
 */
export class StaleMemberEpochError extends FloeError {
  constructor(
    message: string,
    readonly memberProtocol: MemberProtocol,
  ) {
    super("STALE_MEMBER_EPOCH", message);
  }
}
