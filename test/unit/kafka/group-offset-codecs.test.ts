import { createRequire } from "node:module";
import {
  consumerGroupDescribeV0,
  decodeConsumerProtocolAssignment,
  decodeConsumerProtocolSubscription,
  deleteGroupsV2,
  describeGroupsV5,
  encodeConsumerProtocolAssignment,
  encodeConsumerProtocolSubscription,
  listGroupsV3,
  listGroupsV4,
  listGroupsV5,
  offsetCommitV8,
  offsetCommitV9,
  offsetDeleteV0,
  offsetFetchV6,
  offsetFetchV7,
  offsetFetchV8,
  offsetFetchV9,
} from "@platformatic/kafka";
import { describe, expect, it } from "vitest";
import {
  kafkajsBytes,
  kafkajsRequest,
  kafkajsResponse,
  platformaticBytes,
  platformaticParse,
} from "../../support/independent-codecs.js";
import { CorruptDataError } from "../../../src/errors.js";
import { MessageCodec } from "../../../src/kafka/protocol/codec.js";
import {
  ConsumerGroupDescribeRequest,
  ConsumerGroupDescribeResponse,
} from "../../../src/kafka/protocol/messages/consumer-group-describe.js";
import {
  assignmentCodec,
  readConsumerProtocol,
  subscriptionCodec,
  writeConsumerProtocol,
} from "../../../src/kafka/protocol/messages/consumer-protocol.js";
import {
  DeleteGroupsRequest,
  DeleteGroupsResponse,
} from "../../../src/kafka/protocol/messages/delete-groups.js";
import {
  AUTHORIZED_OPERATIONS_OMITTED,
  DescribeGroupsRequest,
  DescribeGroupsResponse,
} from "../../../src/kafka/protocol/messages/describe-groups.js";
import { ListGroupsRequest, ListGroupsResponse } from "../../../src/kafka/protocol/messages/list-groups.js";
import {
  OffsetCommitRequest,
  OffsetCommitResponse,
} from "../../../src/kafka/protocol/messages/offset-commit.js";
import {
  OffsetDeleteRequest,
  OffsetDeleteResponse,
} from "../../../src/kafka/protocol/messages/offset-delete.js";
import {
  OffsetFetchRequest,
  OffsetFetchResponse,
} from "../../../src/kafka/protocol/messages/offset-fetch.js";

const require = createRequire(import.meta.url);
const { MemberMetadata, MemberAssignment } = require("kafkajs").AssignerProtocol;

const TOPIC_ID = "0b8a2a9e-1c1d-4c7a-9a0e-3c2f7f0e2b11";

