/**
 * The Lambda entry points, invoked as API Gateway (HTTP API, payload v2) would invoke them, against
 * the aws backend on the emulators (DynamoDB Local + s3rver from the global setup).
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as adminModule from "../../../functions/admin.js";
import * as fetchModule from "../../../functions/fetch.js";
import * as produceModule from "../../../functions/produce.js";
import type { ApiHandler } from "../../../src/api/api-handler.js";
import { apiGatewayEvent as apiEvent, invoke } from "../../support/api-gateway-event.js";
import { emulatorEndpoints, lambdaEnvOnEmulators } from "../../support/emulators.js";

const emulators = emulatorEndpoints();

describe.skipIf(!emulators)("Lambda functions on the aws backend (emulators)", () => {
  let env: NodeJS.ProcessEnv;
  let admin: ApiHandler;
  let produce: ApiHandler;
  let fetch: ApiHandler;
  const topic = `fn-${randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    env = await lambdaEnvOnEmulators("fn");
    admin = adminModule.createHandler(env);
    produce = produceModule.createHandler(env);
    fetch = fetchModule.createHandler(env);
  });

  afterAll(() => {
    for (const key of ["FLOE_BUCKET", "FLOE_TABLE", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_DYNAMODB"]) {
      delete process.env[key];
    }
  });

  it("admin creates, lists and describes a topic", async () => {
    const created = await invoke(
      admin,
      apiEvent("POST", "/v1/topics", { body: { name: topic, partitions: 2 } }),
    );
    expect(created.status).toBe(201);
    expect(created.body.partitions).toHaveLength(2);
    const listed = await invoke(admin, apiEvent("GET", "/v1/topics"));
    expect(listed.body.topics).toContain(topic);
    const described = await invoke(admin, apiEvent("GET", `/v1/topics/${topic}`));
    expect(described.status).toBe(200);
    expect(described.body.topicId).toBe(created.body.topicId);
  });

  it("produce appends records (one object per invocation) and fetch reads them back", async () => {
    const records = [
      { key: "a", value: { n: 1 }, partition: 0 },
      { key: "b", value: "two", partition: 1, headers: { h: "v" } },
      { value: null, partition: 0 },
    ];
    const produced = await invoke(
      produce,
      apiEvent("POST", `/v1/topics/${topic}/records`, { body: { records } }),
    );
    expect(produced.status).toBe(200);
    expect(produced.body.offsets).toEqual([
      { partition: 0, offset: 0 },
      { partition: 1, offset: 0 },
      { partition: 0, offset: 1 },
    ]);

    const p0 = await invoke(
      fetch,
      apiEvent("GET", `/v1/topics/${topic}/partitions/0/records`, { query: "offset=0" }),
    );
    expect(p0.status).toBe(200);
    expect(p0.body.records.map((r: { key: string; value: unknown }) => [r.key, r.value])).toEqual([
      ["a", { n: 1 }],
      [null, null],
    ]);
    const many = await invoke(
      fetch,
      apiEvent("POST", "/v1/fetch", { body: { partitions: [{ topic, partition: 1, offset: 0 }] } }),
    );
    expect(many.body.partitions[0].records[0]).toMatchObject({ key: "b", value: "two", headers: { h: "v" } });
    const latest = await invoke(
      fetch,
      apiEvent("GET", `/v1/topics/${topic}/partitions/0/offsets`, { query: "at=latest" }),
    );
    expect(latest.body).toEqual({ topic, partition: 0, offset: 2, timestamp: null });
  });

  it("accepts a base64-encoded body, as API Gateway sends binary media types", async () => {
    const res = await invoke(
      produce,
      apiEvent("POST", `/v1/topics/${topic}/records`, {
        body: { records: [{ value: 3, partition: 1 }] },
        base64: true,
      }),
    );
    expect(res.status).toBe(200);
    expect(res.body.offsets).toEqual([{ partition: 1, offset: 1 }]);
  });

  it("serves only its own routes, plus health and OpenAPI", async () => {
    const adminOnProduce = await invoke(produce, apiEvent("GET", "/v1/topics"));
    expect(adminOnProduce.status).toBe(404);
    expect(adminOnProduce.body.error.code).toBe("ROUTE_NOT_FOUND");
    const produceOnFetch = await invoke(
      fetch,
      apiEvent("POST", `/v1/topics/${topic}/records`, { body: { records: [{ value: 1 }] } }),
    );
    expect(produceOnFetch.status).toBe(404);
    for (const handler of [admin, produce, fetch]) {
      const health = await invoke(handler, apiEvent("GET", "/v1/health"));
      expect(health.status).toBe(200);
      expect(health.body.status).toBe("ok");
      const openapi = await invoke(handler, apiEvent("GET", "/v1/openapi.json"));
      expect(openapi.body.openapi).toBe("3.1.0");
    }
  });

  it("leaves topic auto-creation off unless FLOE_AUTO_CREATE_TOPICS is true", async () => {
    const name = `auto-${randomUUID().slice(0, 8)}`;
    const refused = await invoke(
      produce,
      apiEvent("POST", `/v1/topics/${name}/records`, { body: { records: [{ value: 1 }] } }),
    );
    expect(refused.status).toBe(404);
    expect(refused.body.error.code).toBe("UNKNOWN_TOPIC_OR_PARTITION");
    const autoCreating = produceModule.createHandler({ ...env, FLOE_AUTO_CREATE_TOPICS: "true" });
    const created = await invoke(
      autoCreating,
      apiEvent("POST", `/v1/topics/${name}/records`, { body: { records: [{ value: 1 }] } }),
    );
    expect(created.status).toBe(200);
  });

  it("strips a named stage from the path", async () => {
    const event = apiEvent("GET", "/prod/v1/topics");
    event.requestContext.stage = "prod";
    const res = await invoke(admin, event);
    expect(res.status).toBe(200);
    expect(res.body.topics).toContain(topic);
  });

  it("the exported handler reads its configuration from the process environment", async () => {
    Object.assign(process.env, env);
    const res = await invoke(adminModule.handler, apiEvent("GET", `/v1/topics/${topic}`));
    expect(res.status).toBe(200);
    expect(res.body.name).toBe(topic);
  });

  it("answers a misconfigured deployment with a logged, generic 500 and no stack trace", async () => {
    const broken = adminModule.createHandler({ AWS_REGION: "us-east-1", POWERTOOLS_LOG_LEVEL: "CRITICAL" });
    const res = await invoke(broken, apiEvent("GET", "/v1/topics"));
    expect(res.status).toBe(500);
    expect(res.body).toEqual({
      error: { code: "UNKNOWN_SERVER_ERROR", message: expect.any(String), retriable: false },
    });
    expect(JSON.stringify(res.body)).not.toMatch(/\.ts:\d+|FLOE_BUCKET/);
  });
});
