import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeBatches, readBatchHeaders } from "../../../src/log/record-batch.js";
import { apiStorages, startTestServer, type TestServer, uniqueTopic } from "../api/harness.js";
import {
  batch,
  corrupted,
  gzipped,
  RECORD_BATCH,
  records,
  withAttributes,
  withProducerId,
} from "./batches.js";

const b64 = (bytes: Uint8Array | null) => (bytes === null ? null : Buffer.from(bytes).toString("base64"));

describe.each(apiStorages)("binary fast path on %s", (storage) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(storage);
  });
  afterAll(async () => {
    await s?.close();
  });

  async function topic(partitions = 1, config?: Record<string, unknown>): Promise<string> {
    const name = uniqueTopic("bin");
    const res = await s.call("POST", "/v1/topics", { name, partitions, ...(config ? { config } : {}) });
    expect(res.status).toBe(201);
    return name;
  }

  const produceBinary = (t: string, partition: number, body: Uint8Array, contentType = RECORD_BATCH) =>
    s.raw("POST", `/v1/topics/${t}/partitions/${partition}/records`, body, { "content-type": contentType });

  async function fetchBinary(t: string, partition: number, query: string) {
    const res = await fetch(`${s.url}/v1/topics/${t}/partitions/${partition}/records?${query}`, {
      headers: { accept: RECORD_BATCH },
    });
    return { status: res.status, headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) };
  }

  async function highWatermark(t: string, partition = 0): Promise<number> {
    const res = await s.call("GET", `/v1/topics/${t}`);
    return res.body.partitions[partition].highWatermark;
  }

  it("binary produce, then JSON fetch, gives the same records", async () => {
    const t = await topic(2);
    const first = await produceBinary(t, 1, Buffer.concat([batch(records(3, "a")), batch(records(2, "b"))]));
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ baseOffset: 0, count: 5 });
    const second = await produceBinary(t, 1, batch(records(1, "c")));
    expect(second.body).toEqual({ baseOffset: 5, count: 1 });

    const fetched = await s.call("GET", `/v1/topics/${t}/partitions/1/records?offset=0&encoding=base64`);
    expect(fetched.status).toBe(200);
    const expected = [...records(3, "a"), ...records(2, "b"), ...records(1, "c")];
    expect(fetched.body.records).toEqual(
      expected.map((r, offset) => ({
        offset,
        timestamp: r.timestamp,
        key: b64(r.key),
        value: b64(r.value),
        headers: { h: b64(r.headers[0].value) },
      })),
    );
    expect(fetched.body.highWatermark).toBe(6);
    expect(await highWatermark(t, 0)).toBe(0);
  });

  it("JSON produce, then binary fetch, gives the same records with real base offsets", async () => {
    const t = await topic();
    const sent = [
      { key: "k0", value: "zero", headers: { h: "x" }, timestamp: 1000 },
      { value: null, timestamp: 2000 },
    ];
    expect((await s.call("POST", `/v1/topics/${t}/records?encoding=string`, { records: sent })).status).toBe(
      200,
    );
    expect(
      (await s.call("POST", `/v1/topics/${t}/records?encoding=string`, { records: [{ value: "two" }] }))
        .status,
    ).toBe(200);

    const res = await fetchBinary(t, 0, "offset=0");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe(RECORD_BATCH);
    expect(res.headers.get("floe-high-watermark")).toBe("3");
    expect(res.headers.get("floe-log-start-offset")).toBe("0");
    expect(res.headers.get("floe-next-offset")).toBe("3");
    const decoded = decodeBatches(res.bytes).flatMap((b) => b.records);
    expect(
      decoded.map((r) => [
        r.offset,
        r.key && Buffer.from(r.key).toString(),
        r.value && Buffer.from(r.value).toString(),
      ]),
    ).toEqual([
      [0, "k0", "zero"],
      [1, null, null],
      [2, null, "two"],
    ]);
    expect(decoded[0].headers).toEqual([{ key: "h", value: new Uint8Array(Buffer.from("x")) }]);
    expect(decoded.slice(0, 2).map((r) => r.timestamp)).toEqual([1000, 2000]);
    expect(readBatchHeaders(res.bytes).map((h) => h.baseOffset)).toEqual([0, 2]);
  });

  it("answers whole batches: the first may start before the offset, limits stop at batch boundaries", async () => {
    const t = await topic();
    for (const n of [4, 4, 4]) expect((await produceBinary(t, 0, batch(records(n)))).status).toBe(200);

    const middle = await fetchBinary(t, 0, "offset=5");
    expect(readBatchHeaders(middle.bytes).map((h) => h.baseOffset)).toEqual([4, 8]);
    expect(middle.headers.get("floe-next-offset")).toBe("12");

    const oneBatch = await fetchBinary(t, 0, "offset=0&maxBytes=1");
    expect(readBatchHeaders(oneBatch.bytes).map((h) => h.baseOffset)).toEqual([0]);
    expect(oneBatch.headers.get("floe-next-offset")).toBe("4");

    const atEnd = await fetchBinary(t, 0, "offset=12");
    expect(atEnd.status).toBe(200);
    expect(atEnd.bytes.length).toBe(0);
    expect(atEnd.headers.get("floe-next-offset")).toBe("12");

    const past = await fetchBinary(t, 0, "offset=13");
    expect(past.status).toBe(416);
    expect(JSON.parse(past.bytes.toString()).error.code).toBe("OFFSET_OUT_OF_RANGE");
  });

  it("bounds a binary fetch by bytes, and by records only when asked, as Kafka's Fetch does", async () => {
    const t = await topic();
    for (let i = 0; i < 3; i++) expect((await produceBinary(t, 0, batch(records(300)))).status).toBe(200);
    const all = await fetchBinary(t, 0, "offset=0");
    expect(readBatchHeaders(all.bytes).map((h) => h.baseOffset)).toEqual([0, 300, 600]);
    const capped = await fetchBinary(t, 0, "offset=0&maxRecords=1");
    expect(readBatchHeaders(capped.bytes).map((h) => h.baseOffset)).toEqual([0]);
    expect(capped.headers.get("floe-next-offset")).toBe("300");
  });

  it("long-polls a binary fetch at the high-water mark until a batch arrives", async () => {
    const t = await topic();
    const polling = fetchBinary(t, 0, "offset=0&maxWaitMs=20000");
    expect((await produceBinary(t, 0, batch(records(2)))).status).toBe(200);
    const res = await polling;
    expect(
      decodeBatches(res.bytes)
        .flatMap((b) => b.records)
        .map((r) => r.offset),
    ).toEqual([0, 1]);
  });

  it("refuses a batch whose CRC does not match with 400 CORRUPT_MESSAGE, appending nothing", async () => {
    const t = await topic();
    const body = Buffer.concat([batch(records(2)), corrupted(batch(records(2)))]);
    const res = await produceBinary(t, 0, body);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("CORRUPT_MESSAGE");
    expect(await highWatermark(t)).toBe(0);
  });

  it("refuses truncated bytes and a wrong magic as CORRUPT_MESSAGE", async () => {
    const t = await topic();
    const whole = batch(records(2));
    expect((await produceBinary(t, 0, whole.subarray(0, whole.length - 1))).body.error.code).toBe(
      "CORRUPT_MESSAGE",
    );
    const magic1 = Buffer.from(whole);
    magic1[16] = 1;
    expect((await produceBinary(t, 0, magic1)).body.error.code).toBe("CORRUPT_MESSAGE");
    expect(await highWatermark(t)).toBe(0);
  });

  it("refuses a batch over max.message.bytes with 413 RECORD_TOO_LARGE, appending nothing", async () => {
    const t = await topic(1, { "max.message.bytes": 2000 });
    const big = batch([{ key: null, value: Buffer.alloc(3000, 1), headers: [], timestamp: 1 }]);
    const res = await produceBinary(t, 0, Buffer.concat([batch(records(1)), big]));
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe("RECORD_TOO_LARGE");
    expect(await highWatermark(t)).toBe(0);
  });

  it("refuses a body over 4 MiB with 413 MESSAGE_TOO_LARGE (what fits Lambda once base64-encoded)", async () => {
    const t = await topic(1, { "max.message.bytes": 8 * 1024 * 1024 });
    const huge = batch([{ key: null, value: Buffer.alloc(4 * 1024 * 1024, 2), headers: [], timestamp: 1 }]);
    const res = await produceBinary(t, 0, huge);
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe("MESSAGE_TOO_LARGE");
    expect(await highWatermark(t)).toBe(0);
  });

  it("refuses control, transactional and idempotent batches, and records that do not inflate under their codec", async () => {
    const t = await topic();
    const plain = batch(records(2));
    const refusals = [
      [withAttributes(plain, 0x20), 400, "INVALID_RECORD"],
      [withAttributes(plain, 0x10), 400, "INVALID_RECORD"],
      [withProducerId(plain, 7n), 400, "INVALID_RECORD"],
      [withAttributes(plain, 0x02), 400, "CORRUPT_MESSAGE"], // "snappy" over uncompressed records
      [withAttributes(plain, 0x08), 400, "INVALID_RECORD"],
    ] as const;
    for (const [body, status, code] of refusals) {
      const res = await produceBinary(t, 0, body);
      expect([res.status, res.body.error.code]).toEqual([status, code]);
    }
    expect(await highWatermark(t)).toBe(0);
  });

  it("refuses other media types, empty bodies and partitions that do not exist", async () => {
    const t = await topic();
    const json = await produceBinary(t, 0, Buffer.from('{"records":[]}'), "application/json");
    expect([json.status, json.body.error.code]).toEqual([415, "UNSUPPORTED_MEDIA_TYPE"]);
    const empty = await produceBinary(t, 0, Buffer.alloc(0));
    expect([empty.status, empty.body.error.code]).toEqual([400, "INVALID_REQUEST"]);
    const missing = await produceBinary(t, 3, batch(records(1)));
    expect([missing.status, missing.body.error.code]).toEqual([404, "UNKNOWN_TOPIC_OR_PARTITION"]);
  });

  it("stores gzip batches as sent and serves their records over JSON", async () => {
    const t = await topic();
    const res = await produceBinary(t, 0, gzipped(batch(records(3, "z"))));
    expect(res.body).toEqual({ baseOffset: 0, count: 3 });
    const fetched = await s.call("GET", `/v1/topics/${t}/partitions/0/records?offset=0&encoding=string`);
    expect(fetched.body.records.map((r: { value: string }) => r.value)).toEqual(["z0", "z1", "z2"]);
    const raw = await fetchBinary(t, 0, "offset=0");
    expect(readBatchHeaders(raw.bytes)[0].compression).toBe("gzip");
  });

  it("stores snappy, lz4 and zstd batches from Kafka's Java producer as sent and serves their records over JSON", async () => {
    const java = JSON.parse(
      readFileSync(new URL("../../unit/log/fixtures/java-producer-batches.json", import.meta.url), "utf8"),
    ) as Record<string, { small: string }>;
    for (const codec of ["snappy", "lz4", "zstd"]) {
      const t = await topic();
      const sent = Buffer.from(java[codec].small, "base64");
      expect((await produceBinary(t, 0, sent)).body).toEqual({ baseOffset: 0, count: 3 });
      const fetched = await s.call("GET", `/v1/topics/${t}/partitions/0/records?offset=0&encoding=string`);
      expect(fetched.body.records.map((r: { key: string | null }) => r.key)).toEqual([
        "key-0",
        "key-1",
        "key-2",
      ]);
      const raw = await fetchBinary(t, 0, "offset=0");
      expect(raw.bytes.equals(sent)).toBe(true); // stored as sent, still compressed
    }
  });

  it("honours LogAppendTime: maxTimestamp and the attribute are stamped and the CRC still holds", async () => {
    const t = await topic(1, { "message.timestamp.type": "LogAppendTime" });
    const before = Date.now();
    expect((await produceBinary(t, 0, batch(records(3, "v", 5)))).status).toBe(200);
    const after = Date.now();
    const raw = await fetchBinary(t, 0, "offset=0");
    const [stored] = decodeBatches(raw.bytes); // checks the CRC
    expect(stored.timestampType).toBe("LogAppendTime");
    expect(stored.maxTimestamp).toBeGreaterThanOrEqual(before);
    expect(stored.maxTimestamp).toBeLessThanOrEqual(after);
    const fetched = await s.call("GET", `/v1/topics/${t}/partitions/0/records?offset=0&encoding=string`);
    expect(fetched.body.records.map((r: { timestamp: number }) => r.timestamp)).toEqual([
      stored.maxTimestamp,
      stored.maxTimestamp,
      stored.maxTimestamp,
    ]);
  });

  it("leaves the JSON fetch answer unchanged when Accept does not ask for batches", async () => {
    const t = await topic();
    await produceBinary(t, 0, batch(records(1)));
    const res = await s.call(
      "GET",
      `/v1/topics/${t}/partitions/0/records?offset=0&encoding=string`,
      undefined,
      {
        accept: "application/json",
      },
    );
    expect(res.headers.get("content-type")).toContain("application/json");
    expect(res.body.records[0].value).toBe("v0");
  });
});
