import { describe, expect, it } from "vitest";
import {
  kafkajsBytes,
  kafkajsRequest,
  kafkajsResponse,
  platformaticBytes,
  platformaticParse,
} from "../../support/independent-codecs.js";
import { MessageCodec } from "../../../src/kafka/protocol/codec.js";
import type { MessageInput, MessageSpec } from "../../../src/kafka/protocol/spec.js";
import {
  ConsumerGroupHeartbeatRequest,
  ConsumerGroupHeartbeatResponse,
} from "../../../src/kafka/protocol/messages/consumer-group-heartbeat.js";
import {
  FindCoordinatorRequest,
  FindCoordinatorResponse,
} from "../../../src/kafka/protocol/messages/find-coordinator.js";
import { HeartbeatRequest, HeartbeatResponse } from "../../../src/kafka/protocol/messages/heartbeat.js";
import { JoinGroupRequest, JoinGroupResponse } from "../../../src/kafka/protocol/messages/join-group.js";
import { LeaveGroupRequest, LeaveGroupResponse } from "../../../src/kafka/protocol/messages/leave-group.js";
import { SyncGroupRequest, SyncGroupResponse } from "../../../src/kafka/protocol/messages/sync-group.js";

const findCoordinatorRequest = new MessageCodec(FindCoordinatorRequest);
const findCoordinatorResponse = new MessageCodec(FindCoordinatorResponse);
const joinGroupRequest = new MessageCodec(JoinGroupRequest);
const joinGroupResponse = new MessageCodec(JoinGroupResponse);
const syncGroupRequest = new MessageCodec(SyncGroupRequest);
const syncGroupResponse = new MessageCodec(SyncGroupResponse);
const heartbeatRequest = new MessageCodec(HeartbeatRequest);
const heartbeatResponse = new MessageCodec(HeartbeatResponse);
const leaveGroupRequest = new MessageCodec(LeaveGroupRequest);
const leaveGroupResponse = new MessageCodec(LeaveGroupResponse);
const cghRequest = new MessageCodec(ConsumerGroupHeartbeatRequest);
const cghResponse = new MessageCodec(ConsumerGroupHeartbeatResponse);

const TOPIC_ID = "0b8a2a9e-1c1d-4c7a-9a0e-3c2f7f0e2b11";
const METADATA = Buffer.from([0, 1, 0, 0, 0, 1, 0, 1, 116, 255, 255, 255, 255]);

describe("FindCoordinator", () => {
  it("reads KafkaJS's requests (v0-v2) and answers what KafkaJS decodes", async () => {
    for (let v = 0; v <= 2; v++) {
      const bytes = await kafkajsBytes(
        kafkajsRequest("findCoordinator", v)({ groupId: "g", coordinatorKey: "g", coordinatorType: 1 }),
      );
      const decoded = findCoordinatorRequest.decode(v, bytes);
      expect(decoded.key).toBe("g");
      expect(decoded.keyType).toBe(v >= 1 ? 1 : 0);
      const response = findCoordinatorResponse.encode(v, {
        throttleTimeMs: 0,
        errorCode: 0,
        nodeId: 7,
        host: "localhost",
        port: 9092,
      });
      const parsed = await kafkajsResponse("findCoordinator", v).decode(response);
      expect(parsed.coordinator).toEqual({ nodeId: 7, host: "localhost", port: 9092 });
    }
  });

  it("reads platformatic's requests and answers what it parses, batched from v4 (v0-v6)", () => {
    for (let v = 0; v <= 6; v++) {
      const decoded = findCoordinatorRequest.decode(
        v,
        platformaticBytes("findCoordinator", v, 0, ["a", "b"]),
      );
      if (v >= 4) expect(decoded.coordinatorKeys).toEqual(["a", "b"]);
      else expect(decoded.key).toBe("a");
      const coordinator = { nodeId: 3, host: "h", port: 1234, errorCode: 0, errorMessage: null };
      const bytes = findCoordinatorResponse.encode(
        v,
        v >= 4 ? { coordinators: [{ key: "a", ...coordinator }] } : { ...coordinator },
      );
      const parsed = platformaticParse("findCoordinator", 10, v, bytes);
      // platformatic reads the single answer of v0-v3 into the same list as v4's.
      const got = parsed.coordinators[0];
      expect(got).toMatchObject({ nodeId: 3, host: "h", port: 1234, errorCode: 0 });
      if (v >= 4) expect(got.key).toBe("a");
    }
  });
});

