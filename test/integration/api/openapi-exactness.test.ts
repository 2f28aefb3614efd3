/**
 * The OpenAPI document says exactly what the server accepts: each request below is checked against
 * the document the running server publishes, then sent; a request the server refuses as invalid
 * must be one the document refuses too, and the boundary cases just inside the limits must pass
 * both. Each refused case was schema-valid once (issue 11: `at=` any string, maxRecords=0,
 * maxBytes=0, config key "", memberId "", negative commit offsets, pre-1970 timestamps, an empty
 * binary body, max.message.bytes past int32).
 */
import { request as httpRequest } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DevServer, startDevServer } from "../../../src/server/dev-server.js";
import { schemaErrors } from "../../support/json-schema-check.js";

type Json = Record<string, unknown>;

interface Case {
  name: string;
  method: string;
  /** The route's path template, as in the document. */
  template: string;
  params?: Record<string, string>;
  query?: Record<string, string>;
  body?: unknown;
  /** A binary body and its media type. */
  binary?: { mediaType: string; bytes: Uint8Array };
  /** Whether the server refuses it as invalid (and so the document must, too). */
  refused: boolean;
}

/** The statuses of a request refused for what it is, not for the state it meets. */
const INVALID_STATUSES = new Set([400, 413, 416]);

let server: DevServer;
let doc: Json;

function operation(c: Case): Json {
  const op = (doc.paths as Record<string, Record<string, Json>>)[c.template]?.[c.method.toLowerCase()];
  if (!op) throw new Error(`no operation ${c.method} ${c.template} in the document`);
  return op;
}

/** Why the document refuses the request; empty when it accepts it. */
function documentErrors(c: Case): string[] {
  const op = operation(c);
  const errors: string[] = [];
  for (const parameter of (op.parameters as Json[]) ?? []) {
    const source = parameter.in === "path" ? c.params : c.query;
    const value = source?.[parameter.name as string];
    if (value === undefined) {
      if (parameter.required) errors.push(`missing ${parameter.in} parameter ${parameter.name}`);
      continue;
    }
    errors.push(...schemaErrors(parameter.schema as Json, value, doc, `${parameter.in}.${parameter.name}`));
  }
  const content = (op.requestBody as { content: Record<string, { schema: Json }> } | undefined)?.content;
  if (c.binary) {
    const schema = content?.[c.binary.mediaType]?.schema;
    if (!schema) errors.push(`no ${c.binary.mediaType} body`);
    else if (typeof schema.minLength === "number" && c.binary.bytes.length < schema.minLength) {
      errors.push(`body shorter than ${schema.minLength} bytes`);
    }
  } else if (c.body !== undefined) {
    errors.push(...schemaErrors(content?.["application/json"]?.schema ?? false, c.body, doc, "body"));
  }
  return errors;
}

/** Sends the request as written: node:http leaves "." path segments alone, unlike fetch. */
function send(c: Case): Promise<{ status: number; body: Json }> {
  let path = c.template;
  for (const [name, value] of Object.entries(c.params ?? {})) {
    path = path.replace(`{${name}}`, value === "." || value === ".." ? value : encodeURIComponent(value));
  }
  const query = new URLSearchParams(c.query ?? {}).toString();
  const payload = c.binary
    ? Buffer.from(c.binary.bytes)
    : c.body === undefined
      ? undefined
      : JSON.stringify(c.body);
  const headers: Record<string, string> = {};
  if (c.binary) headers["content-type"] = c.binary.mediaType;
  else if (payload !== undefined) headers["content-type"] = "application/json";
  if (payload !== undefined) headers["content-length"] = String(Buffer.byteLength(payload));
  return new Promise((resolve, reject) => {
    // Host, port and path apart: a URL string would go through `new URL`, which resolves "." away.
    const req = httpRequest(
      {
        host: "127.0.0.1",
        port: server.port,
        path: `${path}${query ? `?${query}` : ""}`,
        method: c.method,
        headers,
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (text += chunk));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, body: text ? (JSON.parse(text) as Json) : {} }),
        );
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}

