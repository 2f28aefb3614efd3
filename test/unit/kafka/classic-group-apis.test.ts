import { beforeEach, describe, expect, it } from "vitest";
import { Broker } from "../../../src/broker/broker.js";
import { GroupCoordinator } from "../../../src/groups/coordinator.js";
import type { TopicPartitions } from "../../../src/groups/types.js";
import {
  findCoordinatorApi,
  heartbeatApi,
  joinGroupApi,
  leaveGroupApi,
  syncGroupApi,
} from "../../../src/kafka/apis/classic-group-apis.js";
import { offsetCommitApi } from "../../../src/kafka/apis/offset-apis.js";
import { ERROR_NUMBERS } from "../../../src/kafka/error-codes.js";
import { classicMembersOf } from "../../../src/kafka/groups/classic-members.js";
import {
  type KafkaApi,
  type KafkaCore,
  NO_RESPONSE,
  type RequestContext,
} from "../../../src/kafka/kafka-api.js";
import {
  assignmentCodec,
  readConsumerProtocol,
  subscriptionCodec,
  writeConsumerProtocol,
} from "../../../src/kafka/protocol/messages/consumer-protocol.js";
import type { MessageInput, MessageSpec, MessageValue } from "../../../src/kafka/protocol/spec.js";
import { createBackend } from "../../../src/storage/backend.js";

// The classic protocol's handlers over a real coordinator on the in-memory backend. Two
// coordinators over one MetaStore are two stateless agents: each remembers only its own members.

const TOPIC = "orders";
const PARTITIONS = 6;
const SESSION_MS = 10_000;
const NODE = { nodeId: 1, host: "agent-1", port: 9092 };

interface Agent {
  ctx(apiVersion: number): RequestContext;
  groups: GroupCoordinator;
}

let now = 0;
let broker: Broker;
let agentA: Agent;
let agentB: Agent;

async function setUp(): Promise<void> {
  now = 1_000_000;
  const backend = await createBackend({ storage: "memory" });
  broker = new Broker(backend);
  await broker.createTopic(TOPIC, PARTITIONS);
  const agent = (): Agent => {
    const groups = new GroupCoordinator({
      meta: backend.meta,
      broker,
      clock: () => now,
      sessionTimeoutMs: SESSION_MS,
      heartbeatIntervalMs: 1_000,
    });
    const core: KafkaCore = {
      broker,
      groups,
      produce: () => Promise.reject(new Error("not in these tests")),
      node: () => NODE,
      clusterId: "cluster",
    };
    return {
      groups,
      ctx: (apiVersion) => ({
        core,
        apiVersion,
        clientId: "test-client",
        signal: new AbortController().signal,
        served: [],
      }),
    };
  };
  agentA = agent();
  agentB = agent();
}

/** The request through its own codec (so every field has its wire default), the answer through its. */
async function call<Req extends MessageSpec, Res extends MessageSpec>(
  api: KafkaApi<Req, Res>,
  agent: Agent,
  version: number,
  input: MessageInput<Req>,
): Promise<MessageValue<Res>> {
  const request = api.request.decode(version, api.request.encode(version, input));
  const response = await api.handle(request, agent.ctx(version));
  if (response === NO_RESPONSE) throw new Error(`${api.name} answered nothing`);
  return api.response.decode(version, api.response.encode(version, response));
}

function subscription(topics: string[], owned: TopicPartitions[] = [], version = 1): Uint8Array {
  return writeConsumerProtocol(subscriptionCodec, version, {
    topics,
    ownedPartitions: owned,
    userData: null,
  });
}

interface Member {
  memberId: string;
  generationId: number;
  /** What the last SyncGroup handed out. */
  assignment: number[];
}

async function join(
  agent: Agent,
  memberId: string,
  options: { version?: number; owned?: TopicPartitions[]; protocols?: string[] } = {},
) {
  const metadata = subscription([TOPIC], options.owned ?? []);
  return call(joinGroupApi, agent, options.version ?? 5, {
    groupId: "g",
    sessionTimeoutMs: SESSION_MS,
    rebalanceTimeoutMs: 60_000,
    memberId,
    protocolType: "consumer",
    protocols: (options.protocols ?? ["RoundRobinAssigner"]).map((name) => ({ name, metadata })),
  });
}

