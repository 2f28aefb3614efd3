/**
 * Maintenance expires idle idempotent producers (Kafka's producer.id.expiration.ms, decision 0008):
 * a partition's state after that long without a write, the producer once none is left. A producer
 * still writing keeps everything.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Broker } from "../../src/broker/broker.js";
import { keys } from "../../src/broker/keys.js";
import type { ProducerIdentity } from "../../src/broker/producer-registry.js";
import { Maintenance } from "../../src/maintenance/maintenance.js";
import type { Backend } from "../../src/storage/ports.js";
import { testBackends } from "../support/backends.js";
import { bytes, expectCode, SkewClock } from "./maintenance-fixtures.js";

const DAY = 24 * 60 * 60 * 1000;

describe.each(testBackends)("producer expiry on $name", ({ create }) => {
  let backend: Backend;
  beforeAll(async () => {
    backend = await create();
  });
  afterAll(async () => {
    await backend?.close();
  });

  async function fullPass(clock: SkewClock) {
    const maintenance = new Maintenance(backend, { clock: clock.now });
    for (let i = 0; i < 20; i++) {
      const report = await maintenance.runOnce();
      expect(report.errors).toEqual([]);
      if (report.cycleComplete) return;
    }
    throw new Error("maintenance never completed a pass");
  }

  it("drops a partition's state after a day idle and the producer once nothing is left; an active producer keeps its state", async () => {
    const clock = new SkewClock();
    const broker = new Broker(backend, { clock: clock.now, topicCacheTtlMs: 0 });
    const topic = `expiry-${Math.random().toString(36).slice(2, 8)}`;
    await broker.createTopic(topic, 2);
    const send = (id: ProducerIdentity, partition: number, seq: number) =>
      broker.produce({
        topic,
        records: [{ partition, value: bytes(`${id.producerId}-${seq}`) }],
        producer: { ...id, sequences: [{ partition, baseSequence: seq }] },
      });
    const idle = await broker.initProducer({ transactionalId: `idle-${topic}` });
    const busy = await broker.initProducer();
    await send(idle, 0, 0);
    await send(busy, 0, 0);
    await send(busy, 1, 0);

    clock.advance(DAY - 60_000);
    await send(busy, 1, 1); // busy keeps writing partition 1, not partition 0
    clock.advance(120_000);
    await fullPass(clock);

    // The idle producer is gone, with its name: its next produce is UNKNOWN_PRODUCER_ID.
    await expectCode(send(idle, 0, 1), "UNKNOWN_PRODUCER_ID");
    expect(await backend.meta.get(keys.transactionalId(`idle-${topic}`).pk, "meta")).toBeUndefined();
    // A fresh InitProducerId under the old name gets a new id.
    const renamed = await broker.initProducer({ transactionalId: `idle-${topic}` });
    expect(renamed.producerId).not.toBe(idle.producerId);
    // The busy producer lost only its idle partition's state: it continues on 1, restarts at 0 on 0.
    expect(await send(busy, 1, 2)).toEqual([{ partition: 1, offset: 2 }]);
    await expectCode(send(busy, 0, 1), "OUT_OF_ORDER_SEQUENCE_NUMBER");
    expect(await send(busy, 0, 0)).toEqual([{ partition: 0, offset: 2 }]);
  });
});