describe("OffsetCommit (8) codecs", () => {
  const req = new MessageCodec(OffsetCommitRequest);
  const res = new MessageCodec(OffsetCommitResponse);

  it("serves versions 2 to 9", () => {
    expect([req.low, req.high]).toEqual([2, 9]);
    expect(req.supports(1)).toBe(false);
  });

  it("decodes KafkaJS's requests (v2-v5): generation, member, retention only in 2-4, null metadata", async () => {
    for (let v = 2; v <= 5; v++) {
      const bytes = await kafkajsBytes(
        kafkajsRequest(
          "offsetCommit",
          v,
        )({
          groupId: "g",
          groupGenerationId: 7,
          memberId: "m-1",
          retentionTime: 86_400_000,
          topics: [
            {
              topic: "t",
              partitions: [
                { partition: 0, offset: "42" },
                { partition: 3, offset: "9", metadata: "note" },
              ],
            },
          ],
        }),
      );
      const decoded = req.decode(v, bytes);
      expect(decoded).toMatchObject({ groupId: "g", generationIdOrMemberEpoch: 7, memberId: "m-1" });
      expect(decoded.retentionTimeMs).toBe(v <= 4 ? 86_400_000 : -1);
      expect(decoded.groupInstanceId).toBe(null);
      expect(decoded.topics).toEqual([
        {
          name: "t",
          partitions: [
            { partitionIndex: 0, committedOffset: 42, committedLeaderEpoch: -1, committedMetadata: null },
            { partitionIndex: 3, committedOffset: 9, committedLeaderEpoch: -1, committedMetadata: "note" },
          ],
        },
      ]);
    }
  });

  it("writes responses KafkaJS reads (v2-v5), error codes per partition", async () => {
    for (let v = 2; v <= 5; v++) {
      const bytes = res.encode(v, {
        throttleTimeMs: 5,
        topics: [{ name: "t", partitions: [{ partitionIndex: 1, errorCode: 0 }] }],
      });
      const decoded = await kafkajsResponse("offsetCommit", v).decode(bytes);
      expect(decoded.responses).toEqual([{ topic: "t", partitions: [{ partition: 1, errorCode: 0 }] }]);
      // From v4 KafkaJS reads the throttle as the client's to apply (the broker no longer waits).
      if (v >= 3) expect(v === 3 ? decoded.throttleTime : decoded.clientSideThrottleTime).toBe(5);
      const failed = res.encode(v, {
        topics: [{ name: "t", partitions: [{ partitionIndex: 1, errorCode: 22 }] }],
      });
      await expect(
        kafkajsResponse("offsetCommit", v).parse(await kafkajsResponse("offsetCommit", v).decode(failed)),
      ).rejects.toMatchObject({ type: "ILLEGAL_GENERATION" });
    }
  });

  it("decodes platformatic's flexible requests (v8, v9) with instance id and leader epoch", () => {
    for (const [v, api] of [
      [8, offsetCommitV8],
      [9, offsetCommitV9],
    ] as const) {
      const bytes = platformaticBytes(api, "g", 3, "member", "instance", [
        {
          name: "t",
          partitions: [
            { partitionIndex: 2, committedOffset: 10n, committedLeaderEpoch: 4, committedMetadata: null },
          ],
        },
      ]);
      expect(req.decode(v, bytes)).toEqual({
        groupId: "g",
        generationIdOrMemberEpoch: 3,
        memberId: "member",
        groupInstanceId: "instance",
        retentionTimeMs: -1,
        topics: [
          {
            name: "t",
            partitions: [
              { partitionIndex: 2, committedOffset: 10, committedLeaderEpoch: 4, committedMetadata: null },
            ],
          },
        ],
      });
      const parsed = platformaticParse(
        api,
        8,
        v,
        res.encode(v, { topics: [{ name: "t", partitions: [{ partitionIndex: 2, errorCode: 113 }] }] }),
      );
      expect(parsed.topics).toEqual([{ name: "t", partitions: [{ partitionIndex: 2, errorCode: 113 }] }]);
    }
  });

  it("round-trips every served version", () => {
    for (let v = req.low; v <= req.high; v++) {
      const value = {
        groupId: "g",
        generationIdOrMemberEpoch: 12,
        memberId: "m",
        groupInstanceId: v >= 7 ? "i" : null,
        retentionTimeMs: v <= 4 ? 1000 : -1,
        topics: [
          {
            name: "t",
            partitions: [
              {
                partitionIndex: 0,
                committedOffset: 2 ** 40,
                committedLeaderEpoch: v >= 6 ? 3 : -1,
                committedMetadata: "x".repeat(300),
              },
            ],
          },
        ],
      };
      expect(req.decode(v, req.encode(v, value))).toEqual(value);
    }
  });
});