const TOPIC = "exact";
const partition = (query: Record<string, string>, refused: boolean, name: string): Case => ({
  name,
  method: "GET",
  template: "/v1/topics/{topic}/partitions/{partition}/records",
  params: { topic: TOPIC, partition: "0" },
  query: { offset: "0", ...query },
  refused,
});
const listOffsets = (at: string, refused: boolean): Case => ({
  name: `at=${at}`,
  method: "GET",
  template: "/v1/topics/{topic}/partitions/{partition}/offsets",
  params: { topic: TOPIC, partition: "0" },
  query: { at },
  refused,
});
const createTopic = (name: string, config: unknown, refused: boolean): Case => ({
  name: `config ${JSON.stringify(config)}`,
  method: "POST",
  template: "/v1/topics",
  body: { name, config },
  refused,
});
const heartbeat = (body: Json, refused: boolean, name = JSON.stringify(body)): Case => ({
  name: `heartbeat ${name}`,
  method: "POST",
  template: "/v1/groups/{group}/heartbeat",
  params: { group: "exact-group" },
  body,
  refused,
});
const commit = (body: Json, refused: boolean): Case => ({
  name: `commit ${JSON.stringify(body)}`,
  method: "POST",
  template: "/v1/groups/{group}/offsets",
  params: { group: "exact-standalone" },
  body,
  refused,
});

const INT32_MAX = 2 ** 31 - 1;

const HOOK = { type: "http", url: "https://example.com/hook" };
const secretOf = (bytes: number) => `whsec_${Buffer.alloc(bytes, 5).toString("base64")}`;
const createSubscription = (name: string, body: Json, refused: boolean): Case => ({
  name: `subscription ${name} ${JSON.stringify(body).slice(0, 120)}`,
  method: "POST",
  template: "/v1/subscriptions",
  body: { name, topics: [TOPIC], target: HOOK, ...body },
  refused,
});
const updateSubscription = (body: Json, refused: boolean): Case => ({
  name: `subscription change ${JSON.stringify(body)}`,
  method: "PATCH",
  template: "/v1/subscriptions/{name}",
  params: { name: "exact-s-ok" },
  body,
  refused,
});

