import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_RAW_FETCH_ANSWER_BYTES } from "../../../src/broker/read-raw.js";
import { RECORD_BATCH_MEDIA_TYPE } from "../../../src/api/routes/record-batch-media.js";
import { encodeRecordBatch, readBatchHeaders } from "../../../src/log/record-batch.js";
import { type DevServer, startDevServer } from "../../../src/server/dev-server.js";

/**
 * Issue 11 over real HTTP (floe dev): a produce whose compressed batches inflate past what one
 * request may is a 413 that appends nothing, and a binary fetch never answers more than the
 * deployed front door carries, whatever maxBytes asks.
 */
describe("binary bounds over HTTP", () => {
  let server: DevServer;
  beforeAll(async () => {
    server = await startDevServer({ port: 0, storage: "memory", log: () => {}, maintenanceIntervalMs: 0 });
  });
  afterAll(async () => {
    await server?.close();
  });

  async function produce(topic: string, bytes: Uint8Array): Promise<Response> {
    return fetch(`${server.url}/v1/topics/${topic}/partitions/0/records`, {
      method: "POST",
      headers: { "content-type": RECORD_BATCH_MEDIA_TYPE },
      body: bytes,
    });
  }

  async function highWatermark(topic: string): Promise<number> {
    const r = await fetch(`${server.url}/v1/topics/${topic}`);
    const body = (await r.json()) as { partitions: { highWatermark: number }[] };
    return body.partitions[0].highWatermark;
  }

  it("refuses gzip batches that together inflate past 64 MiB with 413 MESSAGE_TOO_LARGE, appending nothing", async () => {
    await fetch(`${server.url}/v1/topics`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "bombs", partitions: 1 }),
    });
    const zeros = encodeRecordBatch(
      [{ key: null, value: new Uint8Array(40 * 1024 * 1024), headers: [], timestamp: Date.now() }],
      { compression: "gzip" },
    );
    const body = Buffer.concat([zeros, zeros]);
    const r = await produce("bombs", body);
    expect(r.status).toBe(413);
    expect(((await r.json()) as { error: { code: string } }).error.code).toBe("MESSAGE_TOO_LARGE");
    expect(await highWatermark("bombs")).toBe(0);
  });

  it("answers a binary fetch with at most 4 MiB of batches even when maxBytes asks for 2 GiB", async () => {
    await fetch(`${server.url}/v1/topics`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "wide", partitions: 1 }),
    });
    const value = new Uint8Array(1024).fill(7);
    for (let i = 0; i < 6; i++) {
      const batches = Array.from({ length: 3 }, () =>
        encodeRecordBatch(
          Array.from({ length: 300 }, () => ({ key: null, value, headers: [], timestamp: Date.now() })),
        ),
      );
      expect((await produce("wide", Buffer.concat(batches))).status).toBe(200);
    }
    const r = await fetch(
      `${server.url}/v1/topics/wide/partitions/0/records?offset=0&maxBytes=${2 ** 31 - 1}`,
      { headers: { accept: RECORD_BATCH_MEDIA_TYPE } },
    );
    expect(r.status).toBe(200);
    const bytes = new Uint8Array(await r.arrayBuffer());
    expect(bytes.length).toBeLessThanOrEqual(MAX_RAW_FETCH_ANSWER_BYTES);
    expect(bytes.length).toBeGreaterThan(MAX_RAW_FETCH_ANSWER_BYTES - 400 * 1024);
    // Whole batches, and the next offset says where the next fetch starts.
    const headers = readBatchHeaders(bytes);
    const last = headers[headers.length - 1];
    expect(Number(r.headers.get("floe-next-offset"))).toBe(last.baseOffset + last.lastOffsetDelta + 1);
  });
});