describe("OffsetFetch (9) codecs", () => {
  const req = new MessageCodec(OffsetFetchRequest);
  const res = new MessageCodec(OffsetFetchResponse);

  it("serves versions 1 to 9", () => {
    expect([req.low, req.high]).toEqual([1, 9]);
  });

  it("decodes KafkaJS's requests (v1-v4)", async () => {
    for (let v = 1; v <= 4; v++) {
      const bytes = await kafkajsBytes(
        kafkajsRequest(
          "offsetFetch",
          v,
        )({
          groupId: "g",
          topics: [{ topic: "t", partitions: [{ partition: 0 }, { partition: 5 }] }],
        }),
      );
      const decoded = req.decode(v, bytes);
      expect(decoded.groupId).toBe("g");
      expect(decoded.topics).toEqual([{ name: "t", partitionIndexes: [0, 5] }]);
      expect(decoded.groups).toEqual([]);
    }
  });

  it("writes responses KafkaJS reads (v1-v4): offsets, metadata, -1 for nothing committed, group error from v2", async () => {
    for (let v = 1; v <= 4; v++) {
      const bytes = res.encode(v, {
        topics: [
          {
            name: "t",
            partitions: [
              { partitionIndex: 0, committedOffset: 17, metadata: "m", errorCode: 0 },
              { partitionIndex: 5, committedOffset: -1, metadata: "", errorCode: 0 },
            ],
          },
        ],
        errorCode: 0,
      });
      const decoded = await kafkajsResponse("offsetFetch", v).decode(bytes);
      expect(decoded.responses).toEqual([
        {
          topic: "t",
          partitions: [
            { partition: 0, offset: "17", metadata: "m", errorCode: 0 },
            { partition: 5, offset: "-1", metadata: "", errorCode: 0 },
          ],
        },
      ]);
      if (v >= 2) {
        const failed = await kafkajsResponse("offsetFetch", v).decode(
          res.encode(v, { topics: [], errorCode: 24 }),
        );
        expect(failed.errorCode).toBe(24);
      }
    }
  });

  it("reads null topics (all of them) from version 2, and refuses them in version 1", () => {
    expect(req.decode(2, req.encode(2, { groupId: "g", topics: null })).topics).toBe(null);
    expect(() => req.decode(1, req.encode(2, { groupId: "g", topics: null }))).toThrow(CorruptDataError);
  });

  it("decodes platformatic's flexible requests (v6, v7) and writes what it reads, leader epoch included", () => {
    for (const [v, api] of [
      [6, offsetFetchV6],
      [7, offsetFetchV7],
    ] as const) {
      const bytes = platformaticBytes(
        api,
        [{ groupId: "g", topics: [{ name: "t", partitionIndexes: [1] }] }],
        true,
      );
      const decoded = req.decode(v, bytes);
      expect(decoded.groupId).toBe("g");
      expect(decoded.topics).toEqual([{ name: "t", partitionIndexes: [1] }]);
      expect(decoded.requireStable).toBe(v >= 7);
      const parsed = platformaticParse(
        api,
        9,
        v,
        res.encode(v, {
          throttleTimeMs: 0,
          topics: [
            {
              name: "t",
              partitions: [{ partitionIndex: 1, committedOffset: 8, metadata: null, errorCode: 0 }],
            },
          ],
          errorCode: 0,
        }),
      );
      expect(parsed.topics[0].partitions[0]).toMatchObject({
        partitionIndex: 1,
        committedOffset: 8n,
        committedLeaderEpoch: -1,
        metadata: null,
      });
    }
  });

  it("decodes platformatic's batched requests (v8, v9) with member id, epoch and null topics", () => {
    const groups = [
      { groupId: "a", memberId: "m", memberEpoch: 4, topics: [{ name: "t", partitionIndexes: [0, 1] }] },
      { groupId: "b", memberId: null, memberEpoch: -1, topics: null },
    ];
    for (const [v, api] of [
      [8, offsetFetchV8],
      [9, offsetFetchV9],
    ] as const) {
      const decoded = req.decode(v, platformaticBytes(api, groups, false));
      expect(decoded.groups).toEqual([
        {
          groupId: "a",
          memberId: v >= 9 ? "m" : null,
          memberEpoch: v >= 9 ? 4 : -1,
          topics: [{ name: "t", partitionIndexes: [0, 1] }],
        },
        { groupId: "b", memberId: null, memberEpoch: -1, topics: null },
      ]);
      const parsed = platformaticParse(
        api,
        9,
        v,
        res.encode(v, {
          groups: [
            {
              groupId: "a",
              topics: [
                {
                  name: "t",
                  partitions: [{ partitionIndex: 0, committedOffset: 3, metadata: "", errorCode: 0 }],
                },
              ],
              errorCode: 0,
            },
            { groupId: "b", topics: [], errorCode: 69 },
          ],
        }),
      );
      expect(
        parsed.groups.map((g: { groupId: string; errorCode: number }) => [g.groupId, g.errorCode]),
      ).toEqual([
        ["a", 0],
        ["b", 69],
      ]);
      expect(parsed.groups[0].topics[0].partitions[0]).toMatchObject({
        committedOffset: 3n,
        committedLeaderEpoch: -1,
      });
    }
  });
});