describe("JoinGroup", () => {
  it("reads KafkaJS's requests and answers what KafkaJS decodes (v2-v5)", async () => {
    for (let v = 2; v <= 5; v++) {
      const bytes = await kafkajsBytes(
        kafkajsRequest(
          "joinGroup",
          v,
        )({
          groupId: "g",
          sessionTimeout: 30000,
          rebalanceTimeout: 60000,
          memberId: "m",
          protocolType: "consumer",
          groupProtocols: [{ name: "RoundRobinAssigner", metadata: METADATA }],
        }),
      );
      const decoded = joinGroupRequest.decode(v, bytes);
      expect(decoded).toMatchObject({
        groupId: "g",
        sessionTimeoutMs: 30000,
        rebalanceTimeoutMs: 60000,
        memberId: "m",
        protocolType: "consumer",
      });
      expect(decoded.protocols).toEqual([{ name: "RoundRobinAssigner", metadata: new Uint8Array(METADATA) }]);
      const response = joinGroupResponse.encode(v, {
        generationId: 4,
        protocolName: "RoundRobinAssigner",
        leader: "",
        memberId: "m",
        members: [],
      });
      const parsed = await kafkajsResponse("joinGroup", v).decode(response);
      expect(parsed).toMatchObject({
        errorCode: 0,
        generationId: 4,
        groupProtocol: "RoundRobinAssigner",
        leaderId: "",
        memberId: "m",
        members: [],
      });
    }
  });

  it("answers MEMBER_ID_REQUIRED with the id KafkaJS rejoins with (v4, v5)", async () => {
    for (let v = 4; v <= 5; v++) {
      const response = joinGroupResponse.encode(v, {
        errorCode: 79,
        memberId: "new-id",
        leader: "",
        members: [],
      });
      const parsed = await kafkajsResponse("joinGroup", v).decode(response);
      await expect(kafkajsResponse("joinGroup", v).parse(parsed)).rejects.toMatchObject({
        memberId: "new-id",
      });
    }
  });

  it("reads platformatic's requests and answers what it parses (v2-v9)", () => {
    for (let v = 2; v <= 9; v++) {
      const bytes = platformaticBytes(
        "joinGroup",
        v,
        "g",
        45000,
        300000,
        "m",
        "inst",
        "consumer",
        [
          { name: "range", metadata: METADATA },
          { name: "cooperative-sticky", metadata: METADATA },
        ],
        "why",
      );
      const decoded = joinGroupRequest.decode(v, bytes);
      expect(decoded.protocols.map((p) => p.name)).toEqual(["range", "cooperative-sticky"]);
      expect(decoded.groupInstanceId).toBe(v >= 5 ? "inst" : null);
      expect(decoded.reason).toBe(v >= 8 ? "why" : null);
      const response = joinGroupResponse.encode(v, {
        generationId: 2,
        protocolType: "consumer",
        protocolName: "range",
        leader: "",
        memberId: "m",
        members: [],
      });
      const parsed = platformaticParse("joinGroup", 11, v, response);
      expect(parsed).toMatchObject({ generationId: 2, protocolName: "range", leader: "", memberId: "m" });
      if (v >= 7) expect(parsed.protocolType).toBe("consumer");
      if (v >= 9) expect(parsed.skipAssignment).toBe(false);
    }
  });
});

describe("SyncGroup", () => {
  it("reads KafkaJS's requests and answers what KafkaJS decodes (v0-v3)", async () => {
    for (let v = 0; v <= 3; v++) {
      const bytes = await kafkajsBytes(
        kafkajsRequest(
          "syncGroup",
          v,
        )({
          groupId: "g",
          generationId: 5,
          memberId: "m",
          groupAssignment: [{ memberId: "m", memberAssignment: METADATA }],
        }),
      );
      const decoded = syncGroupRequest.decode(v, bytes);
      expect(decoded).toMatchObject({ groupId: "g", generationId: 5, memberId: "m" });
      expect(decoded.assignments).toEqual([{ memberId: "m", assignment: new Uint8Array(METADATA) }]);
      const parsed = await kafkajsResponse("syncGroup", v).decode(
        syncGroupResponse.encode(v, { assignment: METADATA }),
      );
      expect(parsed.errorCode).toBe(0);
      expect(Buffer.from(parsed.memberAssignment)).toEqual(METADATA);
    }
  });

  it("reads platformatic's requests and answers what it parses (v0-v5)", () => {
    for (let v = 0; v <= 5; v++) {
      const bytes = platformaticBytes("syncGroup", v, "g", 5, "m", null, "consumer", "range", []);
      expect(syncGroupRequest.decode(v, bytes)).toMatchObject({
        generationId: 5,
        protocolType: v >= 5 ? "consumer" : null,
        protocolName: v >= 5 ? "range" : null,
      });
      const parsed = platformaticParse(
        "syncGroup",
        14,
        v,
        syncGroupResponse.encode(v, {
          protocolType: "consumer",
          protocolName: "range",
          assignment: METADATA,
        }),
      );
      expect(Buffer.from(parsed.assignment)).toEqual(METADATA);
      if (v >= 5) expect(parsed).toMatchObject({ protocolType: "consumer", protocolName: "range" });
    }
  });
});

