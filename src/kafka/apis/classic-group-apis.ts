import { randomUUID } from "node:crypto";
import type { HeartbeatRequest as CoordinatorHeartbeat, HeartbeatResponse } from "../../groups/types.js";
import { isFloeError } from "../../errors.js";
import { ERROR_NUMBERS } from "../error-codes.js";
import { classicMembersOf, sameAssignment } from "../groups/classic-members.js";
import { groupErrorCode } from "./group-error-codes.js";
import { apiList, defineApi, type RequestContext } from "../kafka-api.js";
import {
  assignmentCodec,
  ConsumerProtocolAssignment,
  type ConsumerProtocolSubscription,
  type ConsumerProtocolValue,
  readConsumerProtocol,
  subscriptionCodec,
  writeConsumerProtocol,
} from "../protocol/messages/consumer-protocol.js";
import { FindCoordinatorRequest, FindCoordinatorResponse } from "../protocol/messages/find-coordinator.js";
import { HeartbeatRequest, HeartbeatResponse as HeartbeatAnswer } from "../protocol/messages/heartbeat.js";
import { JoinGroupRequest, JoinGroupResponse } from "../protocol/messages/join-group.js";
import { LeaveGroupRequest, LeaveGroupResponse } from "../protocol/messages/leave-group.js";
import { SyncGroupRequest, SyncGroupResponse } from "../protocol/messages/sync-group.js";
import { parseVersions } from "../protocol/spec.js";

/**
 * FindCoordinator and the classic group protocol (JoinGroup, SyncGroup, Heartbeat, LeaveGroup)
 * over Floe's KIP-848 coordinator, the way Kafka 4 runs classic members inside a consumer group
 * (KIP-848's upgrade path): the server assigns, so every member is told it is a follower and
 * SyncGroup hands it what the coordinator assigned it; a member's generation is its member epoch;
 * and Heartbeat answers REBALANCE_IN_PROGRESS whenever the member must rejoin to learn a new
 * assignment, which is how a classic member gives up and picks up partitions.
 *
 * The classic protocol carries no "owned partitions" after the join, so what a member holds is
 * what SyncGroup handed it, remembered in this process (classic-members.ts). The session timeout a
 * classic member sends is not used: the coordinator's group session timeout
 * (group.consumer.session.timeout.ms, floe dev's groupSessionTimeoutMs) bounds every member's
 * session. Static membership (group.instance.id) is not supported: such a member is served as a
 * dynamic one.
 */

const CONSUMER_PROTOCOL_TYPE = "consumer";
/** What every coordinator heartbeat made here records as the member's protocol. */
const CLASSIC = "classic";
const ASSIGNMENT_HIGH = parseVersions(ConsumerProtocolAssignment.validVersions).high;
/** The transaction key type: Floe has no transactions, see findCoordinatorApi. */
const GROUP_KEY = 0;
const TRANSACTION_KEY = 1;

/**
 * FindCoordinator: this process for every group, as every stateless agent answers (the group lives
 * in the MetaStore, so any agent coordinates any group). Transactional ids get this process too:
 * idempotent producers never ask, and a transactional one then fails at once on InitProducerId
 * with a transactional id, where COORDINATOR_NOT_AVAILABLE would have it retry until its timeout.
 * Share-group keys (KIP-932) are refused: Floe has no share groups.
 */
export const findCoordinatorApi = defineApi(FindCoordinatorRequest, FindCoordinatorResponse, {
  handle(request, ctx) {
    const node = ctx.core.node();
    const coordinatorOf = (key: string) =>
      request.keyType === GROUP_KEY || request.keyType === TRANSACTION_KEY
        ? { key, nodeId: node.nodeId, host: node.host, port: node.port, errorCode: 0, errorMessage: null }
        : {
            key,
            nodeId: -1,
            host: "",
            port: -1,
            errorCode: ERROR_NUMBERS.INVALID_REQUEST,
            errorMessage: `Coordinator key type ${request.keyType} is not supported: Floe coordinates consumer groups (0) only.`,
          };
    if (ctx.apiVersion >= 4) return { coordinators: request.coordinatorKeys.map(coordinatorOf) };
    const { key: _key, ...one } = coordinatorOf(request.key);
    return one;
  },
  errorResponse(request, errorCode, errorMessage) {
    const failed = { nodeId: -1, host: "", port: -1, errorCode, errorMessage };
    return { ...failed, coordinators: request.coordinatorKeys.map((key) => ({ key, ...failed })) };
  },
});

/**
 * JoinGroup: joins (or rejoins) the coordinator with the subscription from the member's first
 * protocol. A rejoining member this process remembers heartbeats at its current epoch, reporting
 * as owned what its subscription says it still holds (nothing for an eager member, its partitions
 * for a cooperative one), which completes any revocation without bumping the group's epoch; one it
 * does not remember rejoins with epoch 0, which the coordinator treats as holding everything it
 * held until the SyncGroup that follows says otherwise.
 */