describe("OffsetDelete (47) codecs", () => {
  const req = new MessageCodec(OffsetDeleteRequest);
  const res = new MessageCodec(OffsetDeleteResponse);

  it("decodes platformatic's request and writes the response it reads", () => {
    const bytes = platformaticBytes(offsetDeleteV0, "g", [
      { name: "t", partitions: [{ partitionIndex: 0 }, { partitionIndex: 2 }] },
    ]);
    expect(req.decode(0, bytes)).toEqual({
      groupId: "g",
      topics: [{ name: "t", partitions: [{ partitionIndex: 0 }, { partitionIndex: 2 }] }],
    });
    const parsed = platformaticParse(
      offsetDeleteV0,
      47,
      0,
      res.encode(0, {
        errorCode: 0,
        topics: [
          {
            name: "t",
            partitions: [
              { partitionIndex: 0, errorCode: 0 },
              { partitionIndex: 2, errorCode: 86 },
            ],
          },
        ],
      }),
    );
    expect(parsed.topics[0].partitions).toEqual([
      { partitionIndex: 0, errorCode: 0 },
      { partitionIndex: 2, errorCode: 86 },
    ]);
  });
});

describe("ListGroups (16) codecs", () => {
  const req = new MessageCodec(ListGroupsRequest);
  const res = new MessageCodec(ListGroupsResponse);
  const groups = [{ groupId: "g", protocolType: "consumer", groupState: "Stable", groupType: "consumer" }];

  it("decodes KafkaJS's requests and writes responses it reads (v0-v2)", async () => {
    for (let v = 0; v <= 2; v++) {
      expect(req.decode(v, await kafkajsBytes(kafkajsRequest("listGroups", v)()))).toEqual({
        statesFilter: [],
        typesFilter: [],
      });
      const decoded = await kafkajsResponse("listGroups", v).decode(res.encode(v, { errorCode: 0, groups }));
      expect(decoded.groups).toEqual([{ groupId: "g", protocolType: "consumer" }]);
      expect(decoded.errorCode).toBe(0);
    }
  });

  it("decodes platformatic's filters (states from v4, types from v5) and writes state and type", () => {
    for (const [v, api] of [
      [3, listGroupsV3],
      [4, listGroupsV4],
      [5, listGroupsV5],
    ] as const) {
      const decoded = req.decode(v, platformaticBytes(api, ["STABLE", "Empty"], ["consumer"]));
      expect(decoded.statesFilter).toEqual(v >= 4 ? ["Stable", "Empty"] : []);
      expect(decoded.typesFilter).toEqual(v >= 5 ? ["consumer"] : []);
      const parsed = platformaticParse(api, 16, v, res.encode(v, { errorCode: 0, groups }));
      expect(parsed.groups[0]).toMatchObject({ groupId: "g", protocolType: "consumer" });
      if (v >= 4) expect(parsed.groups[0].groupState).toBe("Stable");
      if (v >= 5) expect(parsed.groups[0].groupType).toBe("consumer");
    }
  });

  it("reads platformatic's null type filter (no types given) as no filter, though Kafka declares it non-nullable", () => {
    const decoded = req.decode(5, platformaticBytes(listGroupsV5, [], undefined as unknown as string[]));
    expect(decoded.typesFilter).toBe(null);
    expect(decoded.statesFilter).toEqual([]);
  });
});

