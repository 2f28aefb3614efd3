import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Consumer } from "../../../src/client/consumer.js";
import type { ConsumerConfig } from "../../../src/client/consumer-types.js";
import { Floe } from "../../../src/client/floe.js";
import { apiStorages, startTestServer, type TestServer, uniqueTopic } from "../api/harness.js";
import { until } from "./consumer-probe.js";

/** The Consumer's controls against a real `floe dev`: assign, seek, pause, eachBatch, redelivery, patterns. */
describe.each(apiStorages)("Consumer on %s", (storage) => {
  let s: TestServer;
  let floe: Floe;
  let consumers: Consumer[] = [];

  beforeAll(async () => {
    s = await startTestServer(storage);
    floe = new Floe({ url: s.url });
  });
  afterEach(async () => {
    await Promise.allSettled(consumers.map((c) => c.stop()));
    consumers = [];
  });
  afterAll(async () => {
    await s?.close();
  });

  function consumer(config: ConsumerConfig): Consumer {
    const c = floe.consumer({ heartbeatInterval: 50, maxWaitTimeInMs: 500, ...config });
    consumers.push(c);
    return c;
  }

  /** A topic with `counts[p]` records in partition p, valued by their offset. */
  async function topicWith(counts: number[], name = uniqueTopic("cf")): Promise<string> {
    await floe.admin().createTopic({ topic: name, numPartitions: counts.length });
    const messages = counts.flatMap((n, partition) =>
      Array.from({ length: n }, (_, i) => ({ value: String(i), partition })),
    );
    if (messages.length > 0) await floe.producer().send({ topic: name, messages });
    return name;
  }

  it("assign(): standalone partitions, committed without a member epoch, continued by the next run", async () => {
    const t = await topicWith([10, 6]);
    const groupId = uniqueTopic("g");
    const first = consumer({ groupId, fromBeginning: true });
    const commits: (string | null)[] = [];
    first.on("consumer.commit_offsets", ({ payload }) => commits.push(payload.memberId));
    const seen: string[] = [];
    await first.assign([{ topic: t, partitions: [0, 1] }]);
    await first.run({
      eachMessage: async ({ partition, message }) => void seen.push(`${partition}:${message.offset}`),
    });
    await until(() => seen.length >= 16, "both partitions are read");
    await first.stop();
    expect(seen).toHaveLength(16);
    expect(commits.length).toBeGreaterThan(0);
    expect(commits.every((id) => id === null)).toBe(true);
    expect((await floe.admin().fetchOffsets({ groupId })).map((o) => [o.partition, o.offset, o.lag])).toEqual(
      [
        [0, 10, 0],
        [1, 6, 0],
      ],
    );
    expect((await floe.admin().describeGroup(groupId)).members).toEqual([]);

    await floe
      .producer()
      .send({ topic: t, messages: [0, 1, 2].map((i) => ({ value: `new-${i}`, partition: 0 })) });
    const second = consumer({ groupId, fromBeginning: true });
    const again: number[] = [];
    await second.assign([{ topic: t, partitions: [0] }]);
    await second.run({ eachMessage: async ({ message }) => void again.push(message.offset) });
    await until(() => again.length >= 3, "the new records are read");
    await second.stop();
    expect(again).toEqual([10, 11, 12]);
  });

  it("a standalone commit is refused while the group has members", async () => {
    const t = await topicWith([2]);
    const groupId = uniqueTopic("g");
    const member = consumer({ groupId });
    await member.subscribe({ topic: t });
    await member.run({ eachMessage: async () => {} });
    const standalone = consumer({ groupId });
    await standalone.assign([{ topic: t, partitions: [0] }]);
    await expect(standalone.commitOffsets([{ topic: t, partition: 0, offset: 1 }])).rejects.toMatchObject({
      code: "UNKNOWN_MEMBER_ID",
      status: 409,
    });
  });

  it("seek() re-reads from an offset, and one past the log applies auto.offset.reset", async () => {
    const t = await topicWith([5]);
    const c = consumer({ groupId: uniqueTopic("g"), autoOffsetReset: "earliest" });
    const seen: number[] = [];
    await c.subscribe({ topic: t });
    await c.run({ eachMessage: async ({ message }) => void seen.push(message.offset) });
    await until(() => seen.length >= 5, "the partition is read");
    c.seek({ topic: t, partition: 0, offset: 2 });
    await until(() => seen.length >= 8, "the records after the seek are read again");
    c.seek({ topic: t, partition: 0, offset: 100 });
    await until(() => seen.length >= 13, "the reset re-read the partition");
    expect(seen).toEqual([0, 1, 2, 3, 4, 2, 3, 4, 0, 1, 2, 3, 4]);
  });

  it("pause() inside eachMessage stops after that record; resume continues with the next", async () => {
    const t = await topicWith([6]);
    const c = consumer({ groupId: uniqueTopic("g"), fromBeginning: true });
    const seen: number[] = [];
    let resume: (() => void) | undefined;
    await c.subscribe({ topic: t });
    await c.run({
      eachMessage: async ({ message, pause }) => {
        seen.push(message.offset);
        if (message.offset === 2) resume = pause();
      },
    });
    await until(() => resume !== undefined, "the consumer paused itself");
    expect(c.paused()).toEqual([{ topic: t, partitions: [0] }]);
    expect(seen).toEqual([0, 1, 2]);
    resume!();
    expect(c.paused()).toEqual([]);
    await until(() => seen.length >= 6, "the rest is read");
    expect(seen).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it("a failing eachMessage gets the same record again; the error is reported", async () => {
    const t = await topicWith([4]);
    const c = consumer({ groupId: uniqueTopic("g"), fromBeginning: true });
    const crashes: string[] = [];
    c.on("consumer.crash", ({ payload }) => crashes.push(`${payload.restart}:${payload.error.message}`));
    const seen: number[] = [];
    let failed = false;
    await c.subscribe({ topic: t });
    await c.run({
      eachMessage: async ({ message }) => {
        seen.push(message.offset);
        if (message.offset === 1 && !failed) {
          failed = true;
          throw new Error("boom");
        }
      },
    });
    await until(() => seen.length >= 5, "every record is handled");
    expect(seen).toEqual([0, 1, 1, 2, 3]);
    expect(crashes).toEqual(["true:boom"]);
  });

  it("eachBatch: resolveOffset marks progress; what it did not resolve comes again", async () => {
    const t = await topicWith([8]);
    const groupId = uniqueTopic("g");
    const c = consumer({ groupId, fromBeginning: true });
    const batches: { first: number | null; last: number; highWatermark: number }[] = [];
    await c.subscribe({ topic: t });
    await c.run({
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset }) => {
        batches.push({
          first: batch.firstOffset(),
          last: batch.lastOffset(),
          highWatermark: batch.highWatermark,
        });
        // The first time only part of it; afterwards everything.
        const upTo = batches.length === 1 ? batch.messages[0].offset + 2 : batch.lastOffset();
        for (const m of batch.messages) if (m.offset <= upTo) resolveOffset(m.offset);
      },
    });
    // The first batch ends at 7 too: wait for the one that re-delivers what it left unresolved.
    await until(() => batches.length >= 2 && batches.at(-1)?.last === 7, "the unresolved rest is read again");
    await c.stop();
    expect(batches[0].first).toBe(0);
    expect(batches[1].first).toBe(3);
    expect(batches[0].highWatermark).toBe(8);
    expect((await floe.admin().fetchOffsets({ groupId }))[0].offset).toBe(8);
  });

  it("subscribes by pattern: every matching topic, including one created later", async () => {
    const prefix = uniqueTopic("pat");
    const one = await topicWith([2], `${prefix}.one`);
    await topicWith([3], `other-${prefix}`);
    const c = consumer({ groupId: uniqueTopic("g"), fromBeginning: true });
    const seen = new Set<string>();
    await c.subscribe({ topic: new RegExp(`${prefix.replace(/[.-]/g, "\\$&")}\\..*`) });
    await c.run({ eachMessage: async ({ topic, message }) => void seen.add(`${topic}:${message.offset}`) });
    await until(() => seen.size >= 2, "the matching topic is read");
    const two = await topicWith([1], `${prefix}.two`);
    await until(() => seen.size >= 3, "the new matching topic is read");
    expect([...seen].sort()).toEqual([`${one}:0`, `${one}:1`, `${two}:0`]);
    await expect(c.subscribe({ topic: /x/i })).rejects.toThrow(/without flags/);
    // The server matches with RE2, as Kafka does: JavaScript-only syntax is refused here, not sent.
    await expect(c.subscribe({ topic: /x(?=y)/ })).rejects.toThrow(/RE2 patterns/);
  });
});
