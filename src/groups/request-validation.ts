import { FloeError } from "../errors.js";
import { compileTopicRegex } from "./topic-regex.js";
import type { CommitRequest, CommittedOffset, HeartbeatRequest, ResetRequest, ResetTarget } from "./types.js";

/**
 * Shape checks on what callers send, done here rather than in the HTTP layer so every entry point
 * (routes, tests, a future agent) gets the same Kafka-named errors for the same mistakes.
 */

/** Kafka sets no limit on group ids; topics' 249 keeps keys and log lines within reason. */
export const MAX_GROUP_ID_LENGTH = 249;
export const MAX_MEMBER_ID_LENGTH = 255;
/** Kafka's offset.metadata.max.bytes. */
export const MAX_OFFSET_METADATA_LENGTH = 4096;
/** Kafka's group.consumer.max.session.timeout.ms caps rebalance timeouts at int32 too. */
const MAX_TIMEOUT_MS = 2_147_483_647;
/** The longest list (of topics, partitions, offsets) the coordinator takes in one request. */
export const MAX_LIST_LENGTH = 10_000;

export function validateGroupId(groupId: unknown): asserts groupId is string {
  if (typeof groupId !== "string" || groupId.length === 0) {
    throw new FloeError("INVALID_GROUP_ID", "Group id must be a non-empty string.");
  }
  if (groupId.length > MAX_GROUP_ID_LENGTH) {
    throw new FloeError(
      "INVALID_GROUP_ID",
      `Group id is ${groupId.length} characters long; the limit is ${MAX_GROUP_ID_LENGTH}.`,
    );
  }
}

export function validateHeartbeat(request: HeartbeatRequest): void {
  if (request === null || typeof request !== "object") invalid("A heartbeat needs a body.");
  const { memberId, memberEpoch } = request;
  if (!Number.isInteger(memberEpoch) || memberEpoch < -1) {
    invalid(
      memberEpoch === -2
        ? "memberEpoch -2 (static membership) is not supported; leave with -1."
        : `memberEpoch must be an integer >= -1, got ${memberEpoch}.`,
    );
  }
  if (memberId !== undefined) checkString(memberId, "memberId", MAX_MEMBER_ID_LENGTH);
  if (memberEpoch !== 0 && memberId === undefined)
    invalid("memberId is required once the member has joined.");
  if (request.clientId !== undefined) checkString(request.clientId, "clientId", MAX_MEMBER_ID_LENGTH, true);
  if (request.subscribedTopics !== undefined) {
    if (!Array.isArray(request.subscribedTopics) || request.subscribedTopics.length > MAX_LIST_LENGTH) {
      invalid(`subscribedTopics must be an array of at most ${MAX_LIST_LENGTH} topic names.`);
    }
    for (const t of request.subscribedTopics) checkString(t, "subscribedTopics[]", 249);
  }
  if (request.subscribedTopicRegex !== undefined) {
    if (typeof request.subscribedTopicRegex !== "string") invalid("subscribedTopicRegex must be a string.");
    if (request.subscribedTopicRegex !== "") compileTopicRegex(request.subscribedTopicRegex);
  }
  if (memberEpoch === 0 && request.subscribedTopics === undefined && !request.subscribedTopicRegex) {
    invalid("A join needs subscribedTopics or subscribedTopicRegex.");
  }
  if (request.ownedPartitions !== undefined)
    validateTopicPartitions(request.ownedPartitions, "ownedPartitions");
  if (request.rebalanceTimeoutMs !== undefined) {
    const t = request.rebalanceTimeoutMs;
    if (!Number.isInteger(t) || t < 1 || t > MAX_TIMEOUT_MS) {
      invalid(`rebalanceTimeoutMs must be a positive integer of milliseconds, got ${t}.`);
    }
  }
  if (request.protocol !== undefined && request.protocol !== "classic" && request.protocol !== "consumer") {
    invalid(`protocol must be "classic" or "consumer", got ${String(request.protocol)}.`);
  }
}

