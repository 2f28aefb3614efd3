import { describe, expect, it } from "vitest";
import { Floe } from "../../src/client/floe.js";
import { invokeFunction } from "./aws.js";
import { deployedStack, functionNamed } from "./stack.js";

/**
 * Appends racing the scheduled maintenance (compaction, retention, GC; architecture §7) on the
 * deployed stack: the maintenance function is invoked through LocalStack's Lambda API while
 * producers append, as its EventBridge schedule would, and every record must be there exactly once.
 */
const stack = deployedStack();
const floe = new Floe({ url: stack.apiUrl });

interface Report {
  errors: unknown[];
  compaction: { merges: number; segmentsMerged: number };
}

async function readAll(topic: string, partitions: number): Promise<{ values: string[]; gaps: string[] }> {
  const values: string[] = [];
  const gaps: string[] = [];
  const reader = floe.reader();
  for (let partition = 0; partition < partitions; partition++) {
    let offset = 0;
    for (;;) {
      const page = await reader.fetch({ topic, partition, offset });
      for (const r of page.records) {
        if (r.offset !== offset) gaps.push(`${partition}: expected offset ${offset}, got ${r.offset}`);
        values.push(r.value?.toString("utf8") ?? "");
        offset = r.offset + 1;
      }
      offset = Math.max(offset, page.nextOffset);
      if (page.records.length === 0 || offset >= page.highWatermark) break;
    }
  }
  return { values, gaps };
}

describe("appends racing maintenance on the deployed stack", () => {
  it("loses and duplicates nothing while the maintenance function runs", async () => {
    const maintenance = functionNamed(stack, "Maintenance");
    const topic = `race-${Date.now().toString(36)}`;
    const partitions = 3;
    await floe.admin().createTopic({ topic, numPartitions: partitions });
    const producer = floe.producer();
    const sent: string[] = [];
    let producing = true;
    const produce = (async () => {
      try {
        for (let round = 0; round < 30; round++) {
          const values = Array.from({ length: 10 }, (_, i) => `r${round}-${i}`);
          await producer.send({ topic, messages: values.map((value, i) => ({ key: `k${i}`, value })) });
          sent.push(...values);
        }
      } finally {
        producing = false;
      }
    })();
    const reports: Report[] = [];
    const maintain = (async () => {
      // At least twice, and on until the producers are done.
      while (producing || reports.length < 2) {
        reports.push(
          (await invokeFunction(maintenance, {
            source: "aws.events",
            "detail-type": "Scheduled Event",
          })) as Report,
        );
      }
    })();
    await Promise.all([produce, maintain]);
    await producer.disconnect();
    // Once more with the log at rest: compaction of everything just written.
    reports.push((await invokeFunction(maintenance, {})) as Report);

    expect(reports.flatMap((r) => r.errors)).toEqual([]);
    // The race is real: maintenance rewrote segments of this log while and after it was appended to.
    expect(reports.reduce((n, r) => n + r.compaction.merges, 0)).toBeGreaterThan(0);
    const { values, gaps } = await readAll(topic, partitions);
    expect(gaps).toEqual([]);
    expect(values.length).toBe(sent.length);
    expect(new Set(values).size).toBe(values.length);
    expect([...values].sort()).toEqual([...sent].sort());
  });
});
