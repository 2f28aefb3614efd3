import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Consumer } from "../../../src/client/consumer.js";
import type { ConsumerConfig, EachMessagePayload } from "../../../src/client/consumer-types.js";
import { Floe } from "../../../src/client/floe.js";
import { startTestServer, type TestServer, uniqueTopic } from "../api/harness.js";
import { until } from "../groups/consumer-probe.js";

/** One `POST /v1/fetch` as the consumer sent it, and whether its answer has arrived. */
interface SentFetch {
  partitions: { partition: number; offset: number }[];
  minBytes?: number;
  partitionMaxBytes?: number;
  answered: boolean;
  /** Given up by the consumer before its answer came. */
  aborted: boolean;
}

/**
 * The consumer's prefetch against a real `floe dev` server: the next fetch is sent while the
 * application still handles the current one, and a seek, pause or revocation drops what it
 * fetched for a partition that moved, so nothing is skipped, repeated or delivered after it.
 */
describe("Consumer prefetch", () => {
  let s: TestServer;
  let floe: Floe;
  let consumers: Consumer[] = [];
  let gates: (() => void)[] = [];

  /** A promise the test opens when it is ready: eachMessage waits on it, so "while processing" is exact. */
  function gate(): { wait: Promise<void>; open: () => void } {
    let open!: () => void;
    const wait = new Promise<void>((resolve) => {
      open = resolve;
    });
    gates.push(open);
    return { wait, open };
  }

  beforeAll(async () => {
    s = await startTestServer("embedded");
    floe = new Floe({ url: s.url });
  });
  afterEach(async () => {
    // A failed test may leave a handler waiting; stop() waits for it.
    for (const open of gates) open();
    gates = [];
    await Promise.allSettled(consumers.map((c) => c.stop()));
    consumers = [];
  });
  afterAll(async () => {
    await s?.close();
  });

  /** A consumer on its own client whose fetch requests are recorded. */
  function watchedConsumer(config: ConsumerConfig): { consumer: Consumer; fetches: SentFetch[] } {
    const fetches: SentFetch[] = [];
    const watched = new Floe({
      url: s.url,
      fetch: async (input, init) => {
        if (!input.endsWith("/v1/fetch") && !input.includes("/v1/fetch?")) return fetch(input, init);
        const body = JSON.parse(String(init?.body)) as SentFetch;
        const sent: SentFetch = {
          partitions: body.partitions.map(({ partition, offset }) => ({ partition, offset })),
          minBytes: body.minBytes,
          partitionMaxBytes: body.partitionMaxBytes,
          answered: false,
          aborted: false,
        };
        fetches.push(sent);
        try {
          const answer = await fetch(input, init);
          sent.answered = true;
          return answer;
        } catch (error) {
          sent.aborted = init?.signal?.aborted === true;
          throw error;
        }
      },
    });
    const consumer = watched.consumer({ heartbeatInterval: 50, fetchMaxWaitMs: 500, ...config });
    consumers.push(consumer);
    return { consumer, fetches };
  }

  /** A topic with `counts[p]` records in partition p, valued by their offset. */
  async function topicWith(counts: number[]): Promise<string> {
    const name = uniqueTopic("pf");
    await floe.admin().createTopic({ topic: name, numPartitions: counts.length });
    const messages = counts.flatMap((n, partition) =>
      Array.from({ length: n }, (_, i) => ({ value: String(i), partition })),
    );
    await floe.producer().send({ topic: name, messages });
    return name;
  }

  const at = (p: EachMessagePayload) => `${p.partition}:${p.message.offset}`;
  const range = (partition: number, from: number, to: number) =>
    Array.from({ length: to - from }, (_, i) => `${partition}:${from + i}`);

  /**
   * A consumer of its own group, from the beginning, assigned `partitions` of `topic`: its
   * eachMessage notes each record in `seen` and holds the one `holdAt` picks until `hold.open()`.
   */
  async function heldConsumer(
    topic: string,
    partitions: number[],
    options: Omit<ConsumerConfig, "groupId">,
    holdAt: (p: EachMessagePayload, seen: string[]) => boolean,
  ) {
    const { consumer, fetches } = watchedConsumer({
      groupId: uniqueTopic("g"),
      fromBeginning: true,
      ...options,
    });
    const hold = gate();
    const seen: string[] = [];
    await consumer.assign([{ topic, partitions }]);
    await consumer.run({
      eachMessage: async (p) => {
        seen.push(at(p));
        if (holdAt(p, seen)) await hold.wait;
      },
    });
    return { consumer, fetches, hold, seen };
  }

  it("sends the next fetch, at the position after the current records, before eachMessage resolves", async () => {
    const t = await topicWith([10]);
    const { fetches, hold, seen } = await heldConsumer(
      t,
      [0],
      { maxRecords: 5 },
      (p) => p.message.offset === 0,
    );
    await until(() => fetches.length >= 2 && fetches[1].answered, "the prefetch is answered");
    // Still inside eachMessage of offset 0: the second fetch asked for what follows the first's records.
    expect(seen).toEqual(["0:0"]);
    expect(fetches.map((f) => f.partitions)).toEqual([
      [{ partition: 0, offset: 0 }],
      [{ partition: 0, offset: 5 }],
    ]);
    // At most one fetch is prefetched: nothing more is sent while the application holds fetch 1.
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(fetches).toHaveLength(2);
    hold.open();
    await until(() => seen.length >= 10, "every record is handed over");
    expect(seen).toEqual(range(0, 0, 10));
    expect(fetches[2].partitions).toEqual([{ partition: 0, offset: 10 }]);
  });

  it("a seek while a prefetched answer waits drops it and continues from the sought offset", async () => {
    const t = await topicWith([10]);
    const { consumer, fetches, hold, seen } = await heldConsumer(
      t,
      [0],
      { maxRecords: 5 },
      (p) => p.message.offset === 1,
    );
    await until(() => fetches.length >= 2 && fetches[1].answered, "the prefetch of offsets 5.. is answered");
    consumer.seek({ topic: t, partition: 0, offset: 8 });
    hold.open();
    await until(() => seen.length >= 4, "the records after the seek are handed over");
    // Nothing of the prefetched 5..9 and nothing left of the first fetch after the seek.
    expect(seen).toEqual(["0:0", "0:1", "0:8", "0:9"]);
    expect(fetches[2].partitions).toEqual([{ partition: 0, offset: 8 }]);
  });

  it("a seek while the prefetch long-polls at the end of the log aborts it and fetches the sought offset", async () => {
    const t = await topicWith([5]);
    // Long enough that the prefetch at the end of the log is still waiting when the test seeks.
    const { consumer, fetches, hold, seen } = await heldConsumer(
      t,
      [0],
      { fetchMaxWaitMs: 5_000 },
      (_, seen) => seen.length === 1,
    );
    await until(() => fetches.length >= 2, "the prefetch at the end of the log is sent");
    expect(fetches[1]).toMatchObject({ partitions: [{ partition: 0, offset: 5 }], answered: false });
    consumer.seek({ topic: t, partition: 0, offset: 2 });
    hold.open();
    await until(() => seen.length >= 4, "the sought records are handed over");
    expect(seen).toEqual(["0:0", "0:2", "0:3", "0:4"]);
    expect(fetches[1].aborted).toBe(true);
    expect(fetches[2].partitions).toEqual([{ partition: 0, offset: 2 }]);
  });

  it("a partition paused while its prefetched records wait gets none of them until resumed, then each once", async () => {
    const t = await topicWith([10, 10]);
    const { consumer, fetches, hold, seen } = await heldConsumer(
      t,
      [0, 1],
      { maxRecords: 5 },
      (_, seen) => seen.length === 1,
    );
    await until(
      () => fetches.length >= 2 && fetches[1].answered,
      "the prefetch of both partitions is answered",
    );
    const first = Number(seen[0].split(":")[0]);
    const other = 1 - first;
    expect(fetches[1].partitions).toEqual(
      expect.arrayContaining([
        { partition: 0, offset: 5 },
        { partition: 1, offset: 5 },
      ]),
    );
    consumer.pause([{ topic: t, partitions: [other] }]);
    hold.open();
    await until(() => seen.length >= 10, "the unpaused partition is read to its end");
    expect(seen).toEqual(range(first, 0, 10));
    consumer.resume([{ topic: t, partitions: [other] }]);
    await until(() => seen.length >= 20, "the resumed partition is read");
    expect(seen.slice(10)).toEqual(range(other, 0, 10));
  });

  it("a partition revoked while the member holds a prefetch of it delivers nothing more; the new owner continues, each record once", async () => {
    const t = await topicWith([10, 10]);
    const groupId = uniqueTopic("g");
    const { consumer: a, fetches } = watchedConsumer({ groupId, maxRecords: 5, fromBeginning: true });
    const hold = gate();
    const seenByA: string[] = [];
    const seenByB: string[] = [];
    let revoked: number[] | undefined;
    let seenByABeforeRevocation = 0;
    a.on("consumer.rebalancing", ({ payload }) => {
      revoked = payload.revoking.flatMap((r) => r.partitions);
      seenByABeforeRevocation = seenByA.length;
      hold.open();
    });
    await a.subscribe({ topic: t });
    await a.run({
      eachMessage: async (p) => {
        seenByA.push(at(p));
        if (seenByA.length === 1) await hold.wait;
      },
    });
    await until(
      () => fetches.length >= 2 && fetches[1].answered,
      "member A holds a prefetch of both partitions",
    );
    expect(fetches[1].partitions.map((p) => p.partition).sort()).toEqual([0, 1]);

    const { consumer: b } = watchedConsumer({ groupId, maxRecords: 5, fromBeginning: true });
    await b.subscribe({ topic: t });
    await b.run({ eachMessage: async (p) => void seenByB.push(at(p)) });
    await until(
      () => seenByA.length + seenByB.length >= 20 && b.assignment().length > 0,
      "all 20 records are read",
    );

    expect(revoked).toHaveLength(1);
    const gone = revoked![0];
    // After the revocation began, member A handed over nothing of the partition it gave up.
    expect(seenByA.slice(seenByABeforeRevocation).filter((r) => r.startsWith(`${gone}:`))).toEqual([]);
    expect(b.assignment()).toEqual([{ topic: t, partitions: [gone] }]);
    // Every record exactly once between them, in offset order per partition.
    const all = [...seenByA, ...seenByB];
    expect(new Set(all).size).toBe(all.length);
    expect(all.filter((r) => r.startsWith("0:"))).toEqual(range(0, 0, 10));
    expect(all.filter((r) => r.startsWith("1:"))).toEqual(range(1, 0, 10));
  });

  it("sends fetch.min.bytes and max.partition.fetch.bytes, and the server waits for the one and limits by the other", async () => {
    const t = uniqueTopic("pf");
    await floe.admin().createTopic({ topic: t, numPartitions: 2 });
    const { consumer, fetches } = watchedConsumer({
      groupId: uniqueTopic("g"),
      fromBeginning: true,
      fetchMinBytes: 2048,
      // A 300-byte value counts 473 bytes as the client's answer carries it (base64 and JSON
      // framing, as written on the wire): four records per partition fit.
      maxPartitionFetchBytes: 1900,
      fetchMaxWaitMs: 20_000,
    });
    const batches: string[][] = [];
    await consumer.assign([{ topic: t, partitions: [0, 1] }]);
    await consumer.run({
      eachBatch: async ({ batch }) => {
        batches.push(batch.messages.map((m) => `${batch.partition}:${m.offset}`));
      },
    });
    await until(() => fetches.length >= 1, "the first fetch is sent");
    expect(fetches[0]).toMatchObject({ minBytes: 2048, partitionMaxBytes: 1900 });

    const producer = floe.producer();
    const value = "x".repeat(300);
    const send = (counts: [number, number]) =>
      producer.send({
        topic: t,
        messages: counts.flatMap((n, partition) => Array.from({ length: n }, () => ({ value, partition }))),
      });
    await send([1, 0]);
    // Once a reader sees that record, the consumer's long-poll has been woken by it as well.
    const seen = await floe.reader().fetch({ topic: t, partition: 0, offset: 0 });
    expect(seen.records).toHaveLength(1);
    expect(batches).toEqual([]);
    expect(fetches[0].answered).toBe(false);

    // 9 records now, 8 of them within the partition limits: 2560 bytes, past fetch.min.bytes.
    await send([4, 4]);
    await until(() => batches.length >= 2, "the first answer is handed over");
    // Answered after the second send (its first batch holds records of both sends), four per partition.
    expect(batches.slice(0, 2).sort()).toEqual([range(0, 0, 4), range(1, 0, 4)]);

    // The rest, 2240 bytes (p0 4..7, p1 4..6), completes the next fetch.
    await send([3, 3]);
    await until(() => batches.flat().length >= 15, "all 15 records are handed over");
    const all = batches.flat();
    expect(all.filter((r) => r.startsWith("0:"))).toEqual(range(0, 0, 8));
    expect(all.filter((r) => r.startsWith("1:"))).toEqual(range(1, 0, 7));
    expect(Math.max(...batches.map((b) => b.length))).toBeLessThanOrEqual(4);

    // The prefetch now long-polls on the server, which does not see a client give up: pausing stops
    // further fetches, and enough records answer that one, so closing the server need not wait 20 s.
    consumer.pause([{ topic: t }]);
    await send([4, 3]);
  });
});
