/**
 * POST /v1/fetch's Kafka limits against a real server: minBytes (the long-poll waits for enough
 * record bytes), partitionMaxBytes / per-partition maxBytes within maxBytes, and the first-record
 * rule (KIP-74). For minBytes a record counts 20 bytes plus its key, value and headers, so a
 * 100-byte value with no key is 120 bytes; the byte limits count a record as written in the answer
 * (its JSON object, and a comma after the first of a partition).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FetchManyResponse } from "../../../src/api/schemas.js";
import { apiStorages, startTestServer, type TestServer, uniqueTopic } from "./harness.js";

const RECORD = 120;
/** `{"offset":0,"timestamp":<13 digits>,"key":null,"value":"<100 characters>","headers":{}}` */
const WIRE = 173;
/** What n such records of one partition take in the answer. */
const wire = (n: number) => n * WIRE + (n - 1);
const value = (tag: string) => tag.padEnd(100, ".");

describe.each(apiStorages)("POST /v1/fetch limits on %s", (storage) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(storage);
  });
  afterAll(async () => {
    await s?.close();
  });

  async function topic(partitions: number): Promise<string> {
    const name = uniqueTopic();
    const res = await s.call("POST", "/v1/topics", { name, partitions });
    expect(res.status).toBe(201);
    return name;
  }

  async function produce(t: string, partition: number, tags: string[]): Promise<void> {
    const res = await s.call("POST", `/v1/topics/${t}/records?encoding=string`, {
      records: tags.map((tag) => ({ value: value(tag), partition })),
    });
    expect(res.status).toBe(200);
  }

  async function fetchMany(body: unknown) {
    const res = await s.call("POST", "/v1/fetch?encoding=string", body);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return FetchManyResponse.parse(res.body).partitions;
  }

  const values = (p: unknown) => ((p as { records: { value: string }[] }).records ?? []).map((r) => r.value);

  describe("minBytes", () => {
    it("keeps the long-poll open until enough record bytes arrived across the partitions", async () => {
      const t = await topic(2);
      let answered = false;
      const polling = fetchMany({
        partitions: [0, 1].map((partition) => ({ topic: t, partition, offset: 0 })),
        minBytes: 2 * RECORD,
        maxWaitMs: 20_000,
      }).finally(() => {
        answered = true;
      });
      await produce(t, 0, ["first"]);
      // A fetch that sees the first record, so the long-poll has been woken by it as well.
      const seen = await fetchMany({ partitions: [{ topic: t, partition: 0, offset: 0 }] });
      expect(values(seen[0])).toEqual([value("first")]);
      expect(answered).toBe(false);
      await produce(t, 1, ["second"]);
      const [p0, p1] = await polling;
      // Answered after the second produce: both records are in it.
      expect(values(p0)).toEqual([value("first")]);
      expect(values(p1)).toEqual([value("second")]);
    });

    it("still ends at maxWaitMs with what there is", async () => {
      const t = await topic(1);
      await produce(t, 0, ["only"]);
      const [p0] = await fetchMany({
        partitions: [{ topic: t, partition: 0, offset: 0 }],
        minBytes: 1_000_000,
        maxWaitMs: 200,
      });
      expect(values(p0)).toEqual([value("only")]);
    });

    it("answers at once with 0, and at once when the data already reaches it", async () => {
      const t = await topic(1);
      const [empty] = await fetchMany({
        partitions: [{ topic: t, partition: 0, offset: 0 }],
        minBytes: 0,
        maxWaitMs: 20_000,
      });
      expect(empty).toMatchObject({ records: [], nextOffset: 0, highWatermark: 0 });
      await produce(t, 0, ["a", "b"]);
      const [ready] = await fetchMany({
        partitions: [{ topic: t, partition: 0, offset: 0 }],
        minBytes: 2 * RECORD,
        maxWaitMs: 20_000,
      });
      expect(values(ready)).toEqual([value("a"), value("b")]);
    });
  });

  describe("partition limits", () => {
    it("limits each partition's share with partitionMaxBytes or its own maxBytes, within maxBytes", async () => {
      const t = await topic(3);
      for (const p of [0, 1, 2]) {
        await produce(
          t,
          p,
          ["0", "1", "2", "3", "4"].map((i) => `p${p}-${i}`),
        );
      }
      const all = [0, 1, 2].map((partition) => ({ topic: t, partition, offset: 0 }));

      const shared = await fetchMany({ partitions: all, partitionMaxBytes: wire(2) + 10 });
      expect(shared.map((p) => values(p).length)).toEqual([2, 2, 2]);

      const own = await fetchMany({
        partitions: [all[0], { ...all[1], maxBytes: wire(1) }, { ...all[2], maxBytes: wire(3) }],
        partitionMaxBytes: wire(2),
      });
      expect(own.map((p) => values(p).length)).toEqual([2, 1, 3]);

      // The total still applies: p0 takes 2, p1 the one that fits in what is left, p2 nothing.
      const total = await fetchMany({
        partitions: all,
        partitionMaxBytes: wire(2),
        maxBytes: wire(2) + wire(1) + 10,
      });
      expect(total.map((p) => values(p))).toEqual([[value("p0-0"), value("p0-1")], [value("p1-0")], []]);
      // A partition left out by the limits answers its marks, to be fetched again from the same offset.
      expect(total[2]).toMatchObject({ nextOffset: 0, highWatermark: 5 });
    });

    it("gives only the first partition with records its first record past the limits", async () => {
      const t = await topic(3);
      await produce(t, 1, ["big".padEnd(1000, "!")]);
      await produce(t, 2, ["small"]);
      const [empty, big, small] = await fetchMany({
        partitions: [
          { topic: t, partition: 0, offset: 0 },
          { topic: t, partition: 1, offset: 0 },
          { topic: t, partition: 2, offset: 0 },
        ],
        partitionMaxBytes: 10,
      });
      expect(values(empty)).toEqual([]);
      expect(values(big)).toEqual([value("big".padEnd(1000, "!"))]);
      expect(small).toMatchObject({ records: [], nextOffset: 0, highWatermark: 1 });

      // The same with the total limit: one record in all, even with maxBytes 1 or a partition limit of 0.
      const tight = await fetchMany({
        partitions: [
          { topic: t, partition: 2, offset: 0, maxBytes: 0 },
          { topic: t, partition: 1, offset: 0 },
        ],
        maxBytes: 1,
      });
      expect(tight.map((p) => values(p))).toEqual([[value("small")], []]);
    });
  });

  it("refuses invalid limits with 400 INVALID_REQUEST naming the field", async () => {
    const t = await topic(1);
    const partitions = [{ topic: t, partition: 0, offset: 0 }];
    const cases: [unknown, string][] = [
      [{ partitions, minBytes: -1 }, "minBytes"],
      [{ partitions, minBytes: 1.5 }, "minBytes"],
      [{ partitions, minBytes: "1" }, "minBytes"],
      [{ partitions, minBytes: 2 ** 31 }, "minBytes"],
      [{ partitions, partitionMaxBytes: -1 }, "partitionMaxBytes"],
      [{ partitions, partitionMaxBytes: 0.5 }, "partitionMaxBytes"],
      [{ partitions: [{ ...partitions[0], maxBytes: -1 }] }, "maxBytes"],
    ];
    for (const [body, field] of cases) {
      const res = await s.call("POST", "/v1/fetch", body);
      expect([res.status, res.body.error.code], JSON.stringify(body)).toEqual([400, "INVALID_REQUEST"]);
      expect(res.body.error.message).toContain(field);
    }
  });
});
