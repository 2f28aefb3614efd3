import { ASSIGNORS } from "../../groups/assignor.js";
import type { TopicPartitions } from "../../groups/types.js";
import { ERROR_NUMBERS, errorMessage } from "../error-codes.js";
import { apiList, defineApi, type RequestContext } from "../kafka-api.js";
import { groupErrorCode, isUnknownTopic } from "./group-error-codes.js";
import { topicNamesById } from "./topic-ids.js";
import {
  ConsumerGroupHeartbeatRequest,
  ConsumerGroupHeartbeatResponse,
} from "../protocol/messages/consumer-group-heartbeat.js";

/** Kafka's epoch for a static member leaving for a while (KIP-848); Floe has no static members. */
const LEAVE_GROUP_STATIC_MEMBER_EPOCH = -2;

/**
 * ConsumerGroupHeartbeat (KIP-848), for Kafka 4 clients with group.protocol=consumer: Floe's
 * coordinator speaks this protocol already, so the request maps field for field, topics going
 * from ids on the wire to names in the coordinator and back.
 *
 * Differences from Kafka: a static member's temporary leave (epoch -2) is a leave, since Floe has
 * no static membership (group.instance.id is ignored); the server assignor a member names must be
 * one Floe has (uniform or range), but the group uses the coordinator's configured one; the
 * assignment is sent with every answer, which the protocol allows.
 */
export const consumerGroupHeartbeatApi = defineApi(
  ConsumerGroupHeartbeatRequest,
  ConsumerGroupHeartbeatResponse,
  {
    async handle(request, ctx) {
      const { groupId } = request;
      const fail = (errorCode: number, message: string | null) => ({
        errorCode,
        errorMessage: message,
        memberId: request.memberId || null,
        memberEpoch: request.memberEpoch,
      });
      if (request.serverAssignor !== null && !Object.hasOwn(ASSIGNORS, request.serverAssignor)) {
        return fail(
          ERROR_NUMBERS.UNSUPPORTED_ASSIGNOR,
          `Server assignor '${request.serverAssignor}' is not supported; Floe assigns with uniform or range.`,
        );
      }
      try {
        const ownedPartitions =
          request.topicPartitions === null ? undefined : await byName(ctx, request.topicPartitions);
        const leaving = request.memberEpoch === LEAVE_GROUP_STATIC_MEMBER_EPOCH ? -1 : request.memberEpoch;
        const answer = await ctx.core.groups.heartbeat(groupId, {
          // v0 lets the coordinator choose the id; v1 clients choose their own (KIP-1082).
          memberId: request.memberId === "" ? undefined : request.memberId,
          memberEpoch: leaving,
          clientId: ctx.clientId ?? undefined,
          subscribedTopics: request.subscribedTopicNames ?? undefined,
          subscribedTopicRegex: request.subscribedTopicRegex ?? undefined,
          ownedPartitions,
          rebalanceTimeoutMs: request.rebalanceTimeoutMs > 0 ? request.rebalanceTimeoutMs : undefined,
        });
        const topicPartitions = await byId(ctx, answer.assignment);
        return {
          errorCode: 0,
          memberId: answer.memberId,
          memberEpoch: answer.memberEpoch,
          heartbeatIntervalMs: answer.heartbeatIntervalMs,
          assignment: leaving === -1 ? null : { topicPartitions },
        };
      } catch (e) {
        return fail(groupErrorCode(e), errorMessage(e));
      }
    },
  },
);

/**
 * Owned partitions named by topic id, by name. A topic no longer there under that id (deleted, or
 * deleted and created again) is owned by nobody: Kafka ignores it too.
 */
async function byName(
  ctx: RequestContext,
  owned: readonly { topicId: string; partitions: number[] }[],
): Promise<TopicPartitions[]> {
  const names = await topicNamesById(
    ctx.core.broker,
    owned.map((o) => o.topicId),
  );
  const result: TopicPartitions[] = [];
  for (const { topicId, partitions } of owned) {
    const topic = names.get(topicId);
    if (topic !== undefined && (await idOf(ctx, topic)) === topicId) result.push({ topic, partitions });
  }
  return result;
}

/** An assignment named by topic id; a topic deleted since the coordinator read it is left out. */
async function byId(
  ctx: RequestContext,
  assignment: readonly TopicPartitions[],
): Promise<{ topicId: string; partitions: number[] }[]> {
  const result: { topicId: string; partitions: number[] }[] = [];
  for (const { topic, partitions } of assignment) {
    const topicId = await idOf(ctx, topic);
    if (topicId !== undefined) result.push({ topicId, partitions });
  }
  return result;
}

async function idOf(ctx: RequestContext, topic: string): Promise<string | undefined> {
  try {
    return (await ctx.core.broker.topics.cached(topic)).topicId;
  } catch (e) {
    if (isUnknownTopic(e)) return undefined;
    throw e;
  }
}

export const consumerGroupApis = apiList(consumerGroupHeartbeatApi);
