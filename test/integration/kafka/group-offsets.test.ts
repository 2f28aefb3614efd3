// biome-ignore-all lint/suspicious/noExplicitAny: platformatic's raw and admin answers are untyped; each is checked field by field.
import {
  Admin,
  Connection,
  Consumer,
  consumerGroupDescribeV0,
  offsetCommitV8,
  offsetCommitV9,
  offsetFetchV7,
  offsetFetchV9,
} from "@platformatic/kafka";
import kafkajs from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MessageCodec } from "../../../src/kafka/protocol/codec.js";
import {
  ConsumerGroupDescribeRequest,
  ConsumerGroupDescribeResponse,
} from "../../../src/kafka/protocol/messages/consumer-group-describe.js";
import type { DevServer } from "../../../src/server/dev-server.js";
import {
  apiCodes,
  call,
  kafkajsClient,
  RawKafka,
  rejection,
  startKafkaDevServer,
} from "./data-path-harness.js";

const { AssignerProtocol, Kafka } = kafkajs;

/** A platformatic raw response, whether it parsed cleanly or was thrown for an error code it holds. */
async function answer<T>(p: Promise<unknown>): Promise<T> {
  try {
    return (await p) as T;
  } catch (e) {
    const response = (e as { response?: unknown }).response;
    if (response === undefined) throw e;
    return response as T;
  }
}

interface CommitAnswer {
  topics: { name: string; partitions: { partitionIndex: number; errorCode: number }[] }[];
}

/** An OffsetCommit (v8 or v9, through platformatic's raw API) of one partition-0 offset of `topic`. */
function commitPartition0(
  api: typeof offsetCommitV9,
  target: { groupId: string; memberId: string; epoch: number },
  topic: string,
  offset: bigint,
): Promise<CommitAnswer> {
  return answer<CommitAnswer>(
    api.api.async(connection, target.groupId, target.epoch, target.memberId, null, [
      {
        name: topic,
        partitions: [
          { partitionIndex: 0, committedOffset: offset, committedLeaderEpoch: -1, committedMetadata: null },
        ],
      },
    ]),
  );
}

const codesOf = (a: CommitAnswer) =>
  Object.fromEntries(
    a.topics.flatMap((t) => t.partitions.map((p) => [`${t.name}/${p.partitionIndex}`, p.errorCode])),
  );

let server: DevServer;
let kafka: InstanceType<typeof Kafka>;
let admin: ReturnType<InstanceType<typeof Kafka>["admin"]>;
let platformatic: Admin;
let connection: Connection;
let n = 0;
const unique = (prefix: string) => `${prefix}-${++n}-${Math.random().toString(36).slice(2, 7)}`;

