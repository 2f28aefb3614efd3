/**
 * The subscription resource over real HTTP (issue 14, item 1): create with defaults and a secret,
 * starting offsets in the subscription's group, list, describe with status, PATCH with a version
 * precondition and pause/resume, DELETE waiting for the group's member to leave, and refusals that
 * change nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  Subscription,
  SubscriptionDescription,
  SubscriptionList,
} from "../../../src/api/subscription-schemas.js";
import { apiStorages, startTestServer, type TestServer, uniqueTopic } from "./harness.js";

const HOOK = "https://example.com/hook";

describe.each(apiStorages)("subscription API on %s", (storage) => {
  let s: TestServer;
  beforeAll(async () => {
    // No dispatcher: these tests are about the resource, and nothing here should be delivered anywhere.
    s = await startTestServer(storage, { subscriptions: false });
  });
  afterAll(async () => {
    await s?.close();
  });

  async function topicWith(partitions: number, records: number): Promise<string> {
    const topic = uniqueTopic("sub");
    expect((await s.call("POST", "/v1/topics", { name: topic, partitions })).status).toBe(201);
    if (records > 0) {
      const body = { records: Array.from({ length: records }, (_, i) => ({ value: i, partition: 0 })) };
      expect((await s.call("POST", `/v1/topics/${topic}/records`, body)).status).toBe(200);
    }
    return topic;
  }

  const offsetsOf = async (name: string) =>
    (
      (await s.call("GET", `/v1/groups/floe-subscription-${name}/offsets`)).body.offsets as {
        partition: number;
        offset: number;
      }[]
    ).map((o) => [o.partition, o.offset]);

  it("creates (201) with defaults and a secret, commits the starting offsets, lists and describes it", async () => {
    const topic = await topicWith(2, 3);
    const name = uniqueTopic("s");
    const created = await s.call("POST", "/v1/subscriptions", {
      name,
      topics: [topic],
      target: { type: "http", url: HOOK },
    });
    expect(created.status).toBe(201);
    expect(created.headers.get("location")).toBe(`/v1/subscriptions/${name}`);
    // Strict: the answer has exactly the documented fields.
    const body = Subscription.strict().parse(created.body);
    expect(body).toMatchObject({
      name,
      state: "Enabled",
      groupId: `floe-subscription-${name}`,
      topics: [topic],
      topicRegex: null,
      target: { type: "http", url: HOOK, timeoutMs: 30_000 },
      batchSize: 100,
      maximumBatchingWindowMs: 500,
      startingPosition: "LATEST",
      reportBatchItemFailures: true,
    });
    expect(body.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    // LATEST: partition 0 at its 3 records' end, partition 1 at 0.
    expect(await offsetsOf(name)).toEqual([
      [0, 3],
      [1, 0],
    ]);

    const listed = SubscriptionList.parse((await s.call("GET", "/v1/subscriptions")).body);
    expect(listed.subscriptions.find((x) => x.name === name)).toEqual(body);

    const described = await s.call("GET", `/v1/subscriptions/${name}`);
    expect(described.status).toBe(200);
    const d = SubscriptionDescription.strict().parse(described.body);
    expect(d.status).toMatchObject({
      delivered: 0,
      failed: 0,
      lag: 0,
      oldestUndeliveredAgeMs: null,
      lastError: null,
    });
    expect(d.status.partitions.map((p) => [p.partition, p.committedOffset, p.highWatermark])).toEqual([
      [0, 3, 3],
      [1, 0, 0],
    ]);
  });

  it("TRIM_HORIZON with a Lambda target, created paused", async () => {
    const topic = await topicWith(1, 2);
    const name = uniqueTopic("s");
    const created = await s.call("POST", "/v1/subscriptions", {
      name,
      topicRegex: topic.replaceAll(".", "\\."),
      target: { type: "lambda", functionName: "arn:aws:lambda:us-east-1:123456789012:function:f" },
      startingPosition: "TRIM_HORIZON",
      state: "Disabled",
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ state: "Disabled", secret: null, target: { timeoutMs: 900_000 } });
    expect(await offsetsOf(name)).toEqual([[0, 0]]);
    const described = await s.call("GET", `/v1/subscriptions/${name}`);
    expect(described.body.status.lag).toBe(2);
  });

  it("refuses bad definitions with INVALID_CONFIG (or INVALID_REGULAR_EXPRESSION) and stores nothing", async () => {
    const topic = await topicWith(1, 0);
    const name = uniqueTopic("bad");
    const base = { name, topics: [topic], target: { type: "http", url: HOOK } };
    for (const [body, code] of [
      [{ ...base, batchSize: 0 }, "INVALID_CONFIG"],
      [{ ...base, startingPosition: "TRIM_HORIZON", unknownField: 1 }, "INVALID_REQUEST"],
      [{ ...base, topicRegex: "x" }, "INVALID_CONFIG"],
      [{ ...base, topics: null, topicRegex: "(" }, "INVALID_REGULAR_EXPRESSION"],
      [{ ...base, maximumRetryAttempts: 2 }, "INVALID_CONFIG"],
      [{ ...base, onFailureTopic: topic }, "INVALID_CONFIG"],
      [{ ...base, target: { type: "http", url: "ftp://x" } }, "INVALID_CONFIG"],
      [{ ...base, target: { type: "lambda", functionName: "f", url: HOOK } }, "INVALID_CONFIG"],
      [{ ...base, secret: "whsec_short" }, "INVALID_CONFIG"],
      [{ ...base, name: ".." }, "INVALID_CONFIG"],
      [{ ...base, startingPosition: "AT_TIMESTAMP" }, "INVALID_CONFIG"],
      [{ ...base, filters: [{ value: "not a list" }] }, "INVALID_CONFIG"],
    ] as const) {
      const answer = await s.call("POST", "/v1/subscriptions", body);
      expect([answer.status, answer.body.error?.code], JSON.stringify(body)).toEqual([400, code]);
    }
    expect((await s.call("GET", `/v1/subscriptions/${name}`)).status).toBe(404);
    expect((await s.call("GET", `/v1/groups/floe-subscription-${name}`)).status).toBe(404);
  });

  it("a duplicate is 409 DUPLICATE_RESOURCE and leaves the first as it was", async () => {
    const topic = await topicWith(1, 1);
    const name = uniqueTopic("dup");
    const first = await s.call("POST", "/v1/subscriptions", {
      name,
      topics: [topic],
      target: { type: "http", url: HOOK },
    });
    expect(first.status).toBe(201);
    const again = await s.call("POST", "/v1/subscriptions", {
      name,
      topics: [topic],
      target: { type: "http", url: HOOK },
      startingPosition: "TRIM_HORIZON",
    });
    expect([again.status, again.body.error.code]).toEqual([409, "DUPLICATE_RESOURCE"]);
    expect(
      (await s.call("GET", "/v1/subscriptions")).body.subscriptions.find(
        (x: { name: string }) => x.name === name,
      ),
    ).toEqual(first.body);
    expect(await offsetsOf(name)).toEqual([[0, 1]]);
  });

  it("refuses a name whose consumer group already exists (its offsets would be taken over)", async () => {
    const topic = await topicWith(1, 4);
    const name = uniqueTopic("taken");
    const commit = { offsets: [{ topic, partition: 0, offset: 2 }] };
    expect((await s.call("POST", `/v1/groups/floe-subscription-${name}/offsets`, commit)).status).toBe(200);
    const answer = await s.call("POST", "/v1/subscriptions", {
      name,
      topics: [topic],
      target: { type: "http", url: HOOK },
    });
    expect([answer.status, answer.body.error.code]).toEqual([409, "DUPLICATE_RESOURCE"]);
    expect((await s.call("GET", `/v1/subscriptions/${name}`)).status).toBe(404);
    expect(await offsetsOf(name)).toEqual([[0, 2]]);
  });

  it("PATCH changes settings, pauses and resumes, with an optional version precondition", async () => {
    const topic = await topicWith(1, 0);
    const name = uniqueTopic("p");
    const created = (
      await s.call("POST", "/v1/subscriptions", {
        name,
        topics: [topic],
        target: { type: "http", url: HOOK },
      })
    ).body;
    const paused = await s.call("PATCH", `/v1/subscriptions/${name}`, {
      state: "Disabled",
      batchSize: 10,
      version: created.version,
    });
    expect(paused.status).toBe(200);
    expect(paused.body).toMatchObject({
      state: "Disabled",
      batchSize: 10,
      version: created.version + 1,
      secret: created.secret,
    });
    const stale = await s.call("PATCH", `/v1/subscriptions/${name}`, {
      state: "Enabled",
      version: created.version,
    });
    expect([stale.status, stale.body.error.code]).toEqual([409, "INVALID_UPDATE_VERSION"]);
    const resumed = await s.call("PATCH", `/v1/subscriptions/${name}`, { state: "Enabled" });
    expect(resumed.body.state).toBe("Enabled");
    const lambda = await s.call("PATCH", `/v1/subscriptions/${name}`, {
      target: { type: "lambda", functionName: "f" },
    });
    expect(lambda.body).toMatchObject({
      secret: null,
      target: { type: "lambda", functionName: "f", timeoutMs: 900_000 },
    });

    for (const [change, code] of [
      // The starting position only applies at creation: PATCH does not know the field.
      [{ startingPosition: "LATEST" }, "INVALID_REQUEST"],
      [{ batchSize: 0 }, "INVALID_CONFIG"],
      [{ state: "Deleting" }, "INVALID_CONFIG"],
      [{ maximumRecordAgeMs: 5000 }, "INVALID_CONFIG"],
      [{ topics: [topic], topicRegex: "x" }, "INVALID_CONFIG"],
    ] as const) {
      const answer = await s.call("PATCH", `/v1/subscriptions/${name}`, change);
      expect([answer.status, answer.body.error.code], JSON.stringify(change)).toEqual([400, code]);
    }
    expect((await s.call("GET", `/v1/subscriptions/${name}`)).body.version).toBe(lambda.body.version);
    const missing = await s.call("PATCH", `/v1/subscriptions/${uniqueTopic("none")}`, { batchSize: 5 });
    expect([missing.status, missing.body.error.code]).toEqual([404, "RESOURCE_NOT_FOUND"]);
  });

  it("DELETE is 202 Deleting while a member holds the group, 204 once it left; then 404", async () => {
    const topic = await topicWith(1, 1);
    const name = uniqueTopic("d");
    expect(
      (
        await s.call("POST", "/v1/subscriptions", {
          name,
          topics: [topic],
          target: { type: "http", url: HOOK },
        })
      ).status,
    ).toBe(201);
    const group = `/v1/groups/floe-subscription-${name}`;
    const joined = await s.call("POST", `${group}/heartbeat`, { memberEpoch: 0, subscribedTopics: [topic] });
    expect(joined.status).toBe(200);

    const deleting = await s.call("DELETE", `/v1/subscriptions/${name}`);
    expect([deleting.status, deleting.body]).toEqual([202, { state: "Deleting" }]);
    expect((await s.call("GET", `/v1/subscriptions/${name}`)).body.state).toBe("Deleting");
    const refused = await s.call("PATCH", `/v1/subscriptions/${name}`, { state: "Enabled" });
    expect([refused.status, refused.body.error.code]).toEqual([400, "INVALID_REQUEST"]);

    const left = await s.call("POST", `${group}/heartbeat`, {
      memberId: joined.body.memberId,
      memberEpoch: -1,
    });
    expect(left.status).toBe(200);
    const deleted = await s.call("DELETE", `/v1/subscriptions/${name}`);
    expect(deleted.status).toBe(204);
    expect((await s.call("GET", `/v1/subscriptions/${name}`)).status).toBe(404);
    expect((await s.call("GET", group)).status).toBe(404);
    const again = await s.call("DELETE", `/v1/subscriptions/${name}`);
    expect([again.status, again.body.error.code]).toEqual([404, "RESOURCE_NOT_FOUND"]);
  });

  it("a bad name in the path is 400 INVALID_CONFIG; an unknown one 404 RESOURCE_NOT_FOUND", async () => {
    const bad = await s.call("GET", `/v1/subscriptions/${encodeURIComponent("a b")}`);
    expect([bad.status, bad.body.error.code]).toEqual([400, "INVALID_CONFIG"]);
    const unknown = await s.call("GET", `/v1/subscriptions/${uniqueTopic("nobody")}`);
    expect([unknown.status, unknown.body.error.code]).toEqual([404, "RESOURCE_NOT_FOUND"]);
  });
});
