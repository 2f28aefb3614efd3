import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ListedOffset } from "../../../src/api/schemas.js";
import { apiStorages, startTestServer, type TestServer, uniqueTopic } from "./harness.js";

describe.each(apiStorages)("list offsets API on %s", (storage) => {
  let s: TestServer;
  let t: string;
  beforeAll(async () => {
    s = await startTestServer(storage);
    t = uniqueTopic();
    await s.call("POST", "/v1/topics", { name: t, partitions: 1 });
    const res = await s.call("POST", `/v1/topics/${t}/records`, {
      records: [1000, 2000, 3000].map((timestamp, i) => ({ value: i, timestamp })),
    });
    expect(res.status).toBe(200);
  });
  afterAll(async () => {
    await s?.close();
  });

  const at = (spec?: string) =>
    s.call(
      "GET",
      `/v1/topics/${t}/partitions/0/offsets${spec === undefined ? "" : `?at=${encodeURIComponent(spec)}`}`,
    );

  it("answers earliest, latest (the default) and the first offset at or after a time", async () => {
    expect(ListedOffset.parse((await at("earliest")).body)).toEqual({
      topic: t,
      partition: 0,
      offset: 0,
      timestamp: null,
    });
    expect((await at("latest")).body).toEqual({ topic: t, partition: 0, offset: 3, timestamp: null });
    expect((await at()).body.offset).toBe(3);
    expect((await at("1500")).body).toEqual({ topic: t, partition: 0, offset: 1, timestamp: 2000 });
    expect((await at("2000")).body).toMatchObject({ offset: 1, timestamp: 2000 });
    expect((await at("1970-01-01T00:00:02.500Z")).body).toMatchObject({ offset: 2, timestamp: 3000 });
    // Later than every record: the high-water mark, as kafka-consumer-groups --to-datetime answers.
    expect((await at("9999")).body).toEqual({ topic: t, partition: 0, offset: 3, timestamp: null });
  });

  it("refuses an unreadable time with 400 and an unknown partition with 404", async () => {
    const bad = await at("yesterday");
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe("INVALID_REQUEST");
    const missing = await s.call("GET", `/v1/topics/${t}/partitions/1/offsets?at=earliest`);
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe("UNKNOWN_TOPIC_OR_PARTITION");
  });
});