async function http(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

/** A topic with `perPartition` records in each of its partitions, created and filled over HTTP. */
async function topicWithRecords(partitions: number, perPartition: number): Promise<string> {
  const name = unique("t");
  expect((await http("POST", "/v1/topics", { name, partitions })).status).toBe(201);
  const records = [];
  for (let p = 0; p < partitions; p++) {
    for (let i = 0; i < perPartition; i++) records.push({ partition: p, value: `${p}:${i}` });
  }
  if (records.length > 0)
    expect((await http("POST", `/v1/topics/${name}/records`, { records })).status).toBe(200);
  return name;
}

/** Committed offsets as the HTTP API reports them: "topic/partition" → offset. */
async function httpOffsets(groupId: string): Promise<Record<string, number>> {
  const res = await http("GET", `/v1/groups/${groupId}/offsets`);
  expect(res.status).toBe(200);
  return Object.fromEntries(
    (res.body.offsets as { topic: string; partition: number; offset: number }[]).map((o) => [
      `${o.topic}/${o.partition}`,
      o.offset,
    ]),
  );
}

/** A member joined over HTTP that has taken up its assignment (so the group is Stable). */
async function httpMember(groupId: string, topics: string[], clientId = "http-member") {
  const joined = await http("POST", `/v1/groups/${groupId}/heartbeat`, {
    memberEpoch: 0,
    subscribedTopics: topics,
    clientId,
  });
  expect(joined.status).toBe(200);
  const acked = await http("POST", `/v1/groups/${groupId}/heartbeat`, {
    memberId: joined.body.memberId,
    memberEpoch: joined.body.memberEpoch,
    ownedPartitions: joined.body.assignment,
  });
  expect(acked.status).toBe(200);
  return acked.body as {
    memberId: string;
    memberEpoch: number;
    assignment: { topic: string; partitions: number[] }[];
  };
}

async function httpLeave(groupId: string, memberId: string): Promise<void> {
  expect((await http("POST", `/v1/groups/${groupId}/heartbeat`, { memberId, memberEpoch: -1 })).status).toBe(
    200,
  );
}

beforeAll(async () => {
  server = await startKafkaDevServer();
  kafka = kafkajsClient(server);
  admin = kafka.admin();
  await admin.connect();
  // Learn the broker list now: without retries, a first group lookup would find the pool empty.
  await admin.listTopics();
  platformatic = new Admin({
    clientId: "group-offsets-test",
    bootstrapBrokers: [server.kafka?.bootstrap as string],
    retries: 0,
  });
  connection = new Connection("group-offsets-raw");
  await call((cb) => connection.connect(server.kafka?.host as string, server.kafka?.port as number, cb));
});

afterAll(async () => {
  await admin?.disconnect();
  if (platformatic) await call((cb) => platformatic.close(cb));
  if (connection) await call((cb) => connection.close(cb));
  await server?.close();
});

describe("committed offsets over Kafka and HTTP", () => {
  it("an offset committed over HTTP is what KafkaJS and platformatic fetch, and one committed by platformatic is what HTTP reads", async () => {
    const topic = await topicWithRecords(3, 4);
    const groupId = unique("g");
    const committed = await http("POST", `/v1/groups/${groupId}/offsets`, {
      offsets: [{ topic, partition: 1, offset: 3, metadata: "from http" }],
    });
    expect(committed.status).toBe(200);

    expect(await admin.fetchOffsets({ groupId, topics: [topic] })).toEqual([
      {
        topic,
        partitions: [
          { partition: 0, offset: "-1", metadata: null },
          { partition: 1, offset: "3", metadata: "from http" },
          { partition: 2, offset: "-1", metadata: null },
        ],
      },
    ]);
    // Null topics (every committed offset) through OffsetFetch v9, batched.
    const listed = await call<{ groupId: string; topics: any[] }[]>((cb) =>
      platformatic.listConsumerGroupOffsets({ groups: [groupId] }, cb),
    );
    expect(listed).toEqual([
      {
        groupId,
        topics: [
          {
            name: topic,
            partitions: [
              { partitionIndex: 1, committedOffset: 3n, committedLeaderEpoch: -1, metadata: "from http" },
            ],
          },
        ],
      },
    ]);

    // A standalone commit (generation -1, no member id) at OffsetCommit v9.
    await call((cb) =>
      platformatic.alterConsumerGroupOffsets(
        {
          groupId,
          topics: [
            {
              name: topic,
              partitionOffsets: [
                { partition: 0, offset: 2n },
                { partition: 2, offset: 4n },
              ],
            },
          ],
        },
        cb,
      ),
    );
    expect(await httpOffsets(groupId)).toEqual({ [`${topic}/0`]: 2, [`${topic}/1`]: 3, [`${topic}/2`]: 4 });
  });

  it("KafkaJS admin sets and resets offsets (earliest, latest) through its own consumer, and HTTP sees each", async () => {
    const topic = await topicWithRecords(2, 3);
    const groupId = unique("g");
    await admin.setOffsets({
      groupId,
      topic,
      partitions: [
        { partition: 0, offset: "1" },
        { partition: 1, offset: "2" },
      ],
    });
    expect(await httpOffsets(groupId)).toEqual({ [`${topic}/0`]: 1, [`${topic}/1`]: 2 });
    // KafkaJS commits the logical offsets -2 and -1; Floe stores where they point.
    await admin.resetOffsets({ groupId, topic, earliest: true });
    expect(await httpOffsets(groupId)).toEqual({ [`${topic}/0`]: 0, [`${topic}/1`]: 0 });
    await admin.resetOffsets({ groupId, topic, earliest: false });
    expect(await httpOffsets(groupId)).toEqual({ [`${topic}/0`]: 3, [`${topic}/1`]: 3 });
    const [fetched] = await admin.fetchOffsets({ groupId, topics: [topic] });
    expect(fetched.partitions.map((p) => p.offset)).toEqual(["3", "3"]);
  }, 60_000);

  it("refuses partitions one by one: unknown partition or topic, oversized metadata, past the end; commits the rest", async () => {
    const topic = await topicWithRecords(2, 2);
    const groupId = unique("g");
    const result = await answer<CommitAnswer>(
      offsetCommitV9.api.async(connection, groupId, -1, "", null, [
        {
          name: topic,
          partitions: [
            { partitionIndex: 0, committedOffset: 1n, committedLeaderEpoch: 7, committedMetadata: "ok" },
            { partitionIndex: 1, committedOffset: 3n, committedLeaderEpoch: -1, committedMetadata: null },
            { partitionIndex: 5, committedOffset: 0n, committedLeaderEpoch: -1, committedMetadata: null },
          ],
        },
        {
          name: "no-such-topic",
          partitions: [
            { partitionIndex: 0, committedOffset: 0n, committedLeaderEpoch: -1, committedMetadata: null },
          ],
        },
      ]),
    );
    expect(codesOf(result)).toEqual({
      [`${topic}/0`]: 0,
      [`${topic}/1`]: 1, // OFFSET_OUT_OF_RANGE: its high-water mark is 2
      [`${topic}/5`]: 3, // UNKNOWN_TOPIC_OR_PARTITION
      "no-such-topic/0": 3,
    });
    const big = await answer<CommitAnswer>(
      offsetCommitV9.api.async(connection, groupId, -1, "", null, [
        {
          name: topic,
          partitions: [
            {
              partitionIndex: 1,
              committedOffset: 2n,
              committedLeaderEpoch: -1,
              committedMetadata: "x".repeat(4097),
            },
          ],
        },
      ]),
    );
    expect(codesOf(big)).toEqual({ [`${topic}/1`]: 12 }); // OFFSET_METADATA_TOO_LARGE
    expect(await httpOffsets(groupId)).toEqual({ [`${topic}/0`]: 1 });
  });

  it("a member commits with its epoch; a stale epoch is STALE_MEMBER_EPOCH at v9 and ILLEGAL_GENERATION to classic v8; strangers are refused", async () => {
    const topic = await topicWithRecords(1, 5);
    const groupId = unique("g");
    const member = await httpMember(groupId, [topic]);
    const commit = (api: typeof offsetCommitV9, memberId: string, epoch: number, offset: bigint) =>
      commitPartition0(api, { groupId, memberId, epoch }, topic, offset);
    const key = `${topic}/0`;
    expect(codesOf(await commit(offsetCommitV9, member.memberId, member.memberEpoch, 4n))).toEqual({
      [key]: 0,
    });
    expect(codesOf(await commit(offsetCommitV8, member.memberId, member.memberEpoch, 5n))).toEqual({
      [key]: 0,
    });
    expect(await httpOffsets(groupId)).toEqual({ [key]: 5 });

    expect(codesOf(await commit(offsetCommitV9, member.memberId, member.memberEpoch - 1, 1n))).toEqual({
      [key]: 113,
    });
    expect(codesOf(await commit(offsetCommitV8, member.memberId, member.memberEpoch - 1, 1n))).toEqual({
      [key]: 22,
    });
    expect(codesOf(await commit(offsetCommitV9, "someone-else", member.memberEpoch, 1n))).toEqual({
      [key]: 25,
    });
    // A standalone commit while the group has a member: UNKNOWN_MEMBER_ID, as Kafka answers.
    expect(codesOf(await commit(offsetCommitV9, "", -1, 1n))).toEqual({ [key]: 25 });
    expect(await httpOffsets(groupId)).toEqual({ [key]: 5 });
    await httpLeave(groupId, member.memberId);
  });

  it("a classic member (JoinGroup) committing at v9 with an old generation gets ILLEGAL_GENERATION, on which classic clients rejoin", async () => {
    const topic = await topicWithRecords(1, 3);
    const groupId = unique("g");
    const consumer = new Consumer({
      clientId: "classic-v9",
      groupId,
      bootstrapBrokers: [server.kafka?.bootstrap as string],
      groupProtocol: "classic",
      autocommit: false,
      retries: 0,
    });
    try {
      const stream = await consumer.consume({ topics: [topic], mode: "committed", fallbackMode: "earliest" });
      while (!consumer.assignments?.length) await new Promise((resolve) => setTimeout(resolve, 20));
      const commit = (generation: number, offset: bigint) =>
        commitPartition0(
          offsetCommitV9,
          { groupId, memberId: consumer.memberId as string, epoch: generation },
          topic,
          offset,
        );
      const key = `${topic}/0`;
      expect(codesOf(await commit(consumer.generationId, 2n))).toEqual({ [key]: 0 });
      expect(codesOf(await commit(consumer.generationId - 1, 3n))).toEqual({ [key]: 22 });
      expect(await httpOffsets(groupId)).toEqual({ [key]: 2 });
      await stream.close();
    } finally {
      await consumer.close(true);
    }
  });

  it("OffsetFetch: every topic for null, -1 where nothing is committed, nothing for an unknown group, groups batched", async () => {
    const [a, b] = [await topicWithRecords(2, 2), await topicWithRecords(1, 2)];
    const groupId = unique("g");
    await http("POST", `/v1/groups/${groupId}/offsets`, {
      offsets: [
        { topic: a, partition: 0, offset: 1 },
        { topic: b, partition: 0, offset: 2, metadata: "b" },
      ],
    });
    const single = await answer<any>(
      offsetFetchV7.api.async(
        connection,
        [{ groupId, topics: [{ name: a, partitionIndexes: [0, 1] }] }],
        true,
      ),
    );
    expect(single.errorCode).toBe(0);
    expect(single.topics).toEqual([
      {
        name: a,
        partitions: [
          { partitionIndex: 0, committedOffset: 1n, committedLeaderEpoch: -1, metadata: "", errorCode: 0 },
          { partitionIndex: 1, committedOffset: -1n, committedLeaderEpoch: -1, metadata: "", errorCode: 0 },
        ],
      },
    ]);
    const batched = await answer<any>(
      offsetFetchV9.api.async(
        connection,
        [
          // v9's member id and epoch are not checked: offsets are readable without membership.
          { groupId, memberId: "not-a-member", memberEpoch: 3, topics: null },
          { groupId: unique("never"), memberId: null, memberEpoch: -1, topics: null },
          { groupId: "", memberId: null, memberEpoch: -1, topics: null },
        ],
        false,
      ),
    );
    const [all, unknown, invalid] = batched.groups;
    expect(all.errorCode).toBe(0);
    expect(
      all.topics.flatMap((t: any) =>
        t.partitions.map((p: any) => [t.name, p.partitionIndex, p.committedOffset, p.metadata]),
      ),
    ).toEqual(
      [
        [a, 0, 1n, ""],
        [b, 0, 2n, "b"],
      ].sort((x, y) => String(x[0]).localeCompare(String(y[0]))),
    );
    expect(unknown).toMatchObject({ errorCode: 0, topics: [] });
    expect(invalid).toMatchObject({ errorCode: 24, topics: [] }); // INVALID_GROUP_ID
  });
});

describe("listing, describing and deleting groups", () => {
  it("KafkaJS and platformatic list groups as consumer groups, platformatic filtered by state and type", async () => {
    const topic = await topicWithRecords(1, 1);
    const [empty, busy] = [unique("g"), unique("g")];
    await http("POST", `/v1/groups/${empty}/offsets`, { offsets: [{ topic, partition: 0, offset: 0 }] });
    const member = await httpMember(busy, [topic]);

    const { groups } = await admin.listGroups();
    expect(groups).toEqual(
      expect.arrayContaining([
        { groupId: empty, protocolType: "consumer" },
        { groupId: busy, protocolType: "consumer" },
      ]),
    );
    // Groups of KIP-848 members (and empty ones) are consumer groups, as Kafka 4 types them;
    // platformatic lists only "classic" groups unless told otherwise, as it would against Kafka.
    const byDefault = await call<Map<string, any>>((cb) => platformatic.listGroups({}, cb));
    expect(byDefault.size).toBe(0);
    const all = await call<Map<string, any>>((cb) => platformatic.listGroups({ types: ["consumer"] }, cb));
    expect(all.get(empty)).toEqual({
      id: empty,
      state: "Empty",
      groupType: "consumer",
      protocolType: "consumer",
    });
    expect(all.get(busy)).toMatchObject({ state: "Stable", groupType: "consumer" });
    const stable = await call<Map<string, any>>((cb) =>
      platformatic.listGroups({ states: ["STABLE"], types: ["consumer", "classic"] }, cb),
    );
    expect(stable.has(busy)).toBe(true);
    expect(stable.has(empty)).toBe(false);
    await httpLeave(busy, member.memberId);
  });

  it("DescribeGroups shows members with their subscription and assignment as consumer protocol payloads", async () => {
    const topic = await topicWithRecords(3, 1);
    const groupId = unique("g");
    const member = await httpMember(groupId, [topic], "describe-me");
    expect(member.assignment).toEqual([{ topic, partitions: [0, 1, 2] }]);

    const { groups } = await admin.describeGroups([groupId, unique("missing")]);
    const [described, missing] = groups;
    expect(described).toMatchObject({
      errorCode: 0,
      groupId,
      state: "Stable",
      protocolType: "consumer",
      protocol: "uniform",
    });
    expect(described.members).toHaveLength(1);
    const [m] = described.members;
    expect(m).toMatchObject({ memberId: member.memberId, clientId: "describe-me" });
    expect(AssignerProtocol.MemberMetadata.decode(m.memberMetadata)).toMatchObject({ topics: [topic] });
    expect(AssignerProtocol.MemberAssignment.decode(m.memberAssignment)?.assignment).toEqual({
      [topic]: [0, 1, 2],
    });
    expect(missing).toMatchObject({ errorCode: 0, state: "Dead", members: [] });

    const viaPlatformatic = await call<Map<string, any>>((cb) =>
      platformatic.describeGroups({ groups: [groupId] }, cb),
    );
    const group = viaPlatformatic.get(groupId);
    expect(group).toMatchObject({ state: "Stable", protocolType: "consumer", protocol: "uniform" });
    const pm = group.members.get(member.memberId);
    expect(pm.metadata).toMatchObject({
      topics: [topic],
      ownedPartitions: [{ topic, partitions: [0, 1, 2] }],
    });
    expect([...pm.assignments.values()]).toEqual([{ topic, partitions: [0, 1, 2] }]);
    await httpLeave(groupId, member.memberId);
  });

  it("ConsumerGroupDescribe shows epochs, the assignor and assignments by topic id", async () => {
    const topic = await topicWithRecords(2, 1);
    const topicId = (await http("GET", `/v1/topics/${topic}`)).body.topicId;
    const groupId = unique("g");
    const member = await httpMember(groupId, [topic], "kip-848");
    const missing = unique("missing");
    const described = await answer<any>(
      consumerGroupDescribeV0.api.async(connection, [groupId, missing], false),
    );
    const [g, m] = described.groups;
    expect(g).toMatchObject({
      errorCode: 0,
      groupId,
      groupState: "Stable",
      assignorName: "uniform",
      assignmentEpoch: g.groupEpoch,
    });
    expect(g.members).toHaveLength(1);
    expect(g.members[0]).toMatchObject({
      memberId: member.memberId,
      memberEpoch: member.memberEpoch,
      clientId: "kip-848",
      subscribedTopicNames: [topic],
      subscribedTopicRegex: null,
      assignment: { topicPartitions: [{ topicId, topicName: topic, partitions: [0, 1] }] },
      targetAssignment: { topicPartitions: [{ topicId, topicName: topic, partitions: [0, 1] }] },
    });
    expect(m).toMatchObject({ errorCode: 69, groupId: missing }); // GROUP_ID_NOT_FOUND
    expect(m.errorMessage).toContain(missing);
    await httpLeave(groupId, member.memberId);
  });

  it("a group whose members all joined with JoinGroup lists as classic; ConsumerGroupDescribe v1 types each member", async () => {
    const topic = await topicWithRecords(2, 1);
    const groupId = unique("g");
    const consumer = new Consumer({
      clientId: "classic-typed",
      groupId,
      bootstrapBrokers: [server.kafka?.bootstrap as string],
      groupProtocol: "classic",
      autocommit: false,
      retries: 0,
    });
    const raw = await RawKafka.open(server);
    const codecs = {
      request: new MessageCodec(ConsumerGroupDescribeRequest),
      response: new MessageCodec(ConsumerGroupDescribeResponse),
    };
    const memberTypes = async () => {
      const described = await raw.request(codecs, 1, {
        groupIds: [groupId],
        includeAuthorizedOperations: false,
      });
      return Object.fromEntries(described.groups[0].members.map((m) => [m.memberId, m.memberType]));
    };
    const listed = async (types: string[]) =>
      (await call<Map<string, any>>((cb) => platformatic.listGroups({ types }, cb))).get(groupId);
    try {
      const stream = await consumer.consume({ topics: [topic], mode: "committed", fallbackMode: "earliest" });
      while (!consumer.assignments?.length) await new Promise((resolve) => setTimeout(resolve, 20));
      const classicId = consumer.memberId as string;
      // As Kafka 4 lists a group of classic members (kafka-consumer-groups --list --type: Classic).
      expect(await listed(["classic"])).toMatchObject({ groupType: "classic", protocolType: "consumer" });
      expect(await listed(["consumer"])).toBeUndefined();
      expect(await memberTypes()).toEqual({ [classicId]: 0 });

      // A KIP-848 member joins: the group is a consumer group with one member of each type.
      const modern = await httpMember(groupId, [topic]);
      expect(await listed(["consumer"])).toMatchObject({ groupType: "consumer" });
      expect(await listed(["classic"])).toBeUndefined();
      expect(await memberTypes()).toEqual({ [classicId]: 0, [modern.memberId]: 1 });
      const described = (await http("GET", `/v1/groups/${groupId}`)).body;
      expect(Object.fromEntries(described.members.map((m: any) => [m.memberId, m.protocol]))).toEqual({
        [classicId]: "classic",
        [modern.memberId]: "consumer",
      });
      await httpLeave(groupId, modern.memberId);
      await stream.close();
    } finally {
      raw.close();
      await consumer.close(true);
    }
  });

  it("OffsetDelete removes offsets of topics no member subscribes to, and refuses the subscribed ones", async () => {
    const [read, other] = [await topicWithRecords(2, 2), await topicWithRecords(1, 2)];
    const groupId = unique("g");
    await http("POST", `/v1/groups/${groupId}/offsets`, {
      offsets: [
        { topic: read, partition: 0, offset: 1 },
        { topic: read, partition: 1, offset: 2 },
        { topic: other, partition: 0, offset: 2 },
      ],
    });
    const member = await httpMember(groupId, [read]);
    const refused = await rejection(
      call((cb) =>
        platformatic.deleteConsumerGroupOffsets(
          { groupId, topics: [{ name: read, partitionIndexes: [0] }] },
          cb,
        ),
      ),
    );
    expect(apiCodes(refused)).toEqual([86]); // GROUP_SUBSCRIBED_TO_TOPIC
    const deleted = await call((cb) =>
      platformatic.deleteConsumerGroupOffsets(
        { groupId, topics: [{ name: other, partitionIndexes: [0] }] },
        cb,
      ),
    );
    expect(deleted).toEqual([{ name: other, partitionIndexes: [0] }]);
    expect(await httpOffsets(groupId)).toEqual({ [`${read}/0`]: 1, [`${read}/1`]: 2 });

    // Once the member is gone, its topic's offsets may go too.
    await httpLeave(groupId, member.memberId);
    await call((cb) =>
      platformatic.deleteConsumerGroupOffsets(
        { groupId, topics: [{ name: read, partitionIndexes: [1] }] },
        cb,
      ),
    );
    expect(await httpOffsets(groupId)).toEqual({ [`${read}/0`]: 1 });
    const unknown = await rejection(
      call((cb) =>
        platformatic.deleteConsumerGroupOffsets(
          { groupId: unique("never"), topics: [{ name: read, partitionIndexes: [0] }] },
          cb,
        ),
      ),
    );
    expect(apiCodes(unknown)).toEqual([69]); // GROUP_ID_NOT_FOUND
  });

  it("DeleteGroups refuses a group with members (NON_EMPTY_GROUP), deletes it once empty, then knows it no more", async () => {
    const topic = await topicWithRecords(1, 1);
    const [kjsGroup, platGroup] = [unique("g"), unique("g")];
    const member = await httpMember(kjsGroup, [topic]);
    await http("POST", `/v1/groups/${platGroup}/offsets`, { offsets: [{ topic, partition: 0, offset: 1 }] });

    const busy = (await rejection(admin.deleteGroups([kjsGroup]))) as { groups: { errorCode: number }[] };
    expect(busy.groups.map((g) => g.errorCode)).toEqual([68]);
    await httpLeave(kjsGroup, member.memberId);
    expect(await admin.deleteGroups([kjsGroup])).toEqual([{ groupId: kjsGroup, errorCode: 0 }]);
    expect((await http("GET", `/v1/groups/${kjsGroup}`)).status).toBe(404);
    const gone = (await rejection(admin.deleteGroups([kjsGroup]))) as { groups: { errorCode: number }[] };
    expect(gone.groups.map((g) => g.errorCode)).toEqual([69]);

    await call((cb) => platformatic.deleteGroups({ groups: [platGroup] }, cb));
    expect((await http("GET", `/v1/groups/${platGroup}`)).status).toBe(404);
    expect(await admin.fetchOffsets({ groupId: platGroup, topics: [topic] })).toEqual([
      { topic, partitions: [{ partition: 0, offset: "-1", metadata: null }] },
    ]);
    const again = await rejection(call((cb) => platformatic.deleteGroups({ groups: [platGroup] }, cb)));
    expect(apiCodes(again)).toEqual([69]);
  });
});
