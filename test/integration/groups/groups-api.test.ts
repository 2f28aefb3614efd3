import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CommitOffsetsResponse,
  GroupDescription,
  GroupList,
  GroupOffsetsResponse,
  HeartbeatResponse,
  ResetOffsetsResponse,
} from "../../../src/api/group-schemas.js";
import {
  type ApiResponse,
  apiStorages,
  startTestServer,
  type TestServer,
  uniqueTopic,
} from "../api/harness.js";

/** The consumer-group routes of architecture §8 over real HTTP, on each dev-server storage. */
describe.each(apiStorages)("consumer-group API on %s", (storage) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(storage);
  });
  afterAll(async () => {
    await s?.close();
  });

  const groupPath = (g: string, rest = "") => `/v1/groups/${encodeURIComponent(g)}${rest}`;
  const heartbeat = (g: string, body: unknown) => s.call("POST", groupPath(g, "/heartbeat"), body);
  const commit = (g: string, body: unknown) => s.call("POST", groupPath(g, "/offsets"), body);

  function expectError(res: ApiResponse, status: number, code: string) {
    expect({ status: res.status, code: res.body?.error?.code }).toEqual({ status, code });
  }

  async function topicWith(partitions: number, recordsPerPartition: number[]): Promise<string> {
    const t = uniqueTopic("grp");
    expect((await s.call("POST", "/v1/topics", { name: t, partitions })).status).toBe(201);
    const records = recordsPerPartition.flatMap((n, partition) =>
      Array.from({ length: n }, (_, i) => ({ value: i, partition, timestamp: 1000 * (i + 1) })),
    );
    if (records.length > 0)
      expect((await s.call("POST", `/v1/topics/${t}/records`, { records })).status).toBe(200);
    return t;
  }

  it("joins, assigns every partition, commits, and reads the offsets back with lag", async () => {
    const t = await topicWith(3, [3, 2, 0]);
    const g = uniqueTopic("g");
    const joined = await heartbeat(g, { memberEpoch: 0, subscribedTopics: [t], clientId: "c-1" });
    expect(joined.status).toBe(200);
    const member = HeartbeatResponse.parse(joined.body);
    expect(member.memberEpoch).toBeGreaterThan(0);
    expect(member.assignment).toEqual([{ topic: t, partitions: [0, 1, 2] }]);
    expect(member.heartbeatIntervalMs).toBe(5000);

    const committed = await commit(g, {
      memberId: member.memberId,
      memberEpoch: member.memberEpoch,
      offsets: [
        { topic: t, partition: 0, offset: 1, metadata: "m" },
        { topic: t, partition: 1, offset: 2 },
      ],
    });
    expect(committed.status).toBe(200);
    expect(CommitOffsetsResponse.parse(committed.body).offsets).toEqual([
      { topic: t, partition: 0, offset: 1, metadata: "m" },
      { topic: t, partition: 1, offset: 2, metadata: "" },
    ]);

    const read = await s.call("GET", `${groupPath(g, "/offsets")}?topic=${t}`);
    expect(GroupOffsetsResponse.parse(read.body).offsets).toEqual([
      { topic: t, partition: 0, offset: 1, metadata: "m", highWatermark: 3, lag: 2 },
      { topic: t, partition: 1, offset: 2, metadata: "", highWatermark: 2, lag: 0 },
    ]);
    expect((await s.call("GET", `${groupPath(g, "/offsets")}?topic=other-topic`)).body.offsets).toEqual([]);

    const listed = GroupList.parse((await s.call("GET", "/v1/groups")).body);
    expect(listed.groups).toContainEqual({ groupId: g, state: "Stable", members: 1, type: "consumer" });

    const described = GroupDescription.parse((await s.call("GET", groupPath(g))).body);
    expect(described).toMatchObject({ groupId: g, state: "Stable", assignor: "uniform" });
    expect(described.members).toEqual([
      expect.objectContaining({
        memberId: member.memberId,
        clientId: "c-1",
        memberEpoch: member.memberEpoch,
        subscribedTopics: [t],
        assignment: [{ topic: t, partitions: [0, 1, 2] }],
        pendingRevocation: [],
      }),
    ]);
    expect(described.offsets.map((o) => [o.partition, o.offset, o.lag])).toEqual([
      [0, 1, 2],
      [1, 2, 0],
    ]);
  });

  it("moves a partition to a new member only once its owner has committed it and stopped listing it", async () => {
    const t = await topicWith(2, [4, 4]);
    const g = uniqueTopic("g");
    const a = HeartbeatResponse.parse((await heartbeat(g, { memberEpoch: 0, subscribedTopics: [t] })).body);
    expect(a.assignment).toEqual([{ topic: t, partitions: [0, 1] }]);

    const b = HeartbeatResponse.parse((await heartbeat(g, { memberEpoch: 0, subscribedTopics: [t] })).body);
    expect(b.assignment).toEqual([]);

    // a still consumes both: it is told to give one up and keeps its epoch meanwhile.
    const told = HeartbeatResponse.parse(
      (
        await heartbeat(g, {
          memberId: a.memberId,
          memberEpoch: a.memberEpoch,
          ownedPartitions: [{ topic: t, partitions: [0, 1] }],
        })
      ).body,
    );
    expect(told.memberEpoch).toBe(a.memberEpoch);
    expect(told.assignment[0].partitions).toHaveLength(1);
    const kept = told.assignment[0].partitions[0];
    const moving = 1 - kept;

    const waiting = HeartbeatResponse.parse(
      (await heartbeat(g, { memberId: b.memberId, memberEpoch: b.memberEpoch, ownedPartitions: [] })).body,
    );
    expect(waiting.assignment).toEqual([]);

    // The revoked partition's position is committed before the heartbeat that releases it.
    const revokedCommit = await commit(g, {
      memberId: a.memberId,
      memberEpoch: told.memberEpoch,
      offsets: [{ topic: t, partition: moving, offset: 3 }],
    });
    expect(revokedCommit.status).toBe(200);
    const released = HeartbeatResponse.parse(
      (
        await heartbeat(g, {
          memberId: a.memberId,
          memberEpoch: told.memberEpoch,
          ownedPartitions: [{ topic: t, partitions: [kept] }],
        })
      ).body,
    );
    expect(released.memberEpoch).toBeGreaterThan(a.memberEpoch);
    expect(released.assignment).toEqual([{ topic: t, partitions: [kept] }]);

    const got = HeartbeatResponse.parse(
      (await heartbeat(g, { memberId: b.memberId, memberEpoch: waiting.memberEpoch, ownedPartitions: [] }))
        .body,
    );
    expect(got.assignment).toEqual([{ topic: t, partitions: [moving] }]);
    const offsets = (await s.call("GET", `${groupPath(g, "/offsets")}?topic=${t}`)).body.offsets;
    expect(offsets).toContainEqual(expect.objectContaining({ partition: moving, offset: 3 }));

    // The old owner can no longer commit it.
    expectError(
      await commit(g, {
        memberId: a.memberId,
        memberEpoch: released.memberEpoch,
        offsets: [{ topic: t, partition: moving, offset: 4 }],
      }),
      409,
      "STALE_MEMBER_EPOCH",
    );
  });

  it("answers fencing, unknown groups and members, and bad requests with Kafka's codes", async () => {
    const t = await topicWith(1, [2]);
    const g = uniqueTopic("g");
    const m = HeartbeatResponse.parse((await heartbeat(g, { memberEpoch: 0, subscribedTopics: [t] })).body);

    expectError(await heartbeat(g, { memberId: "nobody", memberEpoch: 3 }), 409, "UNKNOWN_MEMBER_ID");
    expectError(
      await heartbeat(uniqueTopic("g"), { memberId: "x", memberEpoch: 1 }),
      409,
      "UNKNOWN_MEMBER_ID",
    );
    expectError(
      await heartbeat(g, { memberId: m.memberId, memberEpoch: m.memberEpoch + 5 }),
      409,
      "FENCED_MEMBER_EPOCH",
    );
    expectError(
      await commit(g, {
        memberId: m.memberId,
        memberEpoch: m.memberEpoch + 1,
        offsets: [{ topic: t, partition: 0, offset: 1 }],
      }),
      409,
      "STALE_MEMBER_EPOCH",
    );
    // Standalone commits, resets and deletes need a group without members.
    expectError(
      await commit(g, { offsets: [{ topic: t, partition: 0, offset: 1 }] }),
      409,
      "UNKNOWN_MEMBER_ID",
    );
    expectError(
      await s.call("POST", groupPath(g, "/offsets/reset"), { topic: t, to: "earliest", dryRun: true }),
      409,
      "NON_EMPTY_GROUP",
    );
    expectError(await s.call("DELETE", groupPath(g)), 409, "NON_EMPTY_GROUP");
    expectError(
      await commit(g, {
        memberId: m.memberId,
        memberEpoch: m.memberEpoch,
        offsets: [{ topic: t, partition: 0, offset: 3 }],
      }),
      416,
      "OFFSET_OUT_OF_RANGE",
    );

    expectError(await s.call("GET", groupPath("no-such-group")), 404, "GROUP_ID_NOT_FOUND");
    expectError(await s.call("DELETE", groupPath("no-such-group")), 404, "GROUP_ID_NOT_FOUND");
    expect((await s.call("GET", groupPath("no-such-group", "/offsets"))).body).toEqual({ offsets: [] });

    expectError(await s.call("GET", groupPath("g".repeat(250))), 400, "INVALID_GROUP_ID");
    expectError(
      await heartbeat(g, { memberEpoch: 0, subscribedTopics: ["bad name"] }),
      400,
      "INVALID_TOPIC_EXCEPTION",
    );
    expectError(await heartbeat(g, { memberEpoch: 0, subscribedTopic: [t] }), 400, "INVALID_REQUEST");
    expectError(
      await heartbeat(g, { memberEpoch: 0, subscribedTopicRegex: "(" }),
      400,
      "INVALID_REGULAR_EXPRESSION",
    );
    expectError(await heartbeat(g, { memberEpoch: -2, memberId: m.memberId }), 400, "INVALID_REQUEST");
    expectError(await commit(g, { offsets: [] }), 400, "INVALID_REQUEST");
  });

  it("leaves, resets (a dry run changes nothing; times in ms or ISO-8601; shifts) and deletes", async () => {
    const t = await topicWith(2, [3, 3]);
    const g = uniqueTopic("g");
    const m = HeartbeatResponse.parse((await heartbeat(g, { memberEpoch: 0, subscribedTopics: [t] })).body);
    await commit(g, {
      memberId: m.memberId,
      memberEpoch: m.memberEpoch,
      offsets: [
        { topic: t, partition: 0, offset: 3 },
        { topic: t, partition: 1, offset: 3 },
      ],
    });
    const left = await heartbeat(g, { memberId: m.memberId, memberEpoch: -1 });
    expect(left.body).toMatchObject({ memberId: m.memberId, memberEpoch: -1, assignment: [] });
    expect((await s.call("GET", groupPath(g))).body.state).toBe("Empty");

    const reset = (body: unknown) => s.call("POST", groupPath(g, "/offsets/reset"), body);
    const offsets = async () =>
      (await s.call("GET", groupPath(g, "/offsets"))).body.offsets.map((o: { offset: number }) => o.offset);

    const plan = ResetOffsetsResponse.parse((await reset({ topic: t, to: "earliest", dryRun: true })).body);
    expect(plan).toEqual({
      dryRun: true,
      offsets: [
        { topic: t, partition: 0, previousOffset: 3, offset: 0 },
        { topic: t, partition: 1, previousOffset: 3, offset: 0 },
      ],
    });
    expect(await offsets()).toEqual([3, 3]);

    // Records carry timestamps 1000, 2000, 3000: the first at or after 1.5 s is offset 1.
    const byTime = await reset({ topic: t, partitions: [0], to: { timestamp: "1970-01-01T00:00:01.500Z" } });
    expect(byTime.body.offsets).toEqual([{ topic: t, partition: 0, previousOffset: 3, offset: 1 }]);
    expect(await offsets()).toEqual([1, 3]);
    expect((await reset({ topic: t, partitions: [1], to: { timestamp: 2000 } })).body.offsets[0].offset).toBe(
      1,
    );
    expect(
      (await reset({ topic: t, to: { shiftBy: 1 } })).body.offsets.map((o: { offset: number }) => o.offset),
    ).toEqual([2, 2]);
    // Clamped to the log, as Kafka clamps.
    expect((await reset({ topic: t, to: { offset: 99 } })).body.offsets[0].offset).toBe(3);
    expect((await reset({ topic: t, to: "latest" })).body.dryRun).toBe(false);
    expectError(await reset({ topic: t, to: { timestamp: "yesterday" } }), 400, "INVALID_REQUEST");
    expectError(await reset({ topic: "no-such-topic", to: "earliest" }), 404, "UNKNOWN_TOPIC_OR_PARTITION");

    const deleted = await s.call("DELETE", groupPath(g));
    expect(deleted.status).toBe(204);
    expectError(await s.call("GET", groupPath(g)), 404, "GROUP_ID_NOT_FOUND");
    expect(
      (await s.call("GET", "/v1/groups")).body.groups.map((x: { groupId: string }) => x.groupId),
    ).not.toContain(g);
  });

  it("lists every group route in the OpenAPI document with its schemas", async () => {
    const doc = (await s.call("GET", "/v1/openapi.json")).body;
    expect(
      doc.paths["/v1/groups/{group}/heartbeat"].post.requestBody.content["application/json"].schema,
    ).toEqual({
      $ref: "#/components/schemas/HeartbeatRequest",
    });
    expect(Object.keys(doc.paths["/v1/groups/{group}/offsets"]).sort()).toEqual(["get", "post"]);
    expect(Object.keys(doc.paths["/v1/groups/{group}"]).sort()).toEqual(["delete", "get"]);
    expect(doc.paths["/v1/groups"].get.operationId).toBe("listGroups");
    expect(doc.paths["/v1/groups/{group}/offsets/reset"].post.responses["409"].description).toContain(
      "NON_EMPTY_GROUP",
    );
    expect(doc.paths["/v1/groups/{group}"].get.responses["404"].description).toContain("GROUP_ID_NOT_FOUND");
    for (const name of [
      "HeartbeatResponse",
      "CommitOffsetsRequest",
      "GroupDescription",
      "ResetOffsetsRequest",
    ]) {
      expect(doc.components.schemas[name], name).toBeDefined();
    }
  });
});