const CASES: Case[] = [
  listOffsets("bogus", true),
  listOffsets("1969-12-31T23:59:59Z", true),
  listOffsets("1970-01-01T00:30:00+01:00", true),
  listOffsets("-1", true),
  listOffsets("earliest", false),
  listOffsets("0", false),
  listOffsets("1970-01-01T00:00:00Z", false),
  listOffsets("2024-05-01T12:00:00+02:00", false),
  partition({ maxRecords: "0" }, true, "maxRecords=0"),
  partition({ maxRecords: "1" }, false, "maxRecords=1"),
  partition({ maxBytes: "0" }, true, "maxBytes=0"),
  partition({ maxBytes: "1" }, false, "maxBytes=1"),
  partition({ offset: "-1" }, true, "offset=-1"),
  {
    name: "partition 10000 (past the 10000-partition limit)",
    method: "GET",
    template: "/v1/topics/{topic}/partitions/{partition}/records",
    params: { topic: TOPIC, partition: "10000" },
    query: { offset: "0" },
    refused: true,
  },
  {
    name: "topic named .",
    method: "GET",
    template: "/v1/topics/{topic}",
    params: { topic: "." },
    refused: true,
  },
  {
    name: "topic named ..",
    method: "DELETE",
    template: "/v1/topics/{topic}",
    params: { topic: ".." },
    refused: true,
  },
  createTopic("exact-c1", { "": 1 }, true),
  createTopic("exact-c2", { hasOwnProperty: "1" }, true),
  createTopic("exact-c3", { constructor: "1" }, true),
  createTopic("exact-c4", { "max.message.bytes": 2147483648 }, true),
  createTopic("exact-c5", { "max.message.bytes": 1e15 }, true),
  createTopic("exact-c6", { "max.message.bytes": "2147483648" }, true),
  createTopic("exact-c7", { "retention.ms": -2 }, true),
  createTopic("exact-c8", { "cleanup.policy": "forever" }, true),
  createTopic("exact-ok1", { "max.message.bytes": INT32_MAX, "retention.ms": "-1" }, false),
  createTopic("exact-ok2", { "retention.bytes": -5, "cleanup.policy": "compact" }, false),
  {
    name: "update config key valueOf",
    method: "PATCH",
    template: "/v1/topics/{topic}",
    params: { topic: TOPIC },
    body: { config: { valueOf: null } },
    refused: true,
  },
  {
    name: "produce timestamp before 1970",
    method: "POST",
    template: "/v1/topics/{topic}/records",
    params: { topic: TOPIC },
    body: { records: [{ value: 1, timestamp: "1969-12-31T23:59:59Z" }] },
    refused: true,
  },
  {
    name: "produce timestamp at the epoch",
    method: "POST",
    template: "/v1/topics/{topic}/records",
    params: { topic: TOPIC },
    body: { records: [{ value: 1, timestamp: "1970-01-01T00:00:00Z" }] },
    refused: false,
  },
  {
    name: "empty record-batch body",
    method: "POST",
    template: "/v1/topics/{topic}/partitions/{partition}/records",
    params: { topic: TOPIC, partition: "0" },
    binary: { mediaType: "application/vnd.kafka.record-batch.v2", bytes: new Uint8Array(0) },
    refused: true,
  },
  {
    name: "empty partition-batches body",
    method: "POST",
    template: "/v1/records",
    binary: { mediaType: "application/vnd.floe.partition-batches.v1", bytes: new Uint8Array(0) },
    refused: true,
  },
  heartbeat({ memberId: "", memberEpoch: 0, subscribedTopics: [TOPIC] }, true),
  heartbeat({ memberEpoch: 0 }, true, "join without a subscription"),
  heartbeat({ memberEpoch: 0, subscribedTopicRegex: "" }, true, "join with an empty regex"),
  heartbeat({ memberEpoch: 3 }, true, "epoch 3 without memberId"),
  heartbeat({ memberEpoch: -2, memberId: "m" }, true),
  heartbeat({ memberEpoch: INT32_MAX + 1, memberId: "m" }, true),
  heartbeat({ memberEpoch: 0, subscribedTopics: [TOPIC], rebalanceTimeoutMs: 0 }, true),
  heartbeat({ memberEpoch: 0, subscribedTopics: [TOPIC], rebalanceTimeoutMs: INT32_MAX + 1 }, true),
  heartbeat({ memberEpoch: 0, subscribedTopics: [TOPIC], rebalanceTimeoutMs: 1000 }, false),
  commit({ memberId: "", offsets: [{ topic: TOPIC, partition: 0, offset: 0 }] }, true),
  commit({ offsets: [{ topic: TOPIC, partition: 0, offset: -1 }] }, true),
  {
    ...commit({ offsets: [{ topic: TOPIC, partition: 0, offset: 0, metadata: "x".repeat(4097) }] }, true),
    name: "commit metadata of 4097 characters",
  },
  commit({ offsets: [{ topic: TOPIC, partition: 0, offset: 0 }] }, false),
  // The settings' rules across fields are in the document too (subscription-schemas.ts).
  createSubscription("exact-s1", { topicRegex: "exact.*" }, true),
  createSubscription("exact-s2", { topics: null }, true),
  createSubscription("exact-s3", { startingPosition: "AT_TIMESTAMP" }, true),
  createSubscription("exact-s4", { startingPositionTimestamp: 5 }, true),
  createSubscription("exact-s5", { maximumRetryAttempts: 3 }, true),
  createSubscription("exact-s6", { maximumRecordAgeMs: 60_000, onFailureTopic: null }, true),
  createSubscription(
    "exact-s7",
    { target: { type: "lambda", functionName: "f" }, secret: secretOf(32) },
    true,
  ),
  createSubscription("exact-s8", { target: { type: "lambda", functionName: "has space" } }, true),
  createSubscription("exact-s9", { target: { type: "http", url: "ftp://example.com/" } }, true),
  createSubscription("exact-s10", { target: { type: "http", url: "http://#fragment" } }, true),
  createSubscription("exact-s11", { target: { type: "http", url: "http://example.com:65536/" } }, true),
  createSubscription("exact-s12", { secret: secretOf(23) }, true),
  createSubscription("exact-s13", { secret: secretOf(65) }, true),
  createSubscription("exact-s14", { maximumRecordAgeMs: 999, onFailureTopic: "exact-dlq" }, true),
  createSubscription("x".repeat(232), {}, true),
  createSubscription("..", {}, true),
  createSubscription("exact-s15", { batchSize: 10_001 }, true),
  createSubscription(
    "exact-s-ok",
    { secret: secretOf(24), maximumRetryAttempts: 0, onFailureTopic: "exact-dlq" },
    false,
  ),
  createSubscription(
    "x".repeat(231),
    {
      topics: null,
      topicRegex: "exact",
      target: { type: "lambda", functionName: "arn:aws:lambda:us-east-1:123456789012:function:f:live" },
      startingPosition: "AT_TIMESTAMP",
      startingPositionTimestamp: 0,
      maximumRecordAgeMs: 604_800_000,
      onFailureTopic: "exact-dlq",
    },
    false,
  ),
  createSubscription(
    "exact-s-ok2",
    { target: { type: "http", url: "http://user:pw@[::1]:8080/a?b#c" }, secret: secretOf(64) },
    false,
  ),
  updateSubscription({ topics: [TOPIC], topicRegex: "x" }, true),
  updateSubscription({ target: { type: "lambda", functionName: "f" }, secret: secretOf(32) }, true),
  updateSubscription({ startingPosition: "LATEST" }, true),
  updateSubscription({ version: 0 }, true),
  updateSubscription({ topicRegex: "exact", state: "Disabled", version: 1 }, false),
  {
    name: "reset to a time before 1970",
    method: "POST",
    template: "/v1/groups/{group}/offsets/reset",
    params: { group: "exact-standalone" },
    body: { topic: TOPIC, to: { timestamp: "1969-12-31T23:59:59Z" } },
    refused: true,
  },
];