export const joinGroupApi = defineApi(JoinGroupRequest, JoinGroupResponse, {
  async handle(request, ctx) {
    const { groupId, memberId } = request;
    const refuse = (errorCode: number) => ({
      errorCode,
      memberId,
      generationId: -1,
      protocolName: null,
      leader: "",
      members: [],
    });
    if (request.protocolType !== CONSUMER_PROTOCOL_TYPE || request.protocols.length === 0) {
      // Floe's groups are consumer groups: Connect's and Streams' protocols have no server assignor here.
      return refuse(ERROR_NUMBERS.INCONSISTENT_GROUP_PROTOCOL);
    }
    const protocol = request.protocols[0];
    let subscription: ConsumerProtocolValue<typeof ConsumerProtocolSubscription>;
    try {
      subscription = readConsumerProtocol(subscriptionCodec, protocol.metadata);
    } catch {
      return refuse(ERROR_NUMBERS.INCONSISTENT_GROUP_PROTOCOL);
    }
    if (memberId === "" && ctx.apiVersion >= 4) {
      // Kafka's handshake (KIP-394): nothing is recorded until the client comes back with the id,
      // so a join whose answer is lost leaves no member behind to hold partitions.
      return { ...refuse(ERROR_NUMBERS.MEMBER_ID_REQUIRED), memberId: randomUUID() };
    }

    const members = classicMembersOf(ctx.core.groups);
    const known = memberId === "" ? undefined : members.get(groupId, memberId);
    const owned = subscription.ownedPartitions.map(({ topic, partitions }) => ({ topic, partitions }));
    const subscribing: Omit<CoordinatorHeartbeat, "memberEpoch"> = {
      memberId: memberId === "" ? undefined : memberId,
      clientId: ctx.clientId ?? undefined,
      subscribedTopics: subscription.topics,
      ownedPartitions: owned,
      rebalanceTimeoutMs: request.rebalanceTimeoutMs > 0 ? request.rebalanceTimeoutMs : undefined,
      protocol: CLASSIC,
    };
    let answer: HeartbeatResponse;
    try {
      answer = await rejoin(ctx, groupId, subscribing, known?.memberEpoch);
    } catch (e) {
      return refuse(groupErrorCode(e, { classic: true }));
    }
    members.update(groupId, answer.memberId, {
      memberEpoch: answer.memberEpoch,
      joined: {
        generation: answer.memberEpoch,
        owned,
        protocolName: protocol.name,
        assignmentVersion: Math.max(0, Math.min(subscription.version, ASSIGNMENT_HIGH)),
      },
      handedOut: undefined,
    });
    return {
      errorCode: 0,
      generationId: answer.memberEpoch,
      protocolType: CONSUMER_PROTOCOL_TYPE,
      // Every client accepts its own first choice.
      protocolName: protocol.name,
      // No member is the leader: the coordinator assigns, so every member syncs as a follower and
      // none runs an assignor (Kafka 4 answers classic members of a consumer group the same way).
      leader: "",
      skipAssignment: false,
      memberId: answer.memberId,
      members: [],
    };
  },
});

/** At the remembered epoch when there is one; at 0 when there is none or the coordinator moved on. */
async function rejoin(
  ctx: RequestContext,
  groupId: string,
  request: Omit<CoordinatorHeartbeat, "memberEpoch">,
  knownEpoch: number | undefined,
): Promise<HeartbeatResponse> {
  if (knownEpoch !== undefined && knownEpoch > 0) {
    try {
      return await ctx.core.groups.heartbeat(groupId, { ...request, memberEpoch: knownEpoch });
    } catch (e) {
      // Another agent served the member since, or its session expired: join as the coordinator sees it.
      if (!isMembershipRefusal(e)) throw e;
    }
  }
  return ctx.core.groups.heartbeat(groupId, { ...request, memberEpoch: 0 });
}

/**
 * SyncGroup: what the coordinator assigns the member now, as a ConsumerProtocolAssignment. The
 * heartbeat reports what the member said it owned when it joined, which completes the release of
 * everything else (an eager member holds nothing by now). If the member's epoch moved since the
 * join, its generation is already stale and it is asked to rejoin rather than handed an
 * assignment it could not commit under.
 */
export const syncGroupApi = defineApi(SyncGroupRequest, SyncGroupResponse, {
  async handle(request, ctx) {
    const { groupId, memberId, generationId } = request;
    const members = classicMembersOf(ctx.core.groups);
    const known = members.get(groupId, memberId);
    if (
      (request.protocolType !== null && request.protocolType !== CONSUMER_PROTOCOL_TYPE) ||
      (request.protocolName !== null &&
        known?.joined !== undefined &&
        request.protocolName !== known.joined.protocolName)
    ) {
      return { errorCode: ERROR_NUMBERS.INCONSISTENT_GROUP_PROTOCOL };
    }
    if (memberId === "") return { errorCode: ERROR_NUMBERS.UNKNOWN_MEMBER_ID };
    const owned =
      known?.joined?.generation === generationId
        ? known.joined.owned
        : known?.handedOut?.generation === generationId
          ? known.handedOut.assignment
          : undefined;
    const answer = await heartbeatAt(ctx, groupId, memberId, generationId, owned);
    if ("errorCode" in answer) return answer;
    if (answer.memberEpoch !== generationId) return { errorCode: ERROR_NUMBERS.REBALANCE_IN_PROGRESS };
    members.update(groupId, memberId, {
      memberEpoch: answer.memberEpoch,
      handedOut: { generation: generationId, assignment: answer.assignment },
    });
    return {
      errorCode: 0,
      protocolType: CONSUMER_PROTOCOL_TYPE,
      protocolName: known?.joined?.protocolName ?? request.protocolName,
      assignment: writeConsumerProtocol(assignmentCodec, known?.joined?.assignmentVersion ?? 0, {
        assignedPartitions: answer.assignment,
        userData: null,
      }),
    };
  },
});

