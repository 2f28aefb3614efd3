/**
 * The binary fast path through the Lambda entry points, as API Gateway (HTTP API, payload v2)
 * carries it: binary bodies base64-encoded with isBase64Encoded, both ways. Against the aws backend
 * on the emulators.
 */
import { randomUUID } from "node:crypto";
import type { APIGatewayProxyEventV2, Context } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as adminModule from "../../../functions/admin.js";
import * as fetchModule from "../../../functions/fetch.js";
import * as produceModule from "../../../functions/produce.js";
import type { ApiHandler } from "../../../src/api/api-handler.js";
import { decodeBatches, readBatchHeaders } from "../../../src/log/record-batch.js";
import { apiGatewayEvent } from "../../support/api-gateway-event.js";
import { emulatorEndpoints, lambdaEnvOnEmulators } from "../../support/emulators.js";
import { batch, corrupted, RECORD_BATCH, records } from "./batches.js";

const emulators = emulatorEndpoints();

/** A binary body arrives base64-encoded, as an HTTP API hands a non-text media type to Lambda. */
function event(
  method: string,
  path: string,
  options: { body?: Buffer; query?: string; headers?: Record<string, string> } = {},
): APIGatewayProxyEventV2 {
  return apiGatewayEvent(method, path, {
    rawBody: options.body,
    query: options.query,
    headers: options.headers,
  });
}

const context = { getRemainingTimeInMillis: () => 29_000, awsRequestId: randomUUID() } as unknown as Context;

describe.skipIf(!emulators)("binary fast path through the Lambda functions (emulators)", () => {
  let admin: ApiHandler;
  let produce: ApiHandler;
  let fetch: ApiHandler;
  const topic = `bin-fn-${randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    const env = await lambdaEnvOnEmulators("bin");
    admin = adminModule.createHandler(env);
    produce = produceModule.createHandler(env);
    fetch = fetchModule.createHandler(env);
    const created = await admin(
      {
        ...event("POST", "/v1/topics", { headers: { "content-type": "application/json" } }),
        body: JSON.stringify({ name: topic, partitions: 1 }),
        isBase64Encoded: false,
      },
      context,
    );
    expect(created.statusCode).toBe(201);
  });

  afterAll(() => {
    for (const key of ["FLOE_BUCKET", "FLOE_TABLE", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_DYNAMODB"]) {
      delete process.env[key];
    }
  });

  it("produces base64-carried batches and fetches them back base64-encoded, byte for byte", async () => {
    const sent = [batch(records(3, "a")), batch(records(2, "b"))];
    const produced = await produce(
      event("POST", `/v1/topics/${topic}/partitions/0/records`, {
        body: Buffer.concat(sent),
        headers: { "Content-Type": RECORD_BATCH },
      }),
      context,
    );
    expect(produced.statusCode).toBe(200);
    expect(JSON.parse(produced.body ?? "")).toEqual({ baseOffset: 0, count: 5 });

    const fetched = await fetch(
      event("GET", `/v1/topics/${topic}/partitions/0/records`, {
        query: "offset=0",
        headers: { Accept: RECORD_BATCH },
      }),
      context,
    );
    expect(fetched.statusCode).toBe(200);
    expect(fetched.isBase64Encoded).toBe(true);
    expect(fetched.headers?.["content-type"]).toBe(RECORD_BATCH);
    expect(fetched.headers?.["floe-high-watermark"]).toBe("5");
    const bytes = Buffer.from(fetched.body ?? "", "base64");
    expect(readBatchHeaders(bytes).map((h) => h.baseOffset)).toEqual([0, 3]);
    // Stored without re-encoding: everything after baseOffset (outside the CRC) is what was sent.
    expect(bytes.subarray(8, sent[0].length)).toEqual(sent[0].subarray(8));
    const values = decodeBatches(bytes).flatMap((b) =>
      b.records.map((r) => Buffer.from(r.value!).toString()),
    );
    expect(values).toEqual(["a0", "a1", "a2", "b0", "b1"]);

    const json = await fetch(
      event("GET", `/v1/topics/${topic}/partitions/0/records`, { query: "offset=3&encoding=string" }),
      context,
    );
    expect(JSON.parse(json.body ?? "").records.map((r: { value: string }) => r.value)).toEqual(["b0", "b1"]);
  });

  it("refuses a corrupt batch with 400 CORRUPT_MESSAGE and appends nothing", async () => {
    const res = await produce(
      event("POST", `/v1/topics/${topic}/partitions/0/records`, {
        body: corrupted(batch(records(1))),
        headers: { "Content-Type": RECORD_BATCH },
      }),
      context,
    );
    expect(res.statusCode).toBe(400);
    expect(JSON.parse(res.body ?? "").error.code).toBe("CORRUPT_MESSAGE");
    const described = await admin(event("GET", `/v1/topics/${topic}`), context);
    expect(JSON.parse(described.body ?? "").partitions[0].highWatermark).toBe(5);
  });

  it("refuses a batch over max.message.bytes with 413", async () => {
    const res = await produce(
      event("POST", `/v1/topics/${topic}/partitions/0/records`, {
        body: batch([{ key: null, value: Buffer.alloc(1_100_000, 3), headers: [], timestamp: 1 }]),
        headers: { "Content-Type": RECORD_BATCH },
      }),
      context,
    );
    expect(res.statusCode).toBe(413);
    expect(JSON.parse(res.body ?? "").error.code).toBe("RECORD_TOO_LARGE");
  });
});