describe("the OpenAPI document refuses what the server refuses as invalid", () => {
  beforeAll(async () => {
    server = await startDevServer({
      port: 0,
      storage: "memory",
      log: () => {},
      maintenanceIntervalMs: 0,
      // The subscriptions made here are checked, never delivered.
      subscriptions: false,
    });
    doc = (await (await fetch(`${server.url}/v1/openapi.json`)).json()) as Json;
    const created = await send({
      name: "setup",
      method: "POST",
      template: "/v1/topics",
      body: { name: TOPIC, partitions: 2 },
      refused: false,
    });
    expect(created.status).toBe(201);
  });
  afterAll(async () => {
    await server?.close();
  });

  it.each(CASES.map((c) => [c.name, c] as const))("%s", async (_, c) => {
    const errors = documentErrors(c);
    const answer = await send(c);
    const invalid = INVALID_STATUSES.has(answer.status);
    if (invalid) {
      // Every refusal carries the documented error body.
      expect(answer.body.error, JSON.stringify(answer.body)).toMatchObject({
        code: expect.any(String),
        message: expect.any(String),
      });
    }
    expect(invalid, `server answered ${answer.status} ${JSON.stringify(answer.body)}`).toBe(c.refused);
    if (c.refused) expect(errors, "the document accepts a request the server refuses").not.toEqual([]);
    else expect(errors, "the document refuses a request the server accepts").toEqual([]);
  });

  it("the refused requests changed nothing: only the accepted creates made topics, with their configs", async () => {
    const listed = (await (await fetch(`${server.url}/v1/topics`)).json()) as { topics: string[] };
    expect(listed.topics.sort()).toEqual([TOPIC, "exact-ok1", "exact-ok2"]);
    const topic = (await (await fetch(`${server.url}/v1/topics/${TOPIC}`)).json()) as Json;
    expect(topic.configOverrides).toEqual({});
    const subscriptions = (await (await fetch(`${server.url}/v1/subscriptions`)).json()) as {
      subscriptions: { name: string }[];
    };
    expect(subscriptions.subscriptions.map((x) => x.name).sort()).toEqual(
      ["exact-s-ok", "exact-s-ok2", "x".repeat(231)].sort(),
    );
  });
});