describe("DescribeGroups (15) codecs", () => {
  const req = new MessageCodec(DescribeGroupsRequest);
  const res = new MessageCodec(DescribeGroupsResponse);
  const metadata = writeConsumerProtocol(subscriptionCodec, 1, {
    topics: ["t"],
    userData: null,
    ownedPartitions: [{ topic: "t", partitions: [0, 1] }],
  });
  const assignment = writeConsumerProtocol(assignmentCodec, 0, {
    assignedPartitions: [{ topic: "t", partitions: [0, 1] }],
    userData: null,
  });
  const group = {
    errorCode: 0,
    groupId: "g",
    groupState: "Stable",
    protocolType: "consumer",
    protocolData: "uniform",
    members: [
      {
        memberId: "m",
        groupInstanceId: null,
        clientId: "c",
        clientHost: "",
        memberMetadata: metadata,
        memberAssignment: assignment,
      },
    ],
  };

  it("decodes KafkaJS's requests and writes responses it reads (v0-v2), payloads its AssignerProtocol decodes", async () => {
    for (let v = 0; v <= 2; v++) {
      expect(
        req.decode(v, await kafkajsBytes(kafkajsRequest("describeGroups", v)({ groupIds: ["a", "b"] }))),
      ).toEqual({
        groups: ["a", "b"],
        includeAuthorizedOperations: false,
      });
      const decoded = await kafkajsResponse("describeGroups", v).decode(res.encode(v, { groups: [group] }));
      const [g] = decoded.groups;
      expect(g).toMatchObject({
        groupId: "g",
        state: "Stable",
        protocolType: "consumer",
        protocol: "uniform",
      });
      expect(g.members[0]).toMatchObject({ memberId: "m", clientId: "c", clientHost: "" });
      expect(MemberMetadata.decode(g.members[0].memberMetadata)).toMatchObject({ version: 1, topics: ["t"] });
      expect(MemberAssignment.decode(g.members[0].memberAssignment)).toEqual({
        version: 0,
        assignment: { t: [0, 1] },
        userData: null,
      });
    }
  });

  it("writes platformatic's flexible version (v5), whose consumer protocol decoders read the payloads", () => {
    expect(req.decode(5, platformaticBytes(describeGroupsV5, ["g"], true))).toEqual({
      groups: ["g"],
      includeAuthorizedOperations: true,
    });
    const parsed = platformaticParse(
      describeGroupsV5,
      15,
      5,
      res.encode(5, { groups: [{ ...group, authorizedOperations: 328 }] }),
    );
    const member = parsed.groups[0].members[0];
    expect(member).toMatchObject({ memberId: "m", groupInstanceId: null, clientId: "c" });
    expect(parsed.groups[0].authorizedOperations).toBe(328);
    expect(decodeConsumerProtocolSubscription(member.memberMetadata)).toMatchObject({
      version: 1,
      topics: ["t"],
      ownedPartitions: [{ topic: "t", partitions: [0, 1] }],
    });
    expect(decodeConsumerProtocolAssignment(member.memberAssignment).assignedPartitions).toEqual([
      { topic: "t", partitions: [0, 1] },
    ]);
  });

  it("leaves authorized operations at Kafka's 'not asked' value unless set", () => {
    expect(res.decode(3, res.encode(3, { groups: [group] })).groups[0].authorizedOperations).toBe(
      AUTHORIZED_OPERATIONS_OMITTED,
    );
  });
});

