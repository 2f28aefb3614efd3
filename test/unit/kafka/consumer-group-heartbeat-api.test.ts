import { beforeEach, describe, expect, it } from "vitest";
import { Broker } from "../../../src/broker/broker.js";
import { GroupCoordinator } from "../../../src/groups/coordinator.js";
import { consumerGroupHeartbeatApi } from "../../../src/kafka/apis/consumer-group-apis.js";
import { ERROR_NUMBERS } from "../../../src/kafka/error-codes.js";
import { type KafkaCore, NO_RESPONSE, type RequestContext } from "../../../src/kafka/kafka-api.js";
import type {
  ConsumerGroupHeartbeatRequest,
  ConsumerGroupHeartbeatResponse,
} from "../../../src/kafka/protocol/messages/consumer-group-heartbeat.js";
import type { MessageInput, MessageValue } from "../../../src/kafka/protocol/spec.js";
import { createBackend } from "../../../src/storage/backend.js";

// KIP-848's heartbeat over a real coordinator on the in-memory backend: ids on the wire, names inside.

const TOPIC = "orders";
let core: KafkaCore;
let topicId: string;

beforeEach(async () => {
  const backend = await createBackend({ storage: "memory" });
  const broker = new Broker(backend);
  topicId = (await broker.createTopic(TOPIC, 4)).topicId;
  const groups = new GroupCoordinator({
    meta: backend.meta,
    broker,
    sessionTimeoutMs: 30_000,
    heartbeatIntervalMs: 2_500,
  });
  core = {
    broker,
    groups,
    produce: () => Promise.reject(new Error("not in these tests")),
    node: () => ({ nodeId: 1, host: "h", port: 9092 }),
    clusterId: "c",
  };
});

async function heartbeat(
  version: number,
  input: MessageInput<typeof ConsumerGroupHeartbeatRequest>,
): Promise<MessageValue<typeof ConsumerGroupHeartbeatResponse>> {
  const api = consumerGroupHeartbeatApi;
  const request = api.request.decode(version, api.request.encode(version, { groupId: "g", ...input }));
  const ctx: RequestContext = {
    core,
    apiVersion: version,
    clientId: "cli",
    signal: new AbortController().signal,
    served: [],
  };
  const response = await api.handle(request, ctx);
  if (response === NO_RESPONSE) throw new Error("no answer");
  return api.response.decode(version, api.response.encode(version, response));
}

/** The partitions of the one topic in an answer's assignment. */
function partitionsIn(answer: MessageValue<typeof ConsumerGroupHeartbeatResponse>): number[] {
  return answer.assignment?.topicPartitions[0]?.partitions ?? [];
}

const owned = (partitions: number[]) => [{ topicId, partitions }];

describe("ConsumerGroupHeartbeat", () => {
  it("joins with a coordinator-chosen id (v0) or the client's own (v1), assigning by topic id", async () => {
    const first = await heartbeat(0, {
      memberId: "",
      memberEpoch: 0,
      subscribedTopicNames: [TOPIC],
      topicPartitions: [],
    });
    expect(first).toMatchObject({ errorCode: 0, errorMessage: null, heartbeatIntervalMs: 2_500 });
    expect(first.memberId).toMatch(/^[0-9a-f-]{36}$/);
    expect(first.memberEpoch).toBeGreaterThan(0);
    expect(first.assignment).toEqual({ topicPartitions: [{ topicId, partitions: [0, 1, 2, 3] }] });

    const second = await heartbeat(1, {
      memberId: "client-chosen",
      memberEpoch: 0,
      subscribedTopicRegex: "ord.*",
    });
    expect(second).toMatchObject({ errorCode: 0, memberId: "client-chosen" });
    // Everything is still the first member's until it says it let go.
    expect(second.assignment).toEqual({ topicPartitions: [] });

    const shrinking = await heartbeat(1, {
      memberId: String(first.memberId),
      memberEpoch: first.memberEpoch,
      topicPartitions: owned([0, 1, 2, 3]),
    });
    const kept = partitionsIn(shrinking);
    expect(kept).toHaveLength(2);
    const released = await heartbeat(1, {
      memberId: String(first.memberId),
      memberEpoch: shrinking.memberEpoch,
      topicPartitions: owned(kept),
    });
    expect(released.errorCode).toBe(0);
    const grown = await heartbeat(1, {
      memberId: "client-chosen",
      memberEpoch: second.memberEpoch,
      topicPartitions: [],
    });
    const theirs = partitionsIn(grown);
    expect([...kept, ...theirs].sort()).toEqual([0, 1, 2, 3]);
  });

  it("ignores owned partitions of a topic id nobody has", async () => {
    const joined = await heartbeat(1, { memberId: "m", memberEpoch: 0, subscribedTopicNames: [TOPIC] });
    const again = await heartbeat(1, {
      memberId: "m",
      memberEpoch: joined.memberEpoch,
      topicPartitions: [
        ...owned([0, 1, 2, 3]),
        { topicId: "0b8a2a9e-1c1d-4c7a-9a0e-3c2f7f0e2b11", partitions: [0] },
      ],
    });
    expect(again.errorCode).toBe(0);
    expect(partitionsIn(again)).toEqual([0, 1, 2, 3]);
  });

  it("refuses an assignor Floe does not have, and accepts the ones it has", async () => {
    const unknown = await heartbeat(1, {
      memberId: "m",
      memberEpoch: 0,
      subscribedTopicNames: [TOPIC],
      serverAssignor: "sticky",
    });
    expect(unknown.errorCode).toBe(ERROR_NUMBERS.UNSUPPORTED_ASSIGNOR);
    expect(unknown.errorMessage).toContain("sticky");
    for (const serverAssignor of ["uniform", "range"]) {
      const ok = await heartbeat(1, {
        memberId: `m-${serverAssignor}`,
        memberEpoch: 0,
        subscribedTopicNames: [TOPIC],
        serverAssignor,
      });
      expect(ok.errorCode).toBe(0);
    }
  });

  it("fences an epoch the member does not have, and knows no member that never joined", async () => {
    const joined = await heartbeat(1, { memberId: "m", memberEpoch: 0, subscribedTopicNames: [TOPIC] });
    const fenced = await heartbeat(1, {
      memberId: "m",
      memberEpoch: joined.memberEpoch + 3,
      topicPartitions: [],
    });
    expect(fenced.errorCode).toBe(ERROR_NUMBERS.FENCED_MEMBER_EPOCH);
    expect(fenced.errorMessage).toMatch(/epoch/);
    expect(fenced.assignment).toBe(null);
    const stranger = await heartbeat(1, { memberId: "stranger", memberEpoch: 4 });
    expect(stranger.errorCode).toBe(ERROR_NUMBERS.UNKNOWN_MEMBER_ID);
    const noTopics = await heartbeat(1, { memberId: "n", memberEpoch: 0 });
    expect(noTopics.errorCode).toBe(ERROR_NUMBERS.INVALID_REQUEST);
  });

  it("leaves on -1, and on a static member's -2 (Floe has no static membership)", async () => {
    for (const [memberId, epoch] of [
      ["a", -1],
      ["b", -2],
    ] as const) {
      await heartbeat(1, { memberId, memberEpoch: 0, subscribedTopicNames: [TOPIC], instanceId: "i" });
      const left = await heartbeat(1, { memberId, memberEpoch: epoch });
      expect(left).toMatchObject({ errorCode: 0, memberId, memberEpoch: -1, assignment: null });
    }
    expect((await core.groups.describe("g")).members).toEqual([]);
  });
});