describe("Heartbeat", () => {
  it("reads KafkaJS's (v0-v3) and platformatic's (v0-v4) requests, answers both read", async () => {
    for (let v = 0; v <= 3; v++) {
      const bytes = await kafkajsBytes(
        kafkajsRequest("heartbeat", v)({ groupId: "g", groupGenerationId: 9, memberId: "m" }),
      );
      expect(heartbeatRequest.decode(v, bytes)).toMatchObject({
        groupId: "g",
        generationId: 9,
        memberId: "m",
      });
      const parsed = await kafkajsResponse("heartbeat", v).decode(
        heartbeatResponse.encode(v, { errorCode: 27 }),
      );
      expect(parsed.errorCode).toBe(27);
    }
    for (let v = 0; v <= 4; v++) {
      const bytes = platformaticBytes("heartbeat", v, "g", 9, "m", "inst");
      expect(heartbeatRequest.decode(v, bytes)).toMatchObject({
        generationId: 9,
        groupInstanceId: v >= 3 ? "inst" : null,
      });
      expect(
        platformaticParse("heartbeat", 12, v, heartbeatResponse.encode(v, { errorCode: 27 })),
      ).toMatchObject({
        errorCode: 27,
      });
    }
  });
});

describe("LeaveGroup", () => {
  it("reads KafkaJS's requests and answers what KafkaJS decodes (v0-v3)", async () => {
    for (let v = 0; v <= 3; v++) {
      const bytes = await kafkajsBytes(
        kafkajsRequest("leaveGroup", v)({ groupId: "g", memberId: "m", members: [{ memberId: "m" }] }),
      );
      const decoded = leaveGroupRequest.decode(v, bytes);
      if (v >= 3) expect(decoded.members).toEqual([{ memberId: "m", groupInstanceId: null, reason: null }]);
      else expect(decoded.memberId).toBe("m");
      const parsed = await kafkajsResponse("leaveGroup", v).decode(
        leaveGroupResponse.encode(v, { errorCode: 0, members: [{ memberId: "m", errorCode: 25 }] }),
      );
      expect(parsed.errorCode).toBe(0);
      if (v >= 3) expect(parsed.members).toEqual([{ memberId: "m", groupInstanceId: null, errorCode: 25 }]);
    }
  });

  it("reads platformatic's requests and answers what it parses (v0-v5)", () => {
    for (let v = 0; v <= 5; v++) {
      const members = [{ memberId: "m", groupInstanceId: "i", reason: "bye" }];
      const decoded = leaveGroupRequest.decode(v, platformaticBytes("leaveGroup", v, "g", members));
      if (v >= 3) {
        expect(decoded.members).toEqual([
          { memberId: "m", groupInstanceId: "i", reason: v >= 5 ? "bye" : null },
        ]);
      } else expect(decoded.memberId).toBe("m");
      const parsed = platformaticParse(
        "leaveGroup",
        13,
        v,
        leaveGroupResponse.encode(v, { members: [{ memberId: "m", groupInstanceId: "i", errorCode: 0 }] }),
      );
      expect(parsed.errorCode).toBe(0);
      if (v >= 3) expect(parsed.members).toEqual([{ memberId: "m", groupInstanceId: "i", errorCode: 0 }]);
    }
  });
});