/**
 * Heartbeat: keeps the member's session and tells the coordinator the member holds what SyncGroup
 * handed it. REBALANCE_IN_PROGRESS when the coordinator now assigns it something else (partitions
 * to give up, or ones another member released) or gave it a new epoch, so the client rejoins and
 * syncs again; also when this process cannot tell what the member holds (it joined through another
 * agent, or this one restarted), since only a rejoin tells.
 */
export const heartbeatApi = defineApi(HeartbeatRequest, HeartbeatAnswer, {
  async handle(request, ctx) {
    const { groupId, memberId, generationId } = request;
    if (memberId === "") return { errorCode: ERROR_NUMBERS.UNKNOWN_MEMBER_ID };
    const members = classicMembersOf(ctx.core.groups);
    const known = members.get(groupId, memberId);
    const handedOut = known?.handedOut?.generation === generationId ? known.handedOut.assignment : undefined;
    // Between JoinGroup and SyncGroup the member holds what it said it owned when it joined.
    const joining = handedOut === undefined && known?.joined?.generation === generationId;
    const owned = handedOut ?? (joining ? known?.joined?.owned : undefined);
    const answer = await heartbeatAt(ctx, groupId, memberId, generationId, owned);
    if ("errorCode" in answer) return answer;
    const settled =
      answer.memberEpoch === generationId &&
      (joining || (handedOut !== undefined && sameAssignment(answer.assignment, handedOut)));
    return { errorCode: settled ? 0 : ERROR_NUMBERS.REBALANCE_IN_PROGRESS };
  },
});

/**
 * LeaveGroup: each member leaves the coordinator (epoch -1), which frees its partitions at once.
 * Members named only by group.instance.id are unknown: Floe has no static membership.
 */
export const leaveGroupApi = defineApi(LeaveGroupRequest, LeaveGroupResponse, {
  async handle(request, ctx) {
    const leaving =
      ctx.apiVersion < 3 ? [{ memberId: request.memberId, groupInstanceId: null }] : request.members;
    const results: { memberId: string; groupInstanceId: string | null; errorCode: number }[] = [];
    // One at a time: each leave bumps the group's epoch, and parallel bumps only retry each other.
    for (const { memberId, groupInstanceId } of leaving) {
      results.push({ memberId, groupInstanceId, errorCode: await leave(ctx, request.groupId, memberId) });
    }
    if (ctx.apiVersion < 3) return { errorCode: results[0].errorCode };
    return { errorCode: 0, members: results };
  },
});

/**
 * A classic member's heartbeat to the coordinator at its generation, reporting `owned`; the epoch
 * it answers is remembered. A member the coordinator no longer knows is forgotten here too.
 */
async function heartbeatAt(
  ctx: RequestContext,
  groupId: string,
  memberId: string,
  generationId: number,
  owned: CoordinatorHeartbeat["ownedPartitions"],
): Promise<HeartbeatResponse | { errorCode: number }> {
  const members = classicMembersOf(ctx.core.groups);
  try {
    const answer = await ctx.core.groups.heartbeat(groupId, {
      memberId,
      memberEpoch: generationId,
      clientId: ctx.clientId ?? undefined,
      ownedPartitions: owned,
      protocol: CLASSIC,
    });
    members.update(groupId, memberId, { memberEpoch: answer.memberEpoch });
    return answer;
  } catch (e) {
    if (isFloeError(e) && e.code === "UNKNOWN_MEMBER_ID") members.forget(groupId, memberId);
    return { errorCode: groupErrorCode(e, { classic: true }) };
  }
}

async function leave(ctx: RequestContext, groupId: string, memberId: string): Promise<number> {
  if (memberId === "") return ERROR_NUMBERS.UNKNOWN_MEMBER_ID;
  classicMembersOf(ctx.core.groups).forget(groupId, memberId);
  try {
    await ctx.core.groups.heartbeat(groupId, { memberId, memberEpoch: -1, protocol: CLASSIC });
    return 0;
  } catch (e) {
    return groupErrorCode(e, { classic: true });
  }
}

/** The coordinator does not know the member, or not at the epoch it was asked about. */
function isMembershipRefusal(error: unknown): boolean {
  return isFloeError(error) && (error.code === "FENCED_MEMBER_EPOCH" || error.code === "UNKNOWN_MEMBER_ID");
}

export const classicGroupApis = apiList(
  findCoordinatorApi,
  joinGroupApi,
  heartbeatApi,
  leaveGroupApi,
  syncGroupApi,
);
