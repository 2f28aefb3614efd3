import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { deployedStack } from "./stack.js";

/**
 * The HTTP API's contract checks that depend on the front door, run against the deployed REST API
 * (API Gateway → Lambda on LocalStack) rather than `floe dev`: bytes through API Gateway's binary
 * handling, Kafka error codes with 4xx statuses from the functions, and paths no route matches.
 */
const stack = deployedStack();

// biome-ignore lint/suspicious/noExplicitAny: a test reads whatever JSON the API sent
type Json = any;

async function call(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Json; contentType: string }> {
  const res = await fetch(`${stack.apiUrl}${path}`, {
    method,
    headers: body === undefined ? headers : { "content-type": "application/json", ...headers },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  const contentType = res.headers.get("content-type") ?? "";
  return {
    status: res.status,
    body: contentType.includes("json") && text ? JSON.parse(text) : text,
    contentType,
  };
}

let n = 0;
async function topic(partitions = 1): Promise<string> {
  const name = `http-${Date.now().toString(36)}-${n++}`;
  const res = await call("POST", "/v1/topics", { name, partitions });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return name;
}

const b64 = (b: Uint8Array) => Buffer.from(b).toString("base64");

describe("the deployed HTTP API", () => {
  it("answers health", async () => {
    const res = await call("GET", "/v1/health");
    expect(res.status).toBe(200);
  });

  it("round-trips arbitrary bytes exactly (encoding=base64) through API Gateway", async () => {
    const t = await topic();
    const records = Array.from({ length: 12 }, (_, i) => ({
      key: b64(randomBytes(i % 4 === 0 ? 0 : 16)),
      value: b64(randomBytes(i * 53)),
      headers: { bin: b64(randomBytes(9)), bom: b64(Uint8Array.of(0xef, 0xbb, 0xbf, 0x41)) },
    }));
    const produced = await call("POST", `/v1/topics/${t}/records?encoding=base64`, { records });
    expect(produced.status).toBe(200);
    const fetched = await call("GET", `/v1/topics/${t}/partitions/0/records?offset=0&encoding=base64`);
    expect(fetched.status).toBe(200);
    const got = fetched.body.records as { key: string; value: string; headers: Record<string, string> }[];
    expect(got.map((r) => r.key)).toEqual(records.map((r) => r.key));
    expect(got.map((r) => r.value)).toEqual(records.map((r) => r.value));
    expect(got.map((r) => r.headers)).toEqual(records.map((r) => r.headers));
  });

  it("answers an empty page at the high-water mark and 416 OFFSET_OUT_OF_RANGE past it", async () => {
    const t = await topic();
    expect(
      (await call("POST", `/v1/topics/${t}/records`, { records: [{ value: 1 }, { value: 2 }] })).status,
    ).toBe(200);
    const at = await call("GET", `/v1/topics/${t}/partitions/0/records?offset=2`);
    expect(at.status).toBe(200);
    expect(at.body).toMatchObject({ records: [], nextOffset: 2, highWatermark: 2 });
    const past = await call("GET", `/v1/topics/${t}/partitions/0/records?offset=3`);
    expect(past.status).toBe(416);
    expect(past.body.error.code).toBe("OFFSET_OUT_OF_RANGE");
  });

  it("answers 404 UNKNOWN_TOPIC_OR_PARTITION and 400 INVALID_REQUEST, never a 5xx", async () => {
    const t = await topic(2);
    const partition = await call("GET", `/v1/topics/${t}/partitions/2/records?offset=0`);
    expect(partition.status).toBe(404);
    expect(partition.body.error.code).toBe("UNKNOWN_TOPIC_OR_PARTITION");
    const missing = await call("GET", "/v1/topics/no-such-topic/partitions/0/records?offset=0");
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe("UNKNOWN_TOPIC_OR_PARTITION");
    for (const query of ["", "offset=-1", "offset=abc"]) {
      const res = await call("GET", `/v1/topics/${t}/partitions/0/records?${query}`);
      expect(res.status, query).toBe(400);
      expect(res.body.error.code).toBe("INVALID_REQUEST");
    }
  });

  it("refuses malformed JSON with 400 and a duplicate topic with 409, appending and creating nothing", async () => {
    const t = await topic();
    const malformed = await call("POST", `/v1/topics/${t}/records`, '{"records": [');
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.code).toBe("INVALID_REQUEST");
    const again = await call("POST", "/v1/topics", { name: t, partitions: 3 });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe("TOPIC_ALREADY_EXISTS");
    const described = await call("GET", `/v1/topics/${t}`);
    expect(described.body.partitions.map((p: { highWatermark: number }) => p.highWatermark)).toEqual([0]);
  });

  it("answers a path no route matches with 404 ROUTE_NOT_FOUND in Floe's error format", async () => {
    const res = await call("GET", "/v1/no-such-route");
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe("ROUTE_NOT_FOUND");
  });

  it("joins a group, commits, and reads the offsets back with lag", async () => {
    const t = await topic(2);
    const records = [0, 0, 0, 1].map((partition, i) => ({ value: i, partition }));
    expect((await call("POST", `/v1/topics/${t}/records`, { records })).status).toBe(200);
    const g = `g-${t}`;
    const joined = await call("POST", `/v1/groups/${g}/heartbeat`, {
      memberEpoch: 0,
      subscribedTopics: [t],
      clientId: "deployed",
    });
    expect(joined.status).toBe(200);
    expect(joined.body.assignment).toEqual([{ topic: t, partitions: [0, 1] }]);
    const committed = await call("POST", `/v1/groups/${g}/offsets`, {
      memberId: joined.body.memberId,
      memberEpoch: joined.body.memberEpoch,
      offsets: [{ topic: t, partition: 0, offset: 1 }],
    });
    expect(committed.status).toBe(200);
    const read = await call("GET", `/v1/groups/${g}/offsets?topic=${t}`);
    expect(read.body.offsets).toEqual([
      { topic: t, partition: 0, offset: 1, metadata: "", highWatermark: 3, lag: 2 },
    ]);
    // A member of an older epoch is fenced, and its commit changes nothing.
    const stale = await call("POST", `/v1/groups/${g}/offsets`, {
      memberId: joined.body.memberId,
      memberEpoch: joined.body.memberEpoch - 1,
      offsets: [{ topic: t, partition: 0, offset: 3 }],
    });
    expect(stale.status).toBeGreaterThanOrEqual(400);
    expect(stale.status).toBeLessThan(500);
    expect((await call("GET", `/v1/groups/${g}/offsets?topic=${t}`)).body.offsets[0].offset).toBe(1);
  });
});
