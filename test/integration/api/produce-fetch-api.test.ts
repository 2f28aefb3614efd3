import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FetchManyResponse, PartitionRecords, ProduceResponse } from "../../../src/api/schemas.js";
import { apiStorages, startTestServer, type TestServer, uniqueTopic } from "./harness.js";

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64");

describe.each(apiStorages)("produce and fetch API on %s", (storage) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(storage);
  });
  afterAll(async () => {
    await s?.close();
  });

  async function topic(partitions = 1): Promise<string> {
    const name = uniqueTopic();
    const res = await s.call("POST", "/v1/topics", { name, partitions });
    expect(res.status).toBe(201);
    return name;
  }

  const produce = (t: string, records: unknown[], encoding?: string) =>
    s.call("POST", `/v1/topics/${t}/records${encoding ? `?encoding=${encoding}` : ""}`, { records });

  const fetchRecords = (t: string, partition: number, query: string) =>
    s.call("GET", `/v1/topics/${t}/partitions/${partition}/records?${query}`);

  async function highWatermarks(t: string): Promise<number[]> {
    const res = await s.call("GET", `/v1/topics/${t}`);
    return res.body.partitions.map((p: { highWatermark: number }) => p.highWatermark);
  }

  describe("encodings", () => {
    it("round-trips JSON values, UTF-8 keys and headers, and tombstones (encoding=json, the default)", async () => {
      const t = await topic();
      const values = [
        { nested: [1, 2.5, { deep: null }], flag: true },
        "a string value",
        42,
        false,
        [],
        "héllo ✓ 🐟",
        null,
      ];
      const produced = await produce(
        t,
        values.map((value, i) => ({
          key: `k${i}`,
          value,
          headers: { trace: `id-${i}`, empty: "", gone: null },
        })),
      );
      expect(produced.status).toBe(200);
      expect(ProduceResponse.parse(produced.body).offsets).toEqual(
        values.map((_, offset) => ({ partition: 0, offset })),
      );

      const fetched = await fetchRecords(t, 0, "offset=0");
      expect(fetched.status).toBe(200);
      const body = PartitionRecords.parse(fetched.body);
      expect(body.records.map((r) => r.value)).toEqual(values);
      expect(body.records.map((r) => r.key)).toEqual(values.map((_, i) => `k${i}`));
      expect(body.records[3].headers).toEqual({ trace: "id-3", empty: "", gone: null });
      expect(body).toMatchObject({
        topic: t,
        partition: 0,
        nextOffset: 7,
        highWatermark: 7,
        logStartOffset: 0,
      });
    });

    it("stores a JSON value as its UTF-8 JSON text, and a tombstone as a null value, not the text null", async () => {
      const t = await topic();
      await produce(t, [{ value: { a: "é" } }, { value: null }]);
      const asBase64 = await fetchRecords(t, 0, "offset=0&encoding=base64");
      expect(asBase64.body.records.map((r: { value: string | null }) => r.value)).toEqual([
        b64(new TextEncoder().encode('{"a":"é"}')),
        null,
      ]);
    });

    it("round-trips text (encoding=string), including text that is not JSON", async () => {
      const t = await topic();
      const values = ["plain text", "", "{not json", "line\nbreak", "null", "🐟"];
      const produced = await produce(
        t,
        values.map((value) => ({ key: "κλειδί", value, headers: { h: "v" } })),
        "string",
      );
      expect(produced.status).toBe(200);
      const fetched = await fetchRecords(t, 0, "offset=0&encoding=string");
      expect(fetched.body.records.map((r: { value: string }) => r.value)).toEqual(values);
      expect(fetched.body.records[0].key).toBe("κλειδί");
      // The text "null" is a value, not a tombstone.
      const raw = await fetchRecords(t, 0, "offset=4&maxRecords=1&encoding=base64");
      expect(raw.body.records[0].value).toBe(b64(new TextEncoder().encode("null")));
    });

    it("round-trips arbitrary bytes exactly (encoding=base64): keys, values and header values", async () => {
      const t = await topic();
      const records = Array.from({ length: 20 }, (_, i) => ({
        key: b64(randomBytes(i % 5 === 0 ? 0 : 16)),
        value: b64(randomBytes(i * 37)),
        headers: { bin: b64(randomBytes(9)), bom: b64(Uint8Array.of(0xef, 0xbb, 0xbf, 0x41)) },
      }));
      records.push({
        key: b64(Uint8Array.of(0xff, 0xfe)),
        value: null as unknown as string,
        headers: {} as never,
      });
      const produced = await produce(t, records, "base64");
      expect(produced.status).toBe(200);
      const fetched = await fetchRecords(t, 0, "offset=0&encoding=base64");
      const got = PartitionRecords.parse(fetched.body).records;
      expect(got.map((r) => r.key)).toEqual(records.map((r) => r.key));
      expect(got.map((r) => r.value)).toEqual(records.map((r) => r.value));
      expect(got.map((r) => r.headers)).toEqual(records.map((r) => r.headers));
    });

    it("answers bytes a text encoding cannot show as base64 or a string, saying so, never failing the fetch", async () => {
      const t = await topic();
      await produce(t, [{ value: b64(Uint8Array.of(0xc3, 0x28)) }], "base64");
      for (const encoding of ["json", "string"]) {
        const res = await fetchRecords(t, 0, `offset=0&encoding=${encoding}`);
        expect(res.status).toBe(200);
        expect(res.body.records[0]).toMatchObject({ value: "wyg=", valueEncoding: "base64" });
      }
      await produce(t, [{ value: "not json" }, { value: "[1]" }], "string");
      const res = await fetchRecords(t, 0, "offset=1&encoding=json");
      expect(res.status).toBe(200);
      expect(res.body.records).toMatchObject([
        { value: "not json", valueEncoding: "string" },
        { value: [1] },
      ]);
      expect(res.body.records[1]).not.toHaveProperty("valueEncoding");
    });

    it("refuses an unknown encoding with 400 UNSUPPORTED_ENCODING", async () => {
      const t = await topic();
      const produced = await produce(t, [{ value: 1 }], "xml");
      expect(produced.status).toBe(400);
      expect(produced.body.error.code).toBe("UNSUPPORTED_ENCODING");
      const fetched = await fetchRecords(t, 0, "offset=0&encoding=xml");
      expect(fetched.status).toBe(400);
      expect(fetched.body.error.code).toBe("UNSUPPORTED_ENCODING");
    });

    it("refuses malformed base64 and non-string keys as INVALID_RECORD", async () => {
      const t = await topic();
      const badBase64 = await produce(t, [{ value: "not base64!" }], "base64");
      expect(badBase64.status).toBe(400);
      expect(badBase64.body.error.code).toBe("INVALID_RECORD");
      expect(badBase64.body.error.message).toContain("records[0].value");
      const numericKey = await produce(t, [{ key: 7, value: 1 }]);
      expect(numericKey.status).toBe(400);
      expect(numericKey.body.error.message).toContain("records[0].key");
    });
  });

  describe("produce", () => {
    it("answers offsets in request order across partitions, each record at its offset", async () => {
      const t = await topic(4);
      const records = Array.from({ length: 40 }, (_, i) => ({ key: `key-${i % 7}`, value: { i } }));
      const res = await produce(t, records);
      expect(res.status).toBe(200);
      const offsets: { partition: number; offset: number }[] = res.body.offsets;
      expect(offsets).toHaveLength(40);
      for (const [i, { partition, offset }] of offsets.entries()) {
        const got = await fetchRecords(t, partition, `offset=${offset}&maxRecords=1`);
        expect(got.body.records[0]).toMatchObject({ offset, key: `key-${i % 7}`, value: { i } });
      }
      // Same key, same partition (murmur2).
      const byKey = new Map<string, Set<number>>();
      offsets.forEach(({ partition }, i) => {
        const set = byKey.get(records[i].key) ?? new Set();
        byKey.set(records[i].key, set.add(partition));
      });
      for (const set of byKey.values()) expect(set.size).toBe(1);
    });

    it("honours an explicit partition and refuses one the topic lacks with 404", async () => {
      const t = await topic(2);
      const ok = await produce(t, [{ value: 1, partition: 1 }]);
      expect(ok.body.offsets).toEqual([{ partition: 1, offset: 0 }]);
      const missing = await produce(t, [{ value: 1, partition: 2 }]);
      expect(missing.status).toBe(404);
      expect(missing.body.error.code).toBe("UNKNOWN_TOPIC_OR_PARTITION");
    });

    it("keeps producer timestamps (ms or ISO-8601) and stamps missing ones with the server's clock", async () => {
      const t = await topic();
      const before = Date.now();
      await produce(t, [
        { value: 1, timestamp: 1_600_000_000_123 },
        { value: 2, timestamp: "2024-02-29T12:34:56.789+02:00" },
        { value: 3 },
      ]);
      const after = Date.now();
      const got = (await fetchRecords(t, 0, "offset=0")).body.records;
      expect(got[0].timestamp).toBe(1_600_000_000_123);
      expect(got[1].timestamp).toBe(Date.parse("2024-02-29T10:34:56.789Z"));
      expect(got[2].timestamp).toBeGreaterThanOrEqual(before);
      expect(got[2].timestamp).toBeLessThanOrEqual(after);
    });

    it("appends nothing when any record is invalid: 400 INVALID_RECORD naming it", async () => {
      const t = await topic(3);
      const records: unknown[] = Array.from({ length: 9 }, (_, i) => ({ key: `k${i}`, value: i }));
      records.splice(5, 0, { key: "bad", value: 1, timestamp: "yesterday" });
      const res = await produce(t, records);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe("INVALID_RECORD");
      expect(res.body.error.message).toContain("records[5].timestamp");
      expect(await highWatermarks(t)).toEqual([0, 0, 0]);
    });

    it("refuses a 2 MiB record with 413 RECORD_TOO_LARGE and appends nothing from the request", async () => {
      const t = await topic();
      const res = await produce(
        t,
        [{ value: b64(randomBytes(10)) }, { value: b64(randomBytes(2 * 1024 * 1024)) }],
        "base64",
      );
      expect(res.status).toBe(413);
      expect(res.body.error.code).toBe("RECORD_TOO_LARGE");
      expect(await highWatermarks(t)).toEqual([0]);
    });

    it("refuses a body over 6 MB with 413 MESSAGE_TOO_LARGE", async () => {
      const t = await topic();
      const big = "x".repeat(7 * 1024 * 1024);
      const res = await produce(t, [{ value: big }], "string");
      expect(res.status).toBe(413);
      expect(res.body.error.code).toBe("MESSAGE_TOO_LARGE");
      expect(await highWatermarks(t)).toEqual([0]);
    });

    it("refuses malformed JSON with 400 INVALID_REQUEST", async () => {
      const t = await topic();
      const res = await s.raw("POST", `/v1/topics/${t}/records`, '{"records": [', {
        "content-type": "application/json",
      });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe("INVALID_REQUEST");
      expect(res.body.error.message).toContain("Malformed JSON");
    });

    it("refuses a body that is not JSON with 415 UNSUPPORTED_MEDIA_TYPE", async () => {
      const t = await topic();
      const body = JSON.stringify({ records: [{ value: 1 }] });
      for (const contentType of [
        "text/plain",
        "application/x-www-form-urlencoded",
        "application/octet-stream",
      ]) {
        const res = await s.raw("POST", `/v1/topics/${t}/records`, body, { "content-type": contentType });
        expect(res.status, contentType).toBe(415);
        expect(res.body.error.code).toBe("UNSUPPORTED_MEDIA_TYPE");
      }
      expect(await highWatermarks(t)).toEqual([0]);
    });

    it("refuses a body without records with 400", async () => {
      const t = await topic();
      for (const body of [{}, { records: [] }, { records: "x" }, { rec: [{ value: 1 }] }]) {
        const res = await s.call("POST", `/v1/topics/${t}/records`, body);
        expect(res.status, JSON.stringify(body)).toBe(400);
        expect(res.body.error.code).toBe("INVALID_REQUEST");
        expect(res.body.error.retriable).toBe(false);
      }
      const empty = await s.raw("POST", `/v1/topics/${t}/records`, "", {
        "content-type": "application/json",
      });
      expect(empty.status).toBe(400);
    });

    it("auto-creates a topic on first produce (Kafka's auto.create.topics.enable, on in floe dev)", async () => {
      const t = uniqueTopic("auto");
      const res = await produce(t, [{ value: "first" }]);
      expect(res.status).toBe(200);
      expect((await s.call("GET", `/v1/topics/${t}`)).body.partitions).toHaveLength(1);
    });

    it("creates no topic for a produce it refuses (found by the HTTP fuzz tier)", async () => {
      const json = uniqueTopic("refused");
      expect((await produce(json, [{ value: 1, partition: 5 }])).status).toBe(404);
      const binary = uniqueTopic("refused");
      const garbage = await s.raw(
        "POST",
        `/v1/topics/${binary}/partitions/0/records`,
        new Uint8Array(64).map((_, i) => i + 1),
        { "content-type": "application/vnd.kafka.record-batch.v2" },
      );
      expect(garbage.status).toBe(400);
      expect(garbage.body.error.code).toBe("CORRUPT_MESSAGE");
      const { topics } = (await s.call("GET", "/v1/topics")).body;
      expect(topics).not.toContain(json);
      expect(topics).not.toContain(binary);
    });

    it("acknowledges concurrent producers each with their own, distinct offsets (group commit)", async () => {
      const t = await topic(2);
      const results = await Promise.all(
        Array.from({ length: 30 }, (_, i) => produce(t, [{ value: { i, j: 0 } }, { value: { i, j: 1 } }])),
      );
      const seen = new Set<string>();
      for (const r of results) {
        expect(r.status).toBe(200);
        for (const o of r.body.offsets) seen.add(`${o.partition}:${o.offset}`);
      }
      expect(seen.size).toBe(60);
      expect((await highWatermarks(t)).reduce((a, b) => a + b, 0)).toBe(60);
    });
  });

  describe("fetch", () => {
    it("pages with maxRecords and maxBytes, always returning at least one record", async () => {
      const t = await topic();
      await produce(
        t,
        Array.from({ length: 10 }, (_, i) => ({ value: "v".repeat(100) + i })),
        "string",
      );
      const page = await fetchRecords(t, 0, "offset=2&maxRecords=3&encoding=string");
      expect(page.body.records.map((r: { offset: number }) => r.offset)).toEqual([2, 3, 4]);
      expect(page.body.nextOffset).toBe(5);
      const tiny = await fetchRecords(t, 0, "offset=5&maxBytes=1&encoding=string");
      expect(tiny.body.records).toHaveLength(1);
      expect(tiny.body.nextOffset).toBe(6);
    });

    it("answers an empty page at the high-water mark and 416 OFFSET_OUT_OF_RANGE past it", async () => {
      const t = await topic();
      await produce(t, [{ value: 1 }, { value: 2 }]);
      const at = await fetchRecords(t, 0, "offset=2");
      expect(at.status).toBe(200);
      expect(at.body).toMatchObject({ records: [], nextOffset: 2, highWatermark: 2 });
      const past = await fetchRecords(t, 0, "offset=3");
      expect(past.status).toBe(416);
      expect(past.body.error.code).toBe("OFFSET_OUT_OF_RANGE");
    });

    it("answers 404 for an unknown topic or partition and 400 for bad parameters", async () => {
      const t = await topic(2);
      const partition = await fetchRecords(t, 2, "offset=0");
      expect(partition.status).toBe(404);
      expect(partition.body.error.code).toBe("UNKNOWN_TOPIC_OR_PARTITION");
      const missing = await fetchRecords(uniqueTopic("missing"), 0, "offset=0");
      expect(missing.status).toBe(404);
      for (const query of ["", "offset=-1", "offset=abc", "offset=0&maxRecords=0", "offset=0&maxWaitMs=-5"]) {
        const res = await fetchRecords(t, 0, query);
        expect(res.status, query).toBe(400);
        expect(res.body.error.code).toBe("INVALID_REQUEST");
      }
      const badPartition = await s.call("GET", `/v1/topics/${t}/partitions/x/records?offset=0`);
      expect(badPartition.status).toBe(400);
    });

    it("long-polls at the high-water mark and is woken by a produce", async () => {
      const t = await topic();
      await produce(t, [{ value: "before" }]);
      const polling = fetchRecords(t, 0, "offset=1&maxWaitMs=20000");
      const produced = await produce(t, [{ value: "wake up" }]);
      expect(produced.status).toBe(200);
      const res = await polling;
      expect(res.status).toBe(200);
      expect(res.body.records.map((r: { value: string }) => r.value)).toEqual(["wake up"]);
    });

    it("fetches many partitions in one call, with errors per partition", async () => {
      const t = await topic(2);
      await produce(t, [
        { value: "p0", partition: 0 },
        { value: "p1", partition: 1 },
      ]);
      const missing = uniqueTopic("missing");
      const res = await s.call("POST", "/v1/fetch", {
        partitions: [
          { topic: t, partition: 0, offset: 0 },
          { topic: t, partition: 1, offset: 0 },
          { topic: missing, partition: 0, offset: 0 },
          { topic: t, partition: 1, offset: 9 },
        ],
      });
      expect(res.status).toBe(200);
      const [p0, p1, unknown, outOfRange] = FetchManyResponse.parse(res.body).partitions;
      expect(p0).toMatchObject({
        topic: t,
        partition: 0,
        records: [{ offset: 0, value: "p0" }],
        highWatermark: 1,
      });
      expect(p1).toMatchObject({ topic: t, partition: 1, records: [{ offset: 0, value: "p1" }] });
      expect(unknown).toMatchObject({
        topic: missing,
        partition: 0,
        error: { code: "UNKNOWN_TOPIC_OR_PARTITION" },
      });
      expect(outOfRange).toMatchObject({
        partition: 1,
        error: { code: "OFFSET_OUT_OF_RANGE", retriable: false },
      });
    });

    it("long-polls many partitions and wakes on an append to any of them", async () => {
      const t = await topic(3);
      const polling = s.call("POST", "/v1/fetch?encoding=string", {
        partitions: [0, 1, 2].map((partition) => ({ topic: t, partition, offset: 0 })),
        maxWaitMs: 20_000,
      });
      await produce(t, [{ value: "to two", partition: 2 }], "string");
      const res = await polling;
      expect(res.status).toBe(200);
      const withRecords = res.body.partitions.filter(
        (p: { records?: unknown[] }) => p.records && p.records.length > 0,
      );
      expect(withRecords).toMatchObject([{ partition: 2, records: [{ value: "to two" }] }]);
    });

    it("refuses an invalid multi-partition fetch with 400", async () => {
      for (const body of [
        {},
        { partitions: [] },
        { partitions: [{ topic: "a b", partition: 0, offset: 0 }] },
      ]) {
        const res = await s.call("POST", "/v1/fetch", body);
        expect(res.status, JSON.stringify(body)).toBe(400);
      }
      const badName = await s.call("POST", "/v1/fetch", {
        partitions: [{ topic: "a b", partition: 0, offset: 0 }],
      });
      expect(badName.body.error.code).toBe("INVALID_TOPIC_EXCEPTION");
    });
  });
});

describe("produce without topic auto-creation", () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer("memory", { autoCreateTopics: false });
  });
  afterAll(async () => {
    await s?.close();
  });

  it("refuses a produce to an unknown topic with 404 UNKNOWN_TOPIC_OR_PARTITION", async () => {
    const res = await s.call("POST", `/v1/topics/${uniqueTopic("nope")}/records`, {
      records: [{ value: 1 }],
    });
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe("UNKNOWN_TOPIC_OR_PARTITION");
  });
});
