import { describe, expect, it } from "vitest";
import { Floe } from "../../../src/client/floe.js";
import type { ProducerOptions } from "../../../src/client/producer.js";
import { FakeFetch, floeError, json, type SeenRequest } from "./fake-fetch.js";

/**
 * The idempotent producer's sequence bookkeeping as pure logic, on the JSON wire (whose bodies show
 * the stamps): which id, epoch and base sequence each attempt carries after each kind of answer.
 */
interface Body {
  producerId?: number;
  producerEpoch?: number;
  sequences?: { partition: number; baseSequence: number }[];
  records: { partition?: number }[];
}

function producer(fake: FakeFetch, options: ProducerOptions = {}) {
  return new Floe({
    url: "http://floe.test",
    fetch: fake.fetch,
    retryHooks: { sleep: async () => {} },
    protocol: "json",
  }).producer(options);
}

const metadata = (partitions = 1) =>
  json(200, {
    name: "t",
    topicId: "00000000-0000-0000-0000-000000000000",
    partitions: Array.from({ length: partitions }, (_, partition) => ({ partition })),
    config: {},
  });

let nextId = 100;
const identity = (epoch = 0) => json(200, { producerId: nextId++, producerEpoch: epoch });

function offsets(request: SeenRequest, base: number) {
  const body = request.body as Body;
  return json(200, {
    offsets: body.records.map((r, i) => ({ partition: r.partition ?? 0, offset: base + i })),
  });
}

const stamps = (fake: FakeFetch) =>
  fake.requests
    .filter((r) => r.url.pathname.endsWith("/records"))
    .map((r) => {
      const b = r.body as Body;
      return [b.producerId, b.producerEpoch, b.sequences?.[0].baseSequence];
    });

const send = (p: ReturnType<typeof producer>, value: string) =>
  p.send({ topic: "t", messages: [{ key: "k", value }] });

describe("idempotent Producer stamps", () => {
  it("initialises once, looks the topic up allowing creation, and counts sequences per partition", async () => {
    const fake = new FakeFetch()
      .answer(() => metadata())
      .answer(() => identity())
      .answer((r) => offsets(r, 0))
      .answer((r) => offsets(r, 1));
    const p = producer(fake);
    await send(p, "a");
    await p.send({ topic: "t", messages: [{ key: "k", value: "b" }, { value: "c" }] });
    expect(fake.requests[0].url.search).toBe("?allowAutoTopicCreation=true");
    expect(fake.requests[1].method + fake.requests[1].url.pathname).toBe("POST/v1/producers");
    const [first] = nextIdOf(fake);
    expect(stamps(fake)).toEqual([
      [first, 0, 0],
      [first, 0, 1],
    ]);
    // Every record carries its partition, chosen by the client.
    expect((fake.requests[3].body as Body).records.every((r) => r.partition === 0)).toBe(true);
  });

  it("resends the same stamp after an answer that may hide an append", async () => {
    const fake = new FakeFetch()
      .answer(() => metadata())
      .answer(() => identity())
      .answer(() => floeError(503, "REQUEST_TIMED_OUT", true))
      .answer((r) => offsets(r, 7));
    const answer = await send(producer(fake), "a");
    expect(answer[0].offset).toBe(7);
    const [a, b] = stamps(fake);
    expect(b).toEqual(a);
  });

  it("on UNKNOWN_PRODUCER_ID initialises a new producer and starts the partition again at sequence 0", async () => {
    const fake = new FakeFetch()
      .answer(() => metadata())
      .answer(() => identity())
      .answer((r) => offsets(r, 0))
      .answer(() => floeError(404, "UNKNOWN_PRODUCER_ID"))
      .answer(() => identity())
      .answer((r) => offsets(r, 1));
    const p = producer(fake);
    await send(p, "a");
    await send(p, "b");
    const [old, renewed] = nextIdOf(fake);
    expect(stamps(fake)).toEqual([
      [old, 0, 0],
      [old, 0, 1],
      [renewed, 0, 0],
    ]);
  });

  it("hands a refused request's sequences out again", async () => {
    const fake = new FakeFetch()
      .answer(() => metadata())
      .answer(() => identity())
      .answer(() => floeError(413, "RECORD_TOO_LARGE"))
      .answer((r) => offsets(r, 0));
    const p = producer(fake);
    await expect(send(p, "too big")).rejects.toMatchObject({ code: "RECORD_TOO_LARGE" });
    await send(p, "fits");
    const [id] = nextIdOf(fake);
    expect(stamps(fake)).toEqual([
      [id, 0, 0],
      [id, 0, 0],
    ]);
  });

  it("is fenced for good by INVALID_PRODUCER_EPOCH from another instance: later sends fail without a request", async () => {
    const fake = new FakeFetch()
      .answer(() => metadata())
      .answer(() => identity(3))
      .answer(() => floeError(409, "INVALID_PRODUCER_EPOCH"));
    const p = producer(fake, { transactionalId: "orders" });
    await expect(send(p, "a")).rejects.toMatchObject({ code: "INVALID_PRODUCER_EPOCH" });
    expect(fake.requests[1].body).toEqual({ transactionalId: "orders" });
    const count = fake.requests.length;
    await expect(send(p, "b")).rejects.toMatchObject({ code: "INVALID_PRODUCER_EPOCH" });
    expect(fake.requests).toHaveLength(count);
  });

  it("resends a request refused as out of order once the earlier one in flight has landed", async () => {
    let releaseFirst: (r: Response) => void = () => {};
    const fake = new FakeFetch()
      .answer(() => metadata())
      .answer(() => identity())
      // The first request is answered only after the second was refused as out of order.
      .answer(
        () =>
          new Promise<Response>((resolve) => {
            releaseFirst = resolve;
          }),
      )
      .answer(() => {
        queueMicrotask(() => releaseFirst(json(200, { offsets: [{ partition: 0, offset: 0 }] })));
        return floeError(409, "OUT_OF_ORDER_SEQUENCE_NUMBER", true);
      })
      .answer((r) => offsets(r, 1));
    const p = producer(fake, { maxInFlightRequests: 2, batchBytes: 1 });
    const [a, b] = await Promise.all([send(p, "a"), send(p, "b")]);
    expect([a[0].offset, b[0].offset]).toEqual([0, 1]);
    const [id] = nextIdOf(fake);
    expect(stamps(fake)).toEqual([
      [id, 0, 0],
      [id, 0, 1],
      [id, 0, 1],
    ]);
  });
});

/** The producer ids the fake handed out, in order. */
function nextIdOf(fake: FakeFetch): number[] {
  return [...new Set(stamps(fake).map(([id]) => id as number))];
}
