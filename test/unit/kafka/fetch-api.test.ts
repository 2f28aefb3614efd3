import { describe, expect, it } from "vitest";
import { Broker } from "../../../src/broker/broker.js";
import { GroupCoordinator } from "../../../src/groups/coordinator.js";
import { fetchApi } from "../../../src/kafka/apis/fetch-api.js";
import type { RequestContext } from "../../../src/kafka/kafka-api.js";
import { encodeRecordBatch, readBatchHeaders } from "../../../src/log/record-batch.js";
import { createBackend } from "../../../src/storage/backend.js";
import { instrumentBackend } from "../../../src/storage/instrumented.js";

// The Fetch handler over a broker whose storage calls are counted.

describe("Fetch's reads", () => {
  it("read each partition's head once per pass: the marks found first bound the batches", async () => {
    const counted = instrumentBackend(await createBackend({ storage: "memory" }));
    const broker = new Broker(counted.backend);
    await broker.createTopic("t", 2);
    for (const partition of [0, 1]) {
      const value = new TextEncoder().encode(`p${partition}`);
      const bytes = encodeRecordBatch([{ key: null, value, headers: [], timestamp: Date.now() }]);
      await broker.produce({ topic: "t", batches: [{ partition, bytes }] });
    }
    const ctx: RequestContext = {
      core: {
        broker,
        groups: new GroupCoordinator({ meta: counted.backend.meta, broker }),
        produce: (r) => broker.produce(r),
        node: () => ({ nodeId: 1, host: "localhost", port: 9092 }),
        clusterId: "c",
      },
      apiVersion: 12,
      clientId: null,
      signal: new AbortController().signal,
      served: [],
    };
    const request = fetchApi.request.decode(
      12,
      fetchApi.request.encode(12, {
        maxWaitMs: 0,
        minBytes: 1,
        maxBytes: 1024 * 1024,
        topics: [
          {
            topic: "t",
            partitions: [0, 1].map((partition) => ({ partition, fetchOffset: 0, partitionMaxBytes: 65536 })),
          },
        ],
      }),
    );
    counted.reset();
    const answer = (await fetchApi.handle(request, ctx)) as {
      responses: { partitions: { highWatermark: number; records: Uint8Array }[] }[];
    };
    const partitions = answer.responses[0].partitions;
    expect(partitions.map((p) => [p.highWatermark, readBatchHeaders(p.records).length])).toEqual([
      [1, 1],
      [1, 1],
    ]);
    // The topic is cached and the chunks are in memory from their commits: the gets are the heads.
    expect(counted.counts().meta.gets).toBe(2);
  });
});