async function sync(agent: Agent, memberId: string, generationId: number, version = 3) {
  return call(syncGroupApi, agent, version, { groupId: "g", generationId, memberId, assignments: [] });
}

function partitionsOf(bytes: Uint8Array): number[] {
  const decoded = readConsumerProtocol(assignmentCodec, bytes);
  return decoded.assignedPartitions.flatMap((tp) => (tp.topic === TOPIC ? tp.partitions : [])).sort();
}

/** A new member through KafkaJS's path: MEMBER_ID_REQUIRED, join with the id, sync. */
async function newMember(agent: Agent): Promise<Member> {
  const first = await join(agent, "");
  expect(first.errorCode).toBe(ERROR_NUMBERS.MEMBER_ID_REQUIRED);
  return rejoin(agent, first.memberId);
}

/** Join and sync until the coordinator lets the member settle (as a client loops on REBALANCE_IN_PROGRESS). */
async function rejoin(agent: Agent, memberId: string, owned: TopicPartitions[] = []): Promise<Member> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const joined = await join(agent, memberId, { owned });
    expect(joined.errorCode).toBe(0);
    const synced = await sync(agent, memberId, joined.generationId);
    if (synced.errorCode === ERROR_NUMBERS.REBALANCE_IN_PROGRESS) continue;
    expect(synced.errorCode).toBe(0);
    return { memberId, generationId: joined.generationId, assignment: partitionsOf(synced.assignment) };
  }
  throw new Error("never settled");
}

async function heartbeat(agent: Agent, member: Member, version = 3): Promise<number> {
  const answer = await call(heartbeatApi, agent, version, {
    groupId: "g",
    generationId: member.generationId,
    memberId: member.memberId,
  });
  return answer.errorCode;
}

/** Heartbeats every member, rejoining those asked to, until all are stable: the classic client loop. */
async function settle(agent: Agent, members: Member[]): Promise<void> {
  for (let round = 0; round < 10; round++) {
    let stable = true;
    for (const [i, m] of members.entries()) {
      const code = await heartbeat(agent, m);
      if (code === ERROR_NUMBERS.REBALANCE_IN_PROGRESS) {
        stable = false;
        // An eager member gives up everything before it rejoins.
        members[i] = await rejoin(agent, m.memberId);
      } else expect(code).toBe(0);
    }
    assertNoSharedPartitions(members);
    if (stable) return;
  }
  throw new Error("the group never settled");
}

function assertNoSharedPartitions(members: Member[]): void {
  const all = members.flatMap((m) => m.assignment);
  expect(new Set(all).size).toBe(all.length);
}

beforeEach(setUp);

describe("FindCoordinator", () => {
  it("names this node for groups and transactional ids, one or many keys, and refuses share groups", async () => {
    const one = await call(findCoordinatorApi, agentA, 3, { key: "g", keyType: 0 });
    expect(one).toMatchObject({ errorCode: 0, nodeId: 1, host: "agent-1", port: 9092 });
    const txn = await call(findCoordinatorApi, agentA, 2, { key: "tx", keyType: 1 });
    expect(txn).toMatchObject({ errorCode: 0, nodeId: 1 });
    const many = await call(findCoordinatorApi, agentA, 6, { keyType: 0, coordinatorKeys: ["a", "b"] });
    expect(many.coordinators).toEqual([
      { key: "a", nodeId: 1, host: "agent-1", port: 9092, errorCode: 0, errorMessage: null },
      { key: "b", nodeId: 1, host: "agent-1", port: 9092, errorCode: 0, errorMessage: null },
    ]);
    const share = await call(findCoordinatorApi, agentA, 6, { keyType: 2, coordinatorKeys: ["g:x:0"] });
    expect(share.coordinators[0].errorCode).toBe(ERROR_NUMBERS.INVALID_REQUEST);
  });
});

