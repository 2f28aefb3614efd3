import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Floe } from "../../../src/client/floe.js";
import type { FetchFn } from "../../../src/client/http-transport.js";
import type { ProducerOptions } from "../../../src/client/producer.js";
import { type DevServer, startDevServer } from "../../../src/server/dev-server.js";

/**
 * The binary producer's RecordAccumulator and Sender against a real dev server over real HTTP:
 * what goes in one request, when, and how sends wait for buffer.memory. Requests are counted (and
 * held back, where a test needs the server slow) by a fetch wrapped around the real one.
 */
let server: DevServer;
let direct: Floe;

beforeAll(async () => {
  server = await startDevServer({ port: 0, storage: "memory", log: () => {} });
  direct = new Floe({ url: server.url });
});

afterAll(async () => {
  await server?.close();
});

let topics = 0;
async function topic(partitions: number): Promise<string> {
  const name = `accumulator-${++topics}`;
  await direct.admin().createTopic({ topic: name, numPartitions: partitions });
  return name;
}

/** Every value in the partition, in offset order. */
async function log(t: string, partition: number): Promise<string[]> {
  const { records } = await direct.reader().fetch({ topic: t, partition, offset: 0, maxRecords: 1000 });
  return records.map((r) => r.value?.toString() ?? "<null>");
}

/** A fetch that counts produce requests and, while `held`, holds them back until release(). */
function watched() {
  const produces: string[][] = [];
  let gate: Promise<void> | undefined;
  let open: () => void = () => {};
  const fetch: FetchFn = async (input, init) => {
    if (input.endsWith("/v1/records")) {
      produces.push(entriesOf(init.body as Uint8Array));
      await gate;
    }
    return globalThis.fetch(input, init);
  };
  return {
    fetch,
    produces,
    hold() {
      gate = new Promise((resolve) => {
        open = resolve;
      });
    },
    release() {
      gate = undefined;
      open();
    },
  };
}

/** The "topic-partition" of each entry of a POST /v1/records body. */
function entriesOf(body: Uint8Array): string[] {
  const view = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const entries: string[] = [];
  for (let at = 0; at < view.length; ) {
    const length = view.readUInt16BE(at);
    const name = view.toString("latin1", at + 2, at + 2 + length);
    at += 2 + length;
    entries.push(`${name}-${view.readInt32BE(at)}`);
    at += 8 + view.readInt32BE(at + 4);
  }
  return entries;
}

function producer(w: ReturnType<typeof watched>, options: ProducerOptions = {}) {
  return new Floe({ url: server.url, fetch: w.fetch }).producer(options);
}

/** Lets the event loop turn a few times: long enough for anything due now to leave. */
async function turns(n = 5): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
}

const kib = (label: string) => label.padEnd(1024, ".");

