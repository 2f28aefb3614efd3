import { describe, expect, it } from "vitest";
import { Broker } from "../../../src/broker/broker.js";
import { decodeBatches } from "../../../src/log/record-batch.js";
import { createBackend } from "../../../src/storage/backend.js";
import { instrumentBackend } from "../../../src/storage/instrumented.js";
import { batch, records } from "./batches.js";

describe("binary tail reads", () => {
  it("serves a chunk this process just committed from memory, and reads it from storage in another process", async () => {
    const counted = instrumentBackend(await createBackend({ storage: "memory" }));
    const writer = new Broker(counted.backend);
    await writer.createTopic("tail", 1);
    const [{ offset }] = await writer.produce({
      topic: "tail",
      batches: [{ partition: 0, bytes: batch(records(3)) }],
    });
    expect(offset).toBe(0);

    counted.reset();
    const tail = await writer.fetchRaw({ topic: "tail", partition: 0, offset: 1 });
    expect(decodeBatches(tail.bytes).flatMap((b) => b.records.map((r) => r.offset))).toEqual([0, 1, 2]);
    expect(counted.counts().objects.gets).toBe(0);

    // A fresh Broker (another Lambda instance, a restarted server) has nothing cached.
    const reader = new Broker(counted.backend);
    const cold = await reader.fetchRaw({ topic: "tail", partition: 0, offset: 0 });
    expect(Buffer.from(cold.bytes)).toEqual(Buffer.from(tail.bytes));
    expect(counted.counts().objects).toMatchObject({ gets: 1, getBytes: tail.bytes.length });
    await counted.backend.close();
  });
});