describe("JoinGroup", () => {
  it("refuses a protocol type other than consumer, and a subscription it cannot read", async () => {
    const connect = await call(joinGroupApi, agentA, 5, {
      groupId: "g",
      sessionTimeoutMs: SESSION_MS,
      memberId: "",
      protocolType: "connect",
      protocols: [{ name: "default", metadata: new Uint8Array() }],
    });
    expect(connect.errorCode).toBe(ERROR_NUMBERS.INCONSISTENT_GROUP_PROTOCOL);
    const garbled = await call(joinGroupApi, agentA, 3, {
      groupId: "g",
      sessionTimeoutMs: SESSION_MS,
      memberId: "",
      protocolType: "consumer",
      protocols: [{ name: "range", metadata: new Uint8Array([0]) }],
    });
    expect(garbled.errorCode).toBe(ERROR_NUMBERS.INCONSISTENT_GROUP_PROTOCOL);
  });

  it("asks a new member for the id it hands out (v4+), recording nothing until it comes back", async () => {
    const first = await join(agentA, "", { version: 4 });
    expect(first.errorCode).toBe(ERROR_NUMBERS.MEMBER_ID_REQUIRED);
    expect(first.memberId).toMatch(/^[0-9a-f-]{36}$/);
    expect(await agentA.groups.list()).toEqual([]);
    const second = await join(agentA, first.memberId, { version: 4 });
    expect(second).toMatchObject({ errorCode: 0, memberId: first.memberId });
    expect((await agentA.groups.describe("g")).members.map((m) => m.memberId)).toEqual([first.memberId]);
  });

  it("joins in one round trip before v4, and makes every member a follower of its own first protocol", async () => {
    const joined = await join(agentA, "", { version: 3, protocols: ["cooperative-sticky", "range"] });
    expect(joined.errorCode).toBe(0);
    expect(joined.memberId).not.toBe("");
    expect(joined.leader).toBe("");
    expect(joined.members).toEqual([]);
    expect(joined.protocolName).toBe("cooperative-sticky");
    const member = (await agentA.groups.describe("g")).members[0];
    expect(joined.generationId).toBe(member.memberEpoch);
    expect(member.subscribedTopics).toEqual([TOPIC]);
  });
});