describe("Producer accumulator", () => {
  it("sends every partition's batch, across topics, in one request", async () => {
    const [a, b] = [await topic(3), await topic(2)];
    const w = watched();
    const p = producer(w, { lingerMs: 60_000 });
    const sends = [
      p.send({ topic: a, messages: [0, 1, 2].map((partition) => ({ value: `a${partition}`, partition })) }),
      p.sendBatch({
        topicMessages: [
          { topic: b, messages: [{ value: "b0", partition: 0 }] },
          { topic: b, messages: [{ value: "b1", partition: 1 }] },
          { topic: a, messages: [{ value: "a0-again", partition: 0 }] },
        ],
      }),
    ];
    await turns();
    expect(w.produces).toEqual([]); // lingering: nothing is full
    await p.flush();
    expect(w.produces).toHaveLength(1);
    expect(w.produces[0].sort()).toEqual([`${a}-0`, `${a}-1`, `${a}-2`, `${b}-0`, `${b}-1`]);
    const [first, second] = await Promise.all(sends);
    expect(first.map((m) => [m.partition, m.offset])).toEqual([
      [0, 0],
      [1, 0],
      [2, 0],
    ]);
    expect(second.map((m) => `${m.topic === a ? "a" : "b"}${m.partition}@${m.offset}`)).toEqual([
      "b0@0",
      "b1@0",
      "a0@1",
    ]);
    expect(await log(a, 0)).toEqual(["a0", "a0-again"]);
  });

  it("sends a batch once it has lingered, without a flush", async () => {
    const t = await topic(1);
    const w = watched();
    const p = producer(w, { lingerMs: 20 });
    const [sent] = await p.send({ topic: t, messages: [{ value: "alone" }] });
    expect(sent.offset).toBe(0);
    expect(w.produces).toEqual([[`${t}-0`]]);
  });

  it("sends a full batch at once, lingering or not, and splits requests at maxRequestSize", async () => {
    const t = await topic(4);
    const w = watched();
    // Each 1 KiB record fills its partition's batch; two framed batches fit in 3000 bytes, not three.
    const p = producer(w, { lingerMs: 60_000, batchSize: 1024, maxRequestSize: 3000 });
    const sent = await p.send({
      topic: t,
      messages: [0, 1, 2, 3].map((partition) => ({ value: kib(`p${partition}`), partition })),
    });
    expect(sent.map((m) => [m.partition, m.offset])).toEqual([
      [0, 0],
      [1, 0],
      [2, 0],
      [3, 0],
    ]);
    expect(w.produces.map((entries) => entries.length)).toEqual([2, 2]);
    expect(w.produces.flat().sort()).toEqual([0, 1, 2, 3].map((n) => `${t}-${n}`));
    for (const n of [0, 1, 2, 3]) expect((await log(t, n))[0].slice(0, 2)).toBe(`p${n}`);
  });

  it("refuses a record larger than maxRequestSize before adding any", async () => {
    const t = await topic(1);
    const w = watched();
    const p = producer(w, { maxRequestSize: 2000 });
    await expect(
      p.send({ topic: t, messages: [{ value: "small" }, { value: "x".repeat(4000) }] }),
    ).rejects.toMatchObject({ code: "MESSAGE_TOO_LARGE" });
    await p.flush();
    expect(w.produces).toEqual([]);
  });

  it("keeps each partition's order with 5 requests in flight and one record per batch", async () => {
    const t = await topic(3);
    const w = watched();
    const p = producer(w, { batchSize: 1, maxInFlightRequests: 5 });
    const values = Array.from({ length: 60 }, (_, i) => `k${i % 3}-${i}`);
    const sent = await Promise.all(
      values.map((value, i) => p.send({ topic: t, messages: [{ value, partition: i % 3 }] })),
    );
    for (const partition of [0, 1, 2]) {
      const expected = values.filter((_, i) => i % 3 === partition);
      expect(await log(t, partition)).toEqual(expected);
      expect(sent.filter(([m]) => m.partition === partition).map(([m]) => m.offset)).toEqual(
        expected.map((_, i) => i),
      );
    }
    // One batch per partition per request: at least 20 requests for 20 batches a partition.
    expect(w.produces.length).toBeGreaterThanOrEqual(20);
    for (const entries of w.produces) expect(new Set(entries).size).toBe(entries.length);
  });
});

describe("Producer bufferMemory", () => {
  it("holds a send that does not fit until acknowledgements free room, then sends it", async () => {
    const t = await topic(1);
    const w = watched();
    const p = producer(w, { bufferMemory: 3000, lingerMs: 0 });
    w.hold();
    const first = p.send({ topic: t, messages: [{ value: kib("first") }, { value: kib("second") }] });
    // Its request leaves once the producer knows the topic and its own id.
    while (w.produces.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    let thirdDone = false;
    const third = p.send({ topic: t, messages: [{ value: kib("third") }] }).then((m) => {
      thirdDone = true;
      return m;
    });
    await turns();
    // The third does not fit beside the two unacknowledged ones: it waits, unsent.
    expect(w.produces).toHaveLength(1);
    expect(thirdDone).toBe(false);
    w.release();
    expect((await first).map((m) => m.offset)).toEqual([0, 1]);
    expect((await third)[0].offset).toBe(2);
    expect(w.produces).toHaveLength(2);
    expect((await log(t, 0)).map((v) => v.replace(/\.+$/, ""))).toEqual(["first", "second", "third"]);
  });

  it("fails a send that waited maxBlockMs for room with REQUEST_TIMED_OUT, appending nothing of it", async () => {
    const t = await topic(1);
    const w = watched();
    const p = producer(w, { bufferMemory: 2000, maxBlockMs: 20, lingerMs: 0 });
    w.hold();
    const first = p.send({ topic: t, messages: [{ value: kib("first") }] });
    const blocked = await p.send({ topic: t, messages: [{ value: kib("blocked") }] }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(blocked).toMatchObject({ code: "REQUEST_TIMED_OUT", retriable: true });
    expect((blocked as Error).message).toMatch(/bufferMemory \(buffer\.memory\) 2000 bytes/);
    w.release();
    expect((await first)[0].offset).toBe(0);
    await p.flush();
    expect((await log(t, 0)).map((v) => v.replace(/\.+$/, ""))).toEqual(["first"]);
  });
});