describe("ConsumerGroupDescribe (69) codecs", () => {
  const req = new MessageCodec(ConsumerGroupDescribeRequest);
  const res = new MessageCodec(ConsumerGroupDescribeResponse);
  const member = {
    memberId: "m",
    memberEpoch: 5,
    clientId: "c",
    clientHost: "",
    subscribedTopicNames: ["t"],
    subscribedTopicRegex: null,
    assignment: { topicPartitions: [{ topicId: TOPIC_ID, topicName: "t", partitions: [0, 2] }] },
    targetAssignment: { topicPartitions: [{ topicId: TOPIC_ID, topicName: "t", partitions: [0] }] },
  };
  const group = {
    errorCode: 0,
    groupId: "g",
    groupState: "Reconciling",
    groupEpoch: 4,
    assignmentEpoch: 4,
    assignorName: "uniform",
    members: [member],
  };

  it("decodes platformatic's request and writes the v0 response it reads", () => {
    expect(req.decode(0, platformaticBytes(consumerGroupDescribeV0, ["g", "h"], false))).toEqual({
      groupIds: ["g", "h"],
      includeAuthorizedOperations: false,
    });
    const parsed = platformaticParse(consumerGroupDescribeV0, 69, 0, res.encode(0, { groups: [group] }));
    expect(parsed.groups[0]).toMatchObject({
      groupId: "g",
      groupState: "Reconciling",
      groupEpoch: 4,
      assignmentEpoch: 4,
      assignorName: "uniform",
      authorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
    });
    expect(parsed.groups[0].members[0]).toMatchObject({
      memberId: "m",
      instanceId: null,
      rackId: null,
      memberEpoch: 5,
      subscribedTopicNames: ["t"],
      subscribedTopicRegex: null,
      assignment: { topicPartitions: [{ topicId: TOPIC_ID, topicName: "t", partitions: [0, 2] }] },
      targetAssignment: { topicPartitions: [{ topicId: TOPIC_ID, topicName: "t", partitions: [0] }] },
    });
  });

  it("carries the member type from version 1 only", () => {
    const one = res.decode(
      1,
      res.encode(1, { groups: [{ ...group, members: [{ ...member, memberType: 1 }] }] }),
    );
    expect(one.groups[0].members[0].memberType).toBe(1);
    const zero = res.encode(0, { groups: [{ ...group, members: [{ ...member, memberType: 1 }] }] });
    expect(res.decode(0, zero).groups[0].members[0].memberType).toBe(-1);
    expect(zero.length).toBe(res.encode(1, { groups: [group] }).length - 1);
  });

  it("writes an error message next to an unknown group's code", () => {
    const bytes = res.encode(1, { groups: [{ errorCode: 69, errorMessage: "no such group", groupId: "x" }] });
    expect(res.decode(1, bytes).groups[0]).toMatchObject({ errorCode: 69, errorMessage: "no such group" });
  });
});

describe("DeleteGroups (42) codecs", () => {
  const req = new MessageCodec(DeleteGroupsRequest);
  const res = new MessageCodec(DeleteGroupsResponse);
  const results = [
    { groupId: "a", errorCode: 0 },
    { groupId: "b", errorCode: 68 },
  ];

  it("decodes KafkaJS's requests and writes responses it reads (v0, v1)", async () => {
    for (let v = 0; v <= 1; v++) {
      expect(req.decode(v, await kafkajsBytes(kafkajsRequest("deleteGroups", v)(["a", "b"])))).toEqual({
        groupsNames: ["a", "b"],
      });
      const decoded = await kafkajsResponse("deleteGroups", v).decode(res.encode(v, { results }));
      expect(
        decoded.results.map((r: { groupId: string; errorCode: number }) => [r.groupId, r.errorCode]),
      ).toEqual([
        ["a", 0],
        ["b", 68],
      ]);
      expect(decoded.results[1].error.type).toBe("NON_EMPTY_GROUP");
    }
  });

  it("decodes platformatic's flexible request (v2) and writes the response it reads", () => {
    expect(req.decode(2, platformaticBytes(deleteGroupsV2, ["a", "b"]))).toEqual({ groupsNames: ["a", "b"] });
    const parsed = platformaticParse(deleteGroupsV2, 42, 2, res.encode(2, { results }));
    expect(parsed.groups ?? parsed.results).toEqual(results);
  });
});