describe("ConsumerGroupHeartbeat", () => {
  it("reads platformatic's requests, the regex from v1 (v0-v1)", () => {
    for (let v = 0; v <= 1; v++) {
      const bytes = platformaticBytes(
        "consumerGroupHeartbeat",
        v,
        "g",
        "m",
        3,
        null,
        "rack",
        45000,
        ["t"],
        "t.*",
        "uniform",
        [{ topicId: TOPIC_ID, partitions: [0, 2] }],
      );
      expect(cghRequest.decode(v, bytes)).toEqual({
        groupId: "g",
        memberId: "m",
        memberEpoch: 3,
        instanceId: null,
        rackId: "rack",
        rebalanceTimeoutMs: 45000,
        subscribedTopicNames: ["t"],
        subscribedTopicRegex: v >= 1 ? "t.*" : null,
        serverAssignor: "uniform",
        topicPartitions: [{ topicId: TOPIC_ID, partitions: [0, 2] }],
      });
    }
    // "Unchanged" is null on the wire, and stays null.
    const unchanged = cghRequest.decode(
      1,
      platformaticBytes("consumerGroupHeartbeat", 1, "g", "m", 3, null, null, -1, null, null, null, null),
    );
    expect(unchanged).toMatchObject({
      subscribedTopicNames: null,
      subscribedTopicRegex: null,
      topicPartitions: null,
    });
  });

  it("answers platformatic reads, with an assignment and with none (v0-v1)", () => {
    for (let v = 0; v <= 1; v++) {
      const withAssignment = platformaticParse(
        "consumerGroupHeartbeat",
        68,
        v,
        cghResponse.encode(v, {
          memberId: "m",
          memberEpoch: 4,
          heartbeatIntervalMs: 5000,
          assignment: { topicPartitions: [{ topicId: TOPIC_ID, partitions: [1] }] },
        }),
      );
      expect(withAssignment).toMatchObject({
        errorCode: 0,
        memberId: "m",
        memberEpoch: 4,
        heartbeatIntervalMs: 5000,
        assignment: { topicPartitions: [{ topicId: TOPIC_ID, partitions: [1] }] },
      });
      const fenced = platformaticParse(
        "consumerGroupHeartbeat",
        68,
        v,
        cghResponse.encode(v, { errorCode: 110, errorMessage: "fenced", memberEpoch: 4 }),
      );
      expect(fenced).toMatchObject({
        errorCode: 110,
        errorMessage: "fenced",
        memberId: null,
        assignment: null,
      });
    }
  });

  it("round-trips the nullable assignment struct", () => {
    for (const assignment of [
      null,
      { topicPartitions: [] },
      { topicPartitions: [{ topicId: TOPIC_ID, partitions: [0] }] },
    ]) {
      const decoded = cghResponse.decode(1, cghResponse.encode(1, { memberEpoch: 1, assignment }));
      expect(decoded.assignment).toEqual(assignment);
    }
    // Absent from the value means null, the description's default.
    expect(cghResponse.decode(0, cghResponse.encode(0, { memberEpoch: 1 })).assignment).toBe(null);
  });
});

/** Encoding what was decoded gives the same bytes, at every version the description has. */
function roundTrips<M extends MessageSpec>(codec: MessageCodec<M>, value: MessageInput<M>): void {
  for (let v = codec.low; v <= codec.high; v++) {
    const once = codec.encode(v, value);
    expect(codec.encode(v, codec.decode(v, once))).toEqual(once);
  }
}

describe("every version of every group message round-trips through our own codecs", () => {
  it("requests and responses", () => {
    roundTrips(findCoordinatorRequest, { key: "g", keyType: 0, coordinatorKeys: ["g"] });
    roundTrips(joinGroupRequest, {
      groupId: "g",
      sessionTimeoutMs: 1,
      rebalanceTimeoutMs: 2,
      memberId: "m",
      protocolType: "consumer",
      protocols: [{ name: "range", metadata: new Uint8Array([1]) }],
    });
    roundTrips(joinGroupResponse, {
      generationId: 1,
      protocolName: "range",
      leader: "",
      memberId: "m",
      members: [],
    });
    roundTrips(syncGroupRequest, { groupId: "g", generationId: 1, memberId: "m", assignments: [] });
    roundTrips(syncGroupResponse, { assignment: new Uint8Array([0, 0]) });
    roundTrips(heartbeatRequest, { groupId: "g", generationId: 1, memberId: "m" });
    roundTrips(heartbeatResponse, { errorCode: 27 });
    roundTrips(leaveGroupRequest, { groupId: "g", memberId: "m", members: [{ memberId: "m" }] });
    roundTrips(leaveGroupResponse, { errorCode: 0, members: [] });
    roundTrips(cghRequest, { groupId: "g", memberId: "", memberEpoch: 0, subscribedTopicNames: ["t"] });
  });
});
