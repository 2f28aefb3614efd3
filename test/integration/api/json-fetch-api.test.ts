/**
 * JSON fetch answers against a real server (issue 11): stored JSON is spliced in as written, a
 * stored value that is not JSON (however deep) never fails a fetch, and every answer is bounded by
 * its maxBytes as written on the wire and by Lambda's 6 MB.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_ANSWER_PAYLOAD_BYTES } from "../../../src/api/routes/fetch-routes.js";
import { FetchManyResponse, PartitionRecords } from "../../../src/api/schemas.js";
import { startTestServer, type TestServer, uniqueTopic } from "./harness.js";

/** The bytes the records of a partition entry take in the answer: each record's JSON and the commas between. */
const recordsBytes = (records: unknown[]) =>
  records.reduce<number>((n, r, i) => n + Buffer.byteLength(JSON.stringify(r)) + (i > 0 ? 1 : 0), 0);

describe("JSON fetch answers", () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer("memory");
  });
  afterAll(async () => {
    await s?.close();
  });

  async function topic(partitions = 1): Promise<string> {
    const name = uniqueTopic();
    expect((await s.call("POST", "/v1/topics", { name, partitions })).status).toBe(201);
    return name;
  }

  const produceRaw = async (t: string, body: string, encoding = "json") => {
    const res = await s.raw("POST", `/v1/topics/${t}/records?encoding=${encoding}`, body, {
      "content-type": "application/json",
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
  };

  const getText = async (path: string) => {
    const res = await fetch(s.url + path);
    return { status: res.status, text: await res.text() };
  };

  it("splices stored JSON into the answer as written: 1e400 and 30-digit integers come back exactly", async () => {
    const t = await topic();
    await produceRaw(
      t,
      '{"records":[{"value":1e400},{"value":123456789012345678901234567890},{"value":{"a" : [1.50]}}]}',
    );
    const { status, text } = await getText(`/v1/topics/${t}/partitions/0/records?offset=0`);
    expect(status).toBe(200);
    expect(text).toContain('"value":1e400,');
    expect(text).toContain('"value":123456789012345678901234567890,');
    expect(text).toContain('"value":{"a" : [1.50]},');
    const many = await s.call("POST", "/v1/fetch", { partitions: [{ topic: t, partition: 0, offset: 0 }] });
    expect(many.status).toBe(200);
  });

  it("answers deep nesting stored with encoding=string as a string, on GET and POST /v1/fetch, never a 500", async () => {
    const t = await topic();
    const deep = `${"[".repeat(100_000)}${"]".repeat(100_000)}`;
    await produceRaw(
      t,
      JSON.stringify({ records: [{ value: "1" }, { value: deep }, { value: "x" }] }),
      "string",
    );
    await produceRaw(t, '{"records":[{"value":{"after":true}}]}');
    const res = await s.call("GET", `/v1/topics/${t}/partitions/0/records?offset=0`);
    expect(res.status, JSON.stringify(res.body).slice(0, 300)).toBe(200);
    const records = PartitionRecords.parse(res.body).records;
    expect(records.map((r) => [r.value, r.valueEncoding])).toEqual([
      [1, undefined],
      [deep, "string"],
      ["x", "string"],
      [{ after: true }, undefined],
    ]);
    const many = await s.call("POST", "/v1/fetch", { partitions: [{ topic: t, partition: 0, offset: 0 }] });
    expect(many.status).toBe(200);
    const [entry] = FetchManyResponse.parse(many.body).partitions;
    expect(entry).not.toHaveProperty("error");
    expect((entry as { records: unknown[] }).records).toHaveLength(4);
  });

  it("bounds a GET by maxBytes as written on the wire, tombstones and base64 included, nextOffset at the first left out", async () => {
    const t = await topic();
    const records = Array.from({ length: 400 }, (_, i) => ({
      key: Buffer.from(`k${i}`).toString("base64"),
      value: i % 2 === 0 ? null : Buffer.alloc(300, i).toString("base64"),
    }));
    await produceRaw(t, JSON.stringify({ records }), "base64");
    for (const encoding of ["base64", "json"]) {
      let offset = 0;
      let pages = 0;
      while (offset < 400) {
        const res = await s.call(
          "GET",
          `/v1/topics/${t}/partitions/0/records?offset=${offset}&maxBytes=5000&encoding=${encoding}`,
        );
        expect(res.status).toBe(200);
        const page = PartitionRecords.parse(res.body);
        expect(page.records.length).toBeGreaterThan(0);
        expect(recordsBytes(res.body.records)).toBeLessThanOrEqual(5000);
        expect(page.records[0].offset).toBe(offset);
        expect(page.nextOffset).toBe(page.records[page.records.length - 1].offset + 1);
        offset = page.nextOffset;
        pages++;
      }
      // 400 records of ~400-500 bytes each (JSON under json: the 300 bytes are not UTF-8, so base64 too).
      expect(pages).toBeGreaterThan(20);
    }
    // Kafka's rule: one record even when it alone is larger than maxBytes.
    const one = await s.call(
      "GET",
      `/v1/topics/${t}/partitions/0/records?offset=1&maxBytes=1&encoding=base64`,
    );
    expect(one.body.records.map((r: { offset: number }) => r.offset)).toEqual([1]);
    expect(one.body.nextOffset).toBe(2);
  });

  it("bounds POST /v1/fetch by maxBytes across partitions as written, not 500,000 records for a 50 KB read", async () => {
    const t = await topic(3);
    for (const partition of [0, 1, 2]) {
      const records = Array.from({ length: 3000 }, () => ({ value: null, partition }));
      await produceRaw(t, JSON.stringify({ records }));
    }
    const partitions = [0, 1, 2].map((partition) => ({ topic: t, partition, offset: 0 }));
    const res = await s.call("POST", "/v1/fetch", { partitions, maxBytes: 50_000, maxRecords: 100_000 });
    expect(res.status).toBe(200);
    const entries = FetchManyResponse.parse(res.body).partitions as {
      records: unknown[];
      nextOffset: number;
    }[];
    const total = entries.reduce((n, p) => n + recordsBytes(p.records) + (p.records.length > 0 ? 1 : 0), 0);
    expect(total).toBeLessThanOrEqual(50_000);
    expect(entries[0].records.length).toBeGreaterThan(0);
    for (const entry of entries) expect(entry.nextOffset).toBe(entry.records.length);
  });

  it("keeps every answer within Lambda's 6 MB as Lambda writes it, whatever maxBytes allows", async () => {
    const t = await topic();
    // Values of backslashes: as JSON text each is two characters, and four once Lambda escapes the body.
    const value = `"${"\\\\".repeat(300_000)}"`;
    for (let i = 0; i < 4; i++) await produceRaw(t, `{"records":[{"value":${value}},{"value":${value}}]}`);
    const { status, text } = await getText(`/v1/topics/${t}/partitions/0/records?offset=0&maxBytes=4194304`);
    expect(status).toBe(200);
    const answer = JSON.parse(text);
    expect(JSON.stringify(text).length).toBeLessThanOrEqual(MAX_ANSWER_PAYLOAD_BYTES);
    // maxBytes alone would let 6 records (3.6 MB) through; the escaped answer holds 4.
    expect(answer.records.length).toBeGreaterThan(0);
    expect(answer.records.length).toBeLessThan(6);
    expect(answer.nextOffset).toBe(answer.records.length);
  });
});
