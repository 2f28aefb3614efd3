import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TopicDescription, TopicList } from "../../../src/api/schemas.js";
import { apiStorages, startTestServer, type TestServer, uniqueTopic } from "./harness.js";

describe.each(apiStorages)("topic admin API on %s", (storage) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(storage);
  });
  afterAll(async () => {
    await s?.close();
  });

  it("creates (201), lists, describes, grows, reconfigures and deletes (204) a topic", async () => {
    const name = uniqueTopic();
    const created = await s.call("POST", "/v1/topics", {
      name,
      partitions: 3,
      config: { "retention.ms": "3600000" },
      replicationFactor: 3,
    });
    expect(created.status).toBe(201);
    expect(created.headers.get("location")).toBe(`/v1/topics/${name}`);
    const body = TopicDescription.parse(created.body);
    expect(body.name).toBe(name);
    expect(body.topicId).toMatch(/^[0-9a-f-]{36}$/);
    expect(body.partitions).toEqual(
      [0, 1, 2].map((partition) => ({
        partition,
        logStartOffset: 0,
        highWatermark: 0,
        bytes: 0,
        leaderEpoch: 0,
        leaseOwner: null,
      })),
    );
    expect(body.config["retention.ms"]).toBe(3_600_000);
    expect(body.configOverrides).toEqual({ "retention.ms": 3_600_000 });

    const listed = await s.call("GET", "/v1/topics");
    expect(listed.status).toBe(200);
    expect(TopicList.parse(listed.body).topics).toContain(name);

    const described = await s.call("GET", `/v1/topics/${name}`);
    expect(described.status).toBe(200);
    expect(described.body).toEqual(created.body);

    const grown = await s.call("PATCH", `/v1/topics/${name}`, {
      partitions: 5,
      config: { "retention.ms": null, "max.message.bytes": 2048 },
    });
    expect(grown.status).toBe(200);
    expect(grown.body.partitions).toHaveLength(5);
    expect(grown.body.configOverrides).toEqual({ "max.message.bytes": 2048 });
    expect(grown.body.config["retention.ms"]).toBe(7 * 24 * 3600 * 1000);

    const deleted = await s.call("DELETE", `/v1/topics/${name}`);
    expect(deleted.status).toBe(204);
    expect(deleted.body).toBe("");
    expect((await s.call("GET", `/v1/topics/${name}`)).status).toBe(404);
    expect((await s.call("GET", "/v1/topics")).body.topics).not.toContain(name);
  });

  it("defaults to one partition (Kafka's num.partitions)", async () => {
    const res = await s.call("POST", "/v1/topics", { name: uniqueTopic() });
    expect(res.status).toBe(201);
    expect(res.body.partitions).toHaveLength(1);
  });

  it("refuses a second topic of the same name with 409 TOPIC_ALREADY_EXISTS", async () => {
    const name = uniqueTopic();
    expect((await s.call("POST", "/v1/topics", { name, partitions: 1 })).status).toBe(201);
    const again = await s.call("POST", "/v1/topics", { name, partitions: 2 });
    expect(again.status).toBe(409);
    expect(again.body.error).toMatchObject({ code: "TOPIC_ALREADY_EXISTS", retriable: false });
  });

  it.each([
    ["an illegal character", "bad name"],
    ["a dot alone", "."],
    ["two dots", ".."],
    ["250 characters", "x".repeat(250)],
    ["an empty name", ""],
  ])("refuses a topic name with %s: 400 INVALID_TOPIC_EXCEPTION", async (_, name) => {
    const res = await s.call("POST", "/v1/topics", { name, partitions: 1 });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("INVALID_TOPIC_EXCEPTION");
    expect(res.body.error.message).toContain("name");
  });

  it("refuses an illegal topic name in the path with 400 INVALID_TOPIC_EXCEPTION", async () => {
    const res = await s.call("GET", "/v1/topics/bad%20name");
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("INVALID_TOPIC_EXCEPTION");
  });

  it.each([0, -1, 1.5, "3"])("refuses partitions=%s with 400 INVALID_PARTITIONS", async (partitions) => {
    const res = await s.call("POST", "/v1/topics", { name: uniqueTopic(), partitions });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("INVALID_PARTITIONS");
  });

  it("refuses unknown and invalid configs with 400 INVALID_CONFIG", async () => {
    const unknown = await s.call("POST", "/v1/topics", {
      name: uniqueTopic(),
      config: { "no.such.config": 1 },
    });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.code).toBe("INVALID_CONFIG");
    expect(unknown.body.error.message).toContain("no.such.config");
    const invalid = await s.call("POST", "/v1/topics", {
      name: uniqueTopic(),
      config: { "cleanup.policy": "forever" },
    });
    expect(invalid.status).toBe(400);
    expect(invalid.body.error.code).toBe("INVALID_CONFIG");
  });

  it("refuses shrinking partitions and an empty change", async () => {
    const name = uniqueTopic();
    await s.call("POST", "/v1/topics", { name, partitions: 3 });
    const shrink = await s.call("PATCH", `/v1/topics/${name}`, { partitions: 2 });
    expect(shrink.status).toBe(400);
    expect(shrink.body.error.code).toBe("INVALID_PARTITIONS");
    const empty = await s.call("PATCH", `/v1/topics/${name}`, {});
    expect(empty.status).toBe(400);
    expect(empty.body.error.code).toBe("INVALID_REQUEST");
  });

  it("answers 404 UNKNOWN_TOPIC_OR_PARTITION for a topic that does not exist", async () => {
    const name = uniqueTopic("missing");
    for (const [method, body] of [
      ["GET", undefined],
      ["PATCH", { partitions: 2 }],
      ["DELETE", undefined],
    ] as const) {
      const res = await s.call(method, `/v1/topics/${name}`, body);
      expect(res.status, method).toBe(404);
      expect(res.body.error).toEqual({
        code: "UNKNOWN_TOPIC_OR_PARTITION",
        message: `Topic '${name}' does not exist.`,
        retriable: false,
      });
    }
  });

  it("refuses unknown fields so typos do not pass silently", async () => {
    const res = await s.call("POST", "/v1/topics", { name: uniqueTopic(), partition: 3 });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(/partition/);
  });
});
