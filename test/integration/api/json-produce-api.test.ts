/**
 * The JSON produce path against a real server (issue 11): a value is stored as the exact text sent,
 * and a body that is not UTF-8, holds a lone surrogate, nests past the limit or carries too many
 * headers is a 4xx INVALID_RECORD that stores nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiHandler } from "../../../src/api/api-handler.js";
import { MAX_HEADERS_PER_RECORD, MAX_JSON_DEPTH } from "../../../src/api/json-text.js";
import { Broker } from "../../../src/broker/broker.js";
import { createBackend } from "../../../src/storage/backend.js";
import type { Backend } from "../../../src/storage/ports.js";
import { apiGatewayEvent } from "../../support/api-gateway-event.js";
import { startTestServer, type TestServer, uniqueTopic } from "./harness.js";

describe("JSON produce keeps values as sent and refuses what it cannot keep", () => {
  let s: TestServer;
  let t: string;
  beforeAll(async () => {
    s = await startTestServer("memory");
    t = uniqueTopic();
    expect((await s.call("POST", "/v1/topics", { name: t })).status).toBe(201);
  });
  afterAll(async () => {
    await s?.close();
  });

  const produceRaw = (body: string | Uint8Array, encoding = "json") =>
    s.raw("POST", `/v1/topics/${t}/records?encoding=${encoding}`, body, {
      "content-type": "application/json",
    });

  const highWatermark = async () => (await s.call("GET", `/v1/topics/${t}`)).body.partitions[0].highWatermark;

  /** The stored value bytes of the records from `offset`, as text. */
  async function storedTexts(offset: number): Promise<(string | null)[]> {
    const res = await s.call("GET", `/v1/topics/${t}/partitions/0/records?offset=${offset}&encoding=base64`);
    expect(res.status).toBe(200);
    return res.body.records.map((r: { value: string | null }) =>
      r.value === null ? null : Buffer.from(r.value, "base64").toString("utf8"),
    );
  }

  async function expectRefused(body: string | Uint8Array, encoding = "json"): Promise<string> {
    const before = await highWatermark();
    const res = await produceRaw(body, encoding);
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body.error.code).toBe("INVALID_RECORD");
    expect(await highWatermark()).toBe(before);
    return res.body.error.message;
  }

  it("refuses a body that is not UTF-8 over HTTP to floe dev, instead of storing U+FFFD", async () => {
    const bytes = Buffer.concat([
      Buffer.from('{"records":[{"value":"a'),
      Buffer.from([0xff]),
      Buffer.from('b"}]}'),
    ]);
    for (const encoding of ["json", "string"]) {
      expect(await expectRefused(new Uint8Array(bytes), encoding)).toContain("not valid UTF-8");
    }
  });

  it("stores 1e400 and a 30-digit integer as written, not as null or a rounded double", async () => {
    const offset = await highWatermark();
    const values = [
      "1e400",
      "123456789012345678901234567890",
      '{"a" : [1.50, -0E+2]}',
      '"\\u00e9\\n"',
      "null",
    ];
    const res = await produceRaw(`{"records":[${values.map((v) => `{"value":${v}}`).join(",")}]}`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(await storedTexts(offset)).toEqual([...values.slice(0, 4), null]);
  });

  it("refuses a lone surrogate, escaped or not, in a value, key or header under json and string", async () => {
    await expectRefused('{"records":[{"value":"\\ud800"}]}');
    await expectRefused('{"records":[{"value":"\\ud800"}]}', "string");
    await expectRefused('{"records":[{"value":1,"key":"x\\udc00"}]}', "string");
    await expectRefused('{"records":[{"value":1,"headers":{"h":"\\ud83d"}}]}');
    // A proper pair is one character, and is kept.
    const res = await produceRaw('{"records":[{"value":"\\ud83d\\ude00"}]}', "string");
    expect(res.status).toBe(200);
  });

  it("refuses a value nested 10,000 and 100,000 levels deep with 400, not 500", async () => {
    for (const depth of [10_000, 100_000]) {
      const message = await expectRefused(`{"records":[{"value":${"[".repeat(depth)}${"]".repeat(depth)}}]}`);
      expect(message).toContain(String(MAX_JSON_DEPTH));
    }
    const deepest = `${"[".repeat(MAX_JSON_DEPTH - 3)}${"]".repeat(MAX_JSON_DEPTH - 3)}`;
    expect((await produceRaw(`{"records":[{"value":${deepest}}]}`)).status).toBe(200);
  });

  it(`refuses 450,000 headers on one record with 400 while reading them; ${MAX_HEADERS_PER_RECORD} are fine`, async () => {
    const headers = (n: number) => `{${Array.from({ length: n }, (_, i) => `"h${i}":""`).join(",")}}`;
    const message = await expectRefused(`{"records":[{"value":1,"headers":${headers(450_000)}}]}`);
    expect(message).toContain("records[0].headers");
    const res = await produceRaw(`{"records":[{"value":1,"headers":${headers(MAX_HEADERS_PER_RECORD)}}]}`);
    expect(res.status).toBe(200);
  });
});

describe("a JSON body that is not UTF-8 (as a Lambda function gets it, base64-encoded)", () => {
  let backend: Backend | undefined;
  afterAll(async () => {
    await backend?.close();
  });

  it("is refused with INVALID_RECORD naming the field, instead of storing U+FFFD", async () => {
    backend = await createBackend({ storage: "memory" });
    const broker = new Broker({ meta: backend.meta, objects: backend.objects });
    await broker.createTopic("bytes", 1);
    const handler = createApiHandler({ broker, routes: "all" });
    const send = async (body: Buffer, encoding: string) => {
      const event = apiGatewayEvent("POST", "/v1/topics/bytes/records", {
        rawBody: body,
        query: `encoding=${encoding}`,
        headers: { "content-type": "application/json" },
      });
      const result = await handler(event);
      return { status: result.statusCode, error: JSON.parse(result.body ?? "{}").error };
    };
    const bad = (before: string, bytes: number[], after: string) =>
      Buffer.concat([Buffer.from(before), Buffer.from(bytes), Buffer.from(after)]);
    for (const [body, field] of [
      [bad('{"records":[{"value":"a', [0xff], 'b"}]}'), "records[0].value"],
      [bad('{"records":[{"value":1},{"key":"', [0xc0, 0xaf], '","value":1}]}'), "records[1].key"],
      [bad('{"records":[{"value":"', [0xed, 0xa0, 0x80], '"}]}'), "records[0].value"],
    ] as const) {
      for (const encoding of ["json", "string"]) {
        const answer = await send(body, encoding);
        expect(answer.status).toBe(400);
        expect(answer.error.code).toBe("INVALID_RECORD");
        expect(answer.error.message).toContain(field);
        expect(answer.error.message).toContain("not valid UTF-8");
      }
    }
    expect((await broker.describeTopic("bytes")).partitions[0].highWatermark).toBe(0);
    expect((await send(Buffer.from('{"records":[{"value":"é"}]}'), "string")).status).toBe(200);
  });
});