function validateTopicPartitions(list: unknown, field: string): void {
  if (!Array.isArray(list) || list.length > MAX_LIST_LENGTH) invalid(`${field} must be an array.`);
  for (const entry of list) {
    if (entry === null || typeof entry !== "object") invalid(`${field} entries must be {topic, partitions}.`);
    const { topic, partitions } = entry as { topic: unknown; partitions: unknown };
    checkString(topic, `${field}[].topic`, 249);
    if (!Array.isArray(partitions) || partitions.some((p) => !Number.isInteger(p) || p < 0)) {
      invalid(`${field}[].partitions must be an array of non-negative integers.`);
    }
  }
}

/** The offsets to commit, metadata defaulted to "" as Kafka stores it. */
export function validateCommit(request: CommitRequest): CommittedOffset[] {
  if (request === null || typeof request !== "object") invalid("A commit needs a body.");
  if (request.memberId !== undefined) checkString(request.memberId, "memberId", MAX_MEMBER_ID_LENGTH);
  if (request.memberEpoch !== undefined && !Number.isInteger(request.memberEpoch)) {
    invalid(`memberEpoch must be an integer, got ${request.memberEpoch}.`);
  }
  if (!Array.isArray(request.offsets) || request.offsets.length > MAX_LIST_LENGTH) {
    invalid(`offsets must be an array of at most ${MAX_LIST_LENGTH} entries.`);
  }
  const seen = new Set<string>();
  return request.offsets.map((o) => {
    if (o === null || typeof o !== "object") invalid("offsets entries must be {topic, partition, offset}.");
    checkString(o.topic, "offsets[].topic", 249);
    if (!Number.isInteger(o.partition) || o.partition < 0) {
      invalid(`offsets[].partition must be a non-negative integer, got ${o.partition}.`);
    }
    if (!Number.isSafeInteger(o.offset) || o.offset < 0) {
      throw new FloeError("OFFSET_OUT_OF_RANGE", `Offset must be a non-negative integer, got ${o.offset}.`);
    }
    if (o.metadata !== undefined && o.metadata !== null) {
      checkString(o.metadata, "offsets[].metadata", MAX_OFFSET_METADATA_LENGTH, true);
    }
    const key = `${o.topic}#${o.partition}`;
    if (seen.has(key)) invalid(`Partition ${o.partition} of topic '${o.topic}' appears twice in one commit.`);
    seen.add(key);
    return { topic: o.topic, partition: o.partition, offset: o.offset, metadata: o.metadata ?? "" };
  });
}

export function validateReset(request: ResetRequest): void {
  if (request === null || typeof request !== "object") invalid("A reset needs a body.");
  checkString(request.topic, "topic", 249);
  if (request.partitions !== undefined) {
    if (!Array.isArray(request.partitions) || request.partitions.some((p) => !Number.isInteger(p) || p < 0)) {
      invalid("partitions must be an array of non-negative integers.");
    }
  }
  validateResetTarget(request.to);
}

function validateResetTarget(to: ResetTarget): void {
  if (to === "earliest" || to === "latest") return;
  if (to === null || typeof to !== "object" || Object.keys(to).length !== 1) {
    invalid('to must be "earliest", "latest", {offset}, {timestamp} or {shiftBy}.');
  }
  if ("offset" in to && Number.isSafeInteger(to.offset)) return;
  if ("timestamp" in to && Number.isSafeInteger(to.timestamp) && to.timestamp >= 0) return;
  if ("shiftBy" in to && Number.isSafeInteger(to.shiftBy)) return;
  invalid(
    `to ${JSON.stringify(to)} is not a valid reset target: offsets and shifts are integers, timestamps non-negative milliseconds.`,
  );
}

function checkString(value: unknown, field: string, max: number, emptyOk = false): asserts value is string {
  if (typeof value !== "string" || (!emptyOk && value.length === 0)) {
    invalid(`${field} must be a${emptyOk ? "" : " non-empty"} string.`);
  }
  if (value.length > max) invalid(`${field} is longer than ${max} characters.`);
}

function invalid(message: string): never {
  throw new FloeError("INVALID_REQUEST", message);
}
