import { isFloeError } from "../../errors.js";
import { mapConcurrent } from "../../groups/map-concurrent.js";
import type { GroupDescription, MemberDescription, TopicPartitions } from "../../groups/types.js";
import { errorMessage } from "../error-codes.js";
import { defineApi, type RequestContext } from "../kafka-api.js";
import {
  ConsumerGroupDescribeRequest,
  ConsumerGroupDescribeResponse,
} from "../protocol/messages/consumer-group-describe.js";
import {
  assignmentCodec,
  subscriptionCodec,
  writeConsumerProtocol,
} from "../protocol/messages/consumer-protocol.js";
import { DeleteGroupsRequest, DeleteGroupsResponse } from "../protocol/messages/delete-groups.js";
import {
  AUTHORIZED_OPERATIONS_OMITTED,
  DescribeGroupsRequest,
  DescribeGroupsResponse,
} from "../protocol/messages/describe-groups.js";
import { ListGroupsRequest, ListGroupsResponse } from "../protocol/messages/list-groups.js";
import { groupErrorCode, isUnknownTopic } from "./group-error-codes.js";

/** Every Floe group carries the consumer protocol, whatever its members speak. */
const PROTOCOL_TYPE = "consumer";
/** DescribeGroups' state for a group that does not exist (Kafka answers it without an error). */
const DEAD = "Dead";
/** Groups of one describe or delete request handled at once. */
const GROUPS_IN_FLIGHT = 8;
/**
 * Floe has no ACLs, so whoever asks may do everything a group allows: READ (3), DELETE (6) and
 * DESCRIBE (8), as bits of Kafka's AclOperation codes.
 */
const GROUP_OPERATIONS = (1 << 3) | (1 << 6) | (1 << 8);
/** KIP-1099's member type: 0 for a member speaking the classic protocol, 1 for a KIP-848 one. */
const MEMBER_TYPES = { classic: 0, consumer: 1 } as const;

/**
 * ListGroups. Group states are KIP-848's (Empty, Assigning, Reconciling, Stable, Dead), the names
 * Kafka 4 reports for consumer groups. A group whose members all joined with JoinGroup is of type
 * "classic", any other "consumer" (see GroupListing). Both filters compare without regard to case,
 * as Kafka's do.
 */
export const listGroupsApi = defineApi(ListGroupsRequest, ListGroupsResponse, {
  async handle(request, ctx) {
    const states = new Set((request.statesFilter ?? []).map((s) => s.toLowerCase()));
    const types = new Set((request.typesFilter ?? []).map((t) => t.toLowerCase()));
    try {
      const listed = await ctx.core.groups.list();
      return {
        errorCode: 0,
        groups: listed
          .filter((g) => states.size === 0 || states.has(g.state.toLowerCase()))
          .filter((g) => types.size === 0 || types.has(g.type))
          .map((g) => ({
            groupId: g.groupId,
            protocolType: PROTOCOL_TYPE,
            groupState: g.state,
            groupType: g.type,
          })),
      };
    } catch (e) {
      return { errorCode: groupErrorCode(e), groups: [] };
    }
  },
});

/** A group's description, or undefined when it does not exist. */
async function described(ctx: RequestContext, groupId: string): Promise<GroupDescription | undefined> {
  try {
    return await ctx.core.groups.describe(groupId);
  } catch (e) {
    if (isFloeError(e) && e.code === "GROUP_ID_NOT_FOUND") return undefined;
    throw e;
  }
}

/**
 * The consumer protocol's view of a member, for tools that decode DescribeGroups' opaque bytes
 * (kafka-consumer-groups, KafkaJS's AssignerProtocol): its subscription as version 1 with the
 * partitions it owns, and its current assignment as version 0, user data null as Kafka writes it.
 * A pattern subscription lists the topics the pattern covers now, as far as they are assigned.
 */
function consumerProtocolPayloads(m: MemberDescription): {
  memberMetadata: Uint8Array;
  memberAssignment: Uint8Array;
} {
  const topics = new Set(m.subscribedTopics);
  for (const t of [...m.assignment, ...m.targetAssignment]) topics.add(t.topic);
  const owned = m.assignment.map((t) => ({ topic: t.topic, partitions: t.partitions }));
  return {
    memberMetadata: writeConsumerProtocol(subscriptionCodec, 1, {
      topics: [...topics],
      userData: null,
      ownedPartitions: owned,
    }),
    memberAssignment: writeConsumerProtocol(assignmentCodec, 0, {
      assignedPartitions: owned,
      userData: null,
    }),
  };
}

/**
 * DescribeGroups, the classic describe that kafka-consumer-groups --describe and KafkaJS's
 * admin.describeGroups use. An unknown group is state Dead with no error, as Kafka answers.
 * Protocol data is the server-side assignor's name; client hosts are not recorded by the
 * coordinator and go out empty.
 */