describe("a group of classic members", () => {
  it("splits the partitions, moves them only after their holder rejoins, and never hands one out twice", async () => {
    const a = await newMember(agentA);
    expect(a.assignment).toEqual([0, 1, 2, 3, 4, 5]);
    let b = await newMember(agentA);
    // a still holds everything: b gets nothing until a gives some up.
    expect(b.assignment).toEqual([]);
    const members = [a, b];
    await settle(agentA, members);
    [, b] = members;
    expect(members.map((m) => m.assignment.length)).toEqual([3, 3]);
    expect(members.flatMap((m) => m.assignment).sort()).toEqual([0, 1, 2, 3, 4, 5]);

    // Settled: heartbeats are quiet, and the generation is the coordinator's member epoch.
    for (const m of members) expect(await heartbeat(agentA, m)).toBe(0);
    const described = await agentA.groups.describe("g");
    for (const m of members) {
      expect(described.members.find((d) => d.memberId === m.memberId)?.memberEpoch).toBe(m.generationId);
    }
  });

  it("moves a leaving member's partitions to the others, per member in a v3 batch", async () => {
    const members = [await newMember(agentA), await newMember(agentA), await newMember(agentA)];
    await settle(agentA, members);
    const [leaver, ...stay] = members;
    const left = await call(leaveGroupApi, agentA, 3, {
      groupId: "g",
      members: [{ memberId: leaver.memberId }, { memberId: "nobody" }],
    });
    expect(left.errorCode).toBe(0);
    expect(left.members.map((m: { errorCode: number }) => m.errorCode)).toEqual([
      0,
      ERROR_NUMBERS.UNKNOWN_MEMBER_ID,
    ]);
    await settle(agentA, stay);
    expect(stay.flatMap((m) => m.assignment).sort()).toEqual([0, 1, 2, 3, 4, 5]);
    expect(await heartbeat(agentA, leaver)).toBe(ERROR_NUMBERS.UNKNOWN_MEMBER_ID);
  });

  it("lets a member commit at the generation it holds after a Heartbeat moved its epoch on", async () => {
    const members = [await newMember(agentA), await newMember(agentA), await newMember(agentA)];
    await settle(agentA, members);
    const [leaver, stayer] = members;
    await call(leaveGroupApi, agentA, 3, { groupId: "g", members: [{ memberId: leaver.memberId }] });
    // The stayer is given part of the leaver's share at once, at a new epoch: it must rejoin.
    expect(await heartbeat(agentA, stayer)).toBe(ERROR_NUMBERS.REBALANCE_IN_PROGRESS);
    const offsets = stayer.assignment.map((partition) => ({ topic: TOPIC, partition, offset: 0 }));
    // Before rejoining, the client commits what it consumed, at the generation it holds.
    await expect(
      agentA.groups.commitOffsets("g", {
        memberId: stayer.memberId,
        memberEpoch: stayer.generationId,
        offsets,
      }),
    ).rejects.toMatchObject({ code: "STALE_MEMBER_EPOCH" });
    const epoch = classicMembersOf(agentA.groups).commitEpoch("g", stayer.memberId, stayer.generationId);
    expect(epoch).toBeGreaterThan(stayer.generationId);
    // OffsetCommit (v8, as Java and librdkafka send it) commits at the generation the member holds.
    const committed = await call(offsetCommitApi, agentA, 8, {
      groupId: "g",
      generationIdOrMemberEpoch: stayer.generationId,
      memberId: stayer.memberId,
      topics: [
        {
          name: TOPIC,
          partitions: stayer.assignment.map((partitionIndex) => ({ partitionIndex, committedOffset: 0 })),
        },
      ],
    });
    expect(committed.topics[0].partitions.map((p: { errorCode: number }) => p.errorCode)).toEqual(
      stayer.assignment.map(() => 0),
    );
    // A generation this agent handed nothing out at is passed on unchanged (and refused as before).
    expect(classicMembersOf(agentA.groups).commitEpoch("g", stayer.memberId, 1234)).toBe(1234);
    expect(classicMembersOf(agentB.groups).commitEpoch("g", stayer.memberId, stayer.generationId)).toBe(
      stayer.generationId,
    );
  });

  it("answers a stale commit from a classic member that joined through another agent with ILLEGAL_GENERATION", async () => {
    const classic = await newMember(agentA);
    expect(await heartbeat(agentA, classic)).toBe(0);
    // Every heartbeat the classic handlers make records the member as classic.
    expect((await agentA.groups.describe("g")).members.map((m) => m.protocol)).toEqual(["classic"]);
    // A KIP-848 member of the same group, for contrast.
    const modern = await agentA.groups.heartbeat("g", { memberEpoch: 0, subscribedTopics: [TOPIC] });
    const commitThroughB = async (memberId: string, generationIdOrMemberEpoch: number) => {
      // Version 9, which Kafka 4's classic clients send too; agent B never saw either member join.
      const answer = await call(offsetCommitApi, agentB, 9, {
        groupId: "g",
        generationIdOrMemberEpoch,
        memberId,
        topics: [{ name: TOPIC, partitions: [{ partitionIndex: 0, committedOffset: 0 }] }],
      });
      return answer.topics[0].partitions[0].errorCode;
    };
    expect(classicMembersOf(agentB.groups).get("g", classic.memberId)).toBeUndefined();
    // Kafka's answer to a classic member: it rejoins, where STALE_MEMBER_EPOCH would be fatal to it.
    expect(await commitThroughB(classic.memberId, classic.generationId + 5)).toBe(
      ERROR_NUMBERS.ILLEGAL_GENERATION,
    );
    expect(await commitThroughB(modern.memberId, modern.memberEpoch + 5)).toBe(
      ERROR_NUMBERS.STALE_MEMBER_EPOCH,
    );
    expect(await commitThroughB("nobody", 3)).toBe(ERROR_NUMBERS.UNKNOWN_MEMBER_ID);
  });

  it("leaves with a v0 LeaveGroup too", async () => {
    const a = await newMember(agentA);
    expect((await call(leaveGroupApi, agentA, 0, { groupId: "g", memberId: a.memberId })).errorCode).toBe(0);
    expect((await agentA.groups.describe("g")).members).toEqual([]);
    const again = await call(leaveGroupApi, agentA, 1, { groupId: "g", memberId: a.memberId });
    expect(again.errorCode).toBe(ERROR_NUMBERS.UNKNOWN_MEMBER_ID);
  });

  it("keeps a cooperative member's partitions across its rejoin", async () => {
    const a = await newMember(agentA);
    const owned = [{ topic: TOPIC, partitions: a.assignment }];
    const again = await rejoin(agentA, a.memberId, owned);
    expect(again.assignment).toEqual([0, 1, 2, 3, 4, 5]);
    expect(again.generationId).toBe(a.generationId);
    expect(await heartbeat(agentA, again)).toBe(0);
  });

  it("fences a stale generation and an unknown member as Kafka does", async () => {
    const a = await newMember(agentA);
    expect(await heartbeat(agentA, { ...a, generationId: a.generationId + 5 })).toBe(
      ERROR_NUMBERS.ILLEGAL_GENERATION,
    );
    expect(await heartbeat(agentA, { ...a, memberId: "someone-else" })).toBe(ERROR_NUMBERS.UNKNOWN_MEMBER_ID);
    const stale = await sync(agentA, a.memberId, a.generationId + 5);
    expect(stale.errorCode).toBe(ERROR_NUMBERS.ILLEGAL_GENERATION);
    expect((await sync(agentA, "", a.generationId)).errorCode).toBe(ERROR_NUMBERS.UNKNOWN_MEMBER_ID);
  });

  it("expires a member that stops heartbeating, after the coordinator's session timeout", async () => {
    const a = await newMember(agentA);
    const b = await newMember(agentA);
    const both = [a, b];
    await settle(agentA, both);
    // Only b keeps heartbeating.
    now += SESSION_MS / 2 + 1;
    expect(await heartbeat(agentA, both[1])).toBe(0);
    now += SESSION_MS / 2 + 1;
    // b's next heartbeat finds a expired: b is asked to rejoin and then takes everything.
    const members = [both[1]];
    await settle(agentA, members);
    expect(members[0].assignment).toEqual([0, 1, 2, 3, 4, 5]);
    expect(await heartbeat(agentA, both[0])).toBe(ERROR_NUMBERS.UNKNOWN_MEMBER_ID);
  });

  it("asks a member this agent does not remember to rejoin, and serves it from then on", async () => {
    const a = await newMember(agentA);
    // The client reconnects to another agent (or this one restarted).
    expect(await heartbeat(agentB, a)).toBe(ERROR_NUMBERS.REBALANCE_IN_PROGRESS);
    const members = [await rejoin(agentB, a.memberId)];
    expect(members[0].assignment).toEqual([0, 1, 2, 3, 4, 5]);
    await settle(agentB, members);
    expect(await heartbeat(agentB, members[0])).toBe(0);
  });

  it("answers a heartbeat sent between JoinGroup and SyncGroup without starting another rebalance", async () => {
    const first = await join(agentA, "");
    const joined = await join(agentA, first.memberId);
    const code = await heartbeat(agentA, {
      memberId: first.memberId,
      generationId: joined.generationId,
      assignment: [],
    });
    expect(code).toBe(0);
    const synced = await sync(agentA, first.memberId, joined.generationId, 5);
    expect(synced).toMatchObject({
      errorCode: 0,
      protocolType: "consumer",
      protocolName: "RoundRobinAssigner",
    });
    expect(partitionsOf(synced.assignment)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it("refuses a SyncGroup naming another protocol than the member joined with", async () => {
    const first = await join(agentA, "");
    const joined = await join(agentA, first.memberId);
    const wrong = await call(syncGroupApi, agentA, 5, {
      groupId: "g",
      generationId: joined.generationId,
      memberId: first.memberId,
      protocolType: "consumer",
      protocolName: "range",
      assignments: [],
    });
    expect(wrong.errorCode).toBe(ERROR_NUMBERS.INCONSISTENT_GROUP_PROTOCOL);
  });
});
