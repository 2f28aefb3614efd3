/**
 * The traffic metrics the deployed dashboard charts (cdk/observability.ts FLOE_METRICS), as the
 * Lambda functions publish them: one CloudWatch embedded-metric-format document on stdout per
 * invocation that produced or fetched, captured here from the real handlers on the aws backend
 * (DynamoDB Local + s3rver).
 */
import { randomUUID } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import * as adminModule from "../../../functions/admin.js";
import * as fetchModule from "../../../functions/fetch.js";
import * as produceModule from "../../../functions/produce.js";
import type { ApiHandler } from "../../../src/api/api-handler.js";
import { RECORD_BATCH_MEDIA_TYPE } from "../../../src/api/routes/record-batch-media.js";
import { apiGatewayEvent as apiEvent, lambdaContext } from "../../support/api-gateway-event.js";
import { emulatorEndpoints, lambdaEnvOnEmulators } from "../../support/emulators.js";

const emulators = emulatorEndpoints();

interface Emf {
  _aws: {
    CloudWatchMetrics: {
      Namespace: string;
      Dimensions: string[][];
      Metrics: { Name: string; Unit: string }[];
    }[];
  };
  [field: string]: unknown;
}

/** Invokes `handler`, returning its answer and the EMF documents it wrote to stdout meanwhile. */
async function invokeCapturing(handler: ApiHandler, event: ReturnType<typeof apiEvent>) {
  const written: string[] = [];
  const write = process.stdout.write;
  process.stdout.write = ((chunk: string | Uint8Array) => {
    written.push(typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8"));
    return true;
  }) as typeof process.stdout.write;
  let result: Awaited<ReturnType<ApiHandler>>;
  try {
    result = await handler(event, lambdaContext());
  } finally {
    process.stdout.write = write;
  }
  const emf = written
    .join("")
    .split("\n")
    .filter((line) => line.includes('"_aws"'))
    .map((line) => JSON.parse(line) as Emf);
  return { result, emf };
}

/** The metric values of the one EMF document, after checking its namespace, dimensions and units. */
function figures(emf: Emf[], service: string): Record<string, number> {
  expect(emf).toHaveLength(1);
  const [doc] = emf;
  const [directive] = doc._aws.CloudWatchMetrics;
  expect(directive.Namespace).toBe("Floe");
  expect(directive.Dimensions).toEqual([["service"]]);
  expect(doc.service).toBe(service);
  const out: Record<string, number> = {};
  for (const m of directive.Metrics) {
    expect(m.Unit, m.Name).toBe(m.Name.startsWith("Bytes") ? "Bytes" : "Count");
    out[m.Name] = doc[m.Name] as number;
  }
  return out;
}

describe.skipIf(!emulators)("the functions' traffic metrics (embedded metric format)", () => {
  let produce: ApiHandler;
  let fetch: ApiHandler;
  let admin: ApiHandler;
  const topic = `metrics-${randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    const env = await lambdaEnvOnEmulators("metrics");
    admin = adminModule.createHandler(env);
    produce = produceModule.createHandler(env);
    fetch = fetchModule.createHandler(env);
    const created = await admin(
      apiEvent("POST", "/v1/topics", { body: { name: topic, partitions: 2 } }),
      lambdaContext(),
    );
    expect(created.statusCode).toBe(201);
  });

  it("a produce publishes RecordsIn and BytesIn", async () => {
    // Values in JSON are stored as their JSON text: 12345 is 5 bytes, {"n":1} 7, 7 one.
    const records = [
      { value: 12345, partition: 0 },
      { value: { n: 1 }, partition: 0 },
      { value: 7, partition: 1 },
    ];
    const { result, emf } = await invokeCapturing(
      produce,
      apiEvent("POST", `/v1/topics/${topic}/records`, { body: { records } }),
    );
    expect(result.statusCode).toBe(200);
    expect(figures(emf, "floe-produce")).toEqual({ RecordsIn: 3, BytesIn: 13 });
  });

  it("a fetch publishes RecordsOut, BytesOut and ConsumerLag (highWatermark − nextOffset)", async () => {
    const all = await invokeCapturing(
      fetch,
      apiEvent("GET", `/v1/topics/${topic}/partitions/0/records`, { query: "offset=0" }),
    );
    expect(all.result.statusCode).toBe(200);
    expect(figures(all.emf, "floe-fetch")).toEqual({ RecordsOut: 2, BytesOut: 12, ConsumerLag: 0 });

    const first = await invokeCapturing(
      fetch,
      apiEvent("GET", `/v1/topics/${topic}/partitions/0/records`, { query: "offset=0&maxRecords=1" }),
    );
    expect(figures(first.emf, "floe-fetch")).toEqual({ RecordsOut: 1, BytesOut: 5, ConsumerLag: 1 });
  });

  it("a fetch over many partitions adds them up, takes the largest lag and skips failed partitions", async () => {
    const { result, emf } = await invokeCapturing(
      fetch,
      apiEvent("POST", "/v1/fetch", {
        body: {
          partitions: [
            { topic, partition: 0, offset: 0, maxBytes: 1 },
            { topic, partition: 1, offset: 0 },
            { topic: `${topic}-missing`, partition: 0, offset: 0 },
          ],
        },
      }),
    );
    expect(result.statusCode).toBe(200);
    const body = JSON.parse(result.body as string);
    expect(body.partitions[2].error.code).toBe("UNKNOWN_TOPIC_OR_PARTITION");
    // Partition 0 answers its first record only (maxBytes 1, always at least one): 1 of 2 left.
    expect(figures(emf, "floe-fetch")).toEqual({ RecordsOut: 2, BytesOut: 6, ConsumerLag: 1 });
  });

  it("a binary fetch counts the RecordBatch bytes as sent", async () => {
    const { result, emf } = await invokeCapturing(
      fetch,
      apiEvent("GET", `/v1/topics/${topic}/partitions/0/records`, {
        query: "offset=0",
        headers: { Accept: RECORD_BATCH_MEDIA_TYPE },
      }),
    );
    expect(result.statusCode).toBe(200);
    const sent = Buffer.from(result.body as string, result.isBase64Encoded ? "base64" : "utf8");
    expect(figures(emf, "floe-fetch")).toEqual({ RecordsOut: 2, BytesOut: sent.length, ConsumerLag: 0 });
  });

  it("a refused produce and an admin call publish nothing", async () => {
    const refused = await invokeCapturing(
      produce,
      apiEvent("POST", `/v1/topics/${topic}-missing/records`, { body: { records: [{ value: 1 }] } }),
    );
    expect(refused.result.statusCode).toBe(404);
    expect(refused.emf).toEqual([]);
    const listed = await invokeCapturing(admin, apiEvent("GET", "/v1/topics"));
    expect(listed.result.statusCode).toBe(200);
    expect(listed.emf).toEqual([]);
  });
});