export const describeGroupsApi = defineApi(DescribeGroupsRequest, DescribeGroupsResponse, {
  async handle(request, ctx) {
    const authorizedOperations = request.includeAuthorizedOperations
      ? GROUP_OPERATIONS
      : AUTHORIZED_OPERATIONS_OMITTED;
    const groups = await mapConcurrent(request.groups, GROUPS_IN_FLIGHT, async (groupId) => {
      try {
        const d = await described(ctx, groupId);
        if (!d) {
          return { errorCode: 0, groupId, groupState: DEAD, protocolType: "", protocolData: "", members: [] };
        }
        return {
          errorCode: 0,
          groupId,
          groupState: d.state,
          protocolType: PROTOCOL_TYPE,
          protocolData: d.assignor,
          members: d.members.map((m) => ({
            memberId: m.memberId,
            groupInstanceId: null,
            clientId: m.clientId ?? "",
            clientHost: "",
            ...consumerProtocolPayloads(m),
          })),
          authorizedOperations,
        };
      } catch (e) {
        return { errorCode: groupErrorCode(e), groupId, members: [] };
      }
    });
    return { groups };
  },
  errorResponse(request, errorCode) {
    return { groups: request.groups.map((groupId) => ({ errorCode, groupId, members: [] })) };
  },
});

/**
 * ConsumerGroupDescribe (KIP-848): epochs, the assignor and each member's assignment and target by
 * topic id. Topics deleted since they were assigned are left out, as Kafka leaves out topics
 * missing from its metadata. An unknown group is GROUP_ID_NOT_FOUND.
 */
export const consumerGroupDescribeApi = defineApi(
  ConsumerGroupDescribeRequest,
  ConsumerGroupDescribeResponse,
  {
    async handle(request, ctx) {
      const authorizedOperations = request.includeAuthorizedOperations
        ? GROUP_OPERATIONS
        : AUTHORIZED_OPERATIONS_OMITTED;
      const topicIds = new Map<string, Promise<string | undefined>>();
      const topicId = (name: string) => {
        let id = topicIds.get(name);
        if (!id) {
          id = ctx.core.broker.topics.cached(name).then(
            (t) => t.topicId,
            (e) => {
              if (isUnknownTopic(e)) return undefined;
              throw e;
            },
          );
          topicIds.set(name, id);
        }
        return id;
      };
      const withIds = async (list: TopicPartitions[]) => {
        const ids = await Promise.all(list.map((t) => topicId(t.topic)));
        return {
          topicPartitions: list.flatMap((t, i) => {
            const id = ids[i];
            return id === undefined ? [] : [{ topicId: id, topicName: t.topic, partitions: t.partitions }];
          }),
        };
      };
      const groups = await mapConcurrent(request.groupIds, GROUPS_IN_FLIGHT, async (groupId) => {
        try {
          const d = await ctx.core.groups.describe(groupId);
          return {
            errorCode: 0,
            groupId,
            groupState: d.state,
            groupEpoch: d.groupEpoch,
            assignmentEpoch: d.assignmentEpoch,
            assignorName: d.assignor,
            members: await Promise.all(
              d.members.map(async (m) => ({
                memberId: m.memberId,
                memberEpoch: m.memberEpoch,
                clientId: m.clientId ?? "",
                clientHost: "",
                subscribedTopicNames: m.subscribedTopics,
                subscribedTopicRegex: m.subscribedTopicRegex,
                assignment: await withIds(m.assignment),
                targetAssignment: await withIds(m.targetAssignment),
                memberType: MEMBER_TYPES[m.protocol],
              })),
            ),
            authorizedOperations,
          };
        } catch (e) {
          return { errorCode: groupErrorCode(e), errorMessage: errorMessage(e), groupId, members: [] };
        }
      });
      return { groups };
    },
    errorResponse(request, errorCode, message) {
      return {
        groups: request.groupIds.map((groupId) => ({
          errorCode,
          errorMessage: message,
          groupId,
          members: [],
        })),
      };
    },
  },
);

/** DeleteGroups: each group on its own, NON_EMPTY_GROUP while it has members, GROUP_ID_NOT_FOUND if unknown. */
export const deleteGroupsApi = defineApi(DeleteGroupsRequest, DeleteGroupsResponse, {
  async handle(request, ctx) {
    const results = await mapConcurrent(request.groupsNames, GROUPS_IN_FLIGHT, async (groupId) => {
      try {
        await ctx.core.groups.delete(groupId);
        return { groupId, errorCode: 0 };
      } catch (e) {
        return { groupId, errorCode: groupErrorCode(e) };
      }
    });
    return { results };
  },
  errorResponse(request, errorCode) {
    return { results: request.groupsNames.map((groupId) => ({ groupId, errorCode })) };
  },
});