describe("consumer protocol payloads", () => {
  it("reads KafkaJS's subscriptions, including version 1 without the owned partitions it claims", () => {
    for (const version of [0, 1]) {
      const bytes = MemberMetadata.encode({ version, topics: ["a", "b"], userData: Buffer.from("u") });
      expect(readConsumerProtocol(subscriptionCodec, bytes)).toEqual({
        version,
        topics: ["a", "b"],
        userData: new Uint8Array(Buffer.from("u")),
        ownedPartitions: [],
        generationId: -1,
        rackId: null,
      });
    }
  });

  it("reads platformatic's subscriptions of every version, and versions newer than it knows with its newest layout", () => {
    for (let version = 0; version <= 3; version++) {
      const bytes = encodeConsumerProtocolSubscription({
        version,
        topics: ["t"],
        userData: Buffer.from([1, 2]),
        ownedPartitions: [{ topic: "t", partitions: [3] }],
        generationId: 9,
        rackId: "r",
      });
      const read = readConsumerProtocol(subscriptionCodec, bytes);
      expect(read.version).toBe(version);
      expect(read.topics).toEqual(["t"]);
      expect(read.ownedPartitions).toEqual(version >= 1 ? [{ topic: "t", partitions: [3] }] : []);
      expect(read.generationId).toBe(version >= 2 ? 9 : -1);
      expect(read.rackId).toBe(version >= 3 ? "r" : null);
    }
    const future = Buffer.concat([
      writeConsumerProtocol(subscriptionCodec, 3, { topics: ["t"], rackId: "r" }),
      Buffer.from([0, 0, 0, 7]),
    ]);
    future.writeInt16BE(5, 0);
    expect(readConsumerProtocol(subscriptionCodec, future)).toMatchObject({
      version: 5,
      topics: ["t"],
      rackId: "r",
    });
  });

  it("writes assignments platformatic and KafkaJS read, and reads theirs", () => {
    const ours = writeConsumerProtocol(assignmentCodec, 0, {
      assignedPartitions: [
        { topic: "a", partitions: [0, 2] },
        { topic: "b", partitions: [1] },
      ],
    });
    expect(MemberAssignment.decode(ours)).toEqual({
      version: 0,
      assignment: { a: [0, 2], b: [1] },
      userData: null,
    });
    expect(decodeConsumerProtocolAssignment(Buffer.from(ours)).assignedPartitions).toEqual([
      { topic: "a", partitions: [0, 2] },
      { topic: "b", partitions: [1] },
    ]);
    const theirs = MemberAssignment.encode({ version: 0, assignment: { a: [1] }, userData: Buffer.alloc(0) });
    expect(readConsumerProtocol(assignmentCodec, theirs)).toMatchObject({
      version: 0,
      assignedPartitions: [{ topic: "a", partitions: [1] }],
    });
    const platformatic = encodeConsumerProtocolAssignment({
      version: 3,
      assignedPartitions: [{ topic: "x", partitions: [4] }],
      userData: null,
    });
    expect(readConsumerProtocol(assignmentCodec, platformatic).assignedPartitions).toEqual([
      { topic: "x", partitions: [4] },
    ]);
  });

  it("refuses a negative version, a missing version and a truncated body", () => {
    const good = writeConsumerProtocol(subscriptionCodec, 0, { topics: ["t"] });
    const negative = Buffer.from(good);
    negative.writeInt16BE(-1, 0);
    expect(() => readConsumerProtocol(subscriptionCodec, negative)).toThrow(CorruptDataError);
    expect(() => readConsumerProtocol(subscriptionCodec, new Uint8Array(1))).toThrow(CorruptDataError);
    expect(() => readConsumerProtocol(subscriptionCodec, good.subarray(0, good.length - 2))).toThrow(
      CorruptDataError,
    );
  });
});
