import type { Logger } from "@aws-lambda-powertools/logger";
import type { Context, ScheduledEvent } from "aws-lambda";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createHandler, type MetricsSink } from "../../../functions/maintenance.js";
import { Broker } from "../../../src/broker/broker.js";
import { keys } from "../../../src/broker/keys.js";
import {
  type MaintenanceReport,
  runMaintenanceOnce,
  startMaintenanceTimer,
} from "../../../src/maintenance/index.js";
import { createBackend } from "../../../src/storage/backend.js";
import type { Backend } from "../../../src/storage/ports.js";

const enc = new TextEncoder();

/** A topic of `partitions` partitions with `appends` one-record segments in each. */
async function smallSegments(
  broker: Broker,
  topic: string,
  partitions: number,
  appends: number,
): Promise<string> {
  const { topicId } = await broker.createTopic(topic, partitions);
  for (let i = 0; i < appends; i++) {
    for (let p = 0; p < partitions; p++)
      await broker.produce({ topic, records: [{ value: enc.encode(`${i}`), partition: p }] });
  }
  return topicId;
}

async function segmentCount(backend: Backend, topicId: string, partition: number): Promise<number> {
  return (await backend.meta.query(keys.partition(topicId, partition), { prefix: keys.segmentPrefix }))
    .length;
}

describe("maintenance entry points (memory backend)", () => {
  let backend: Backend;
  let broker: Broker;
  beforeEach(async () => {
    backend = await createBackend({ storage: "memory" });
    broker = new Broker(backend);
  });
  afterEach(async () => {
    await backend.close();
  });

  it("runMaintenanceOnce runs slices until a whole pass that began within the call is done", async () => {
    const a = await smallSegments(broker, "a", 2, 5);
    const b = await smallSegments(broker, "b", 1, 5);
    // A worker stopped mid-pass earlier: the cursor points past topic "a".
    await runMaintenanceOnce({ backend, slice: { ops: 1 } }).then((r) => expect(r.cycleComplete).toBe(true));
    await smallSegments(broker, "c", 1, 5);
    const report = await runMaintenanceOnce({ backend: broker, slice: { ops: 2 } });
    expect(report.cycleComplete).toBe(true);
    expect(report.errors).toEqual([]);
    expect(report.cycle?.partitions).toBe(4);
    for (const [id, p] of [
      [a, 0],
      [a, 1],
      [b, 0],
    ] as const)
      expect(await segmentCount(backend, id, p)).toBe(1);
    const { topicId: c } = await broker.topics.get("c");
    expect(await segmentCount(backend, c, 0)).toBe(1);
  });

  it("the timer runs slices one after another until stopped, and stop waits for the running one", async () => {
    const topicId = await smallSegments(broker, "t", 1, 6);
    const reports: MaintenanceReport[] = [];
    let twoDone!: () => void;
    const done = new Promise<void>((resolve) => (twoDone = resolve));
    const timer = startMaintenanceTimer({
      backend,
      intervalMs: 1,
      initialDelayMs: 0,
      onReport: (r) => {
        reports.push(r);
        if (reports.length === 2) twoDone();
      },
      onError: (e) => {
        throw e;
      },
    });
    await done;
    await timer.stop();
    const count = reports.length;
    expect(reports[0].compaction.segmentsMerged).toBe(6);
    expect(await segmentCount(backend, topicId, 0)).toBe(1);
    // Nothing runs after stop() has resolved.
    await new Promise((resolve) => setImmediate(resolve));
    expect(reports.length).toBe(count);
  });

  it("the Lambda handler runs one slice within the invocation's time, logs the report and emits metrics", async () => {
    await smallSegments(broker, "t", 2, 4);
    const metrics: { name: string; unit: string; value: number }[] = [];
    let published = 0;
    const sink: MetricsSink = {
      addMetric: (name, unit, value) => {
        metrics.push({ name, unit, value });
      },
      publishStoredMetrics: () => {
        published++;
      },
    };
    const logged: { message: string; report: MaintenanceReport }[] = [];
    const logger = {
      info: (message: string, extra: { report: MaintenanceReport }) =>
        logged.push({ message, report: extra.report }),
      warn: (message: string, extra: { report: MaintenanceReport }) =>
        logged.push({ message, report: extra.report }),
      error: () => {},
    } as unknown as Logger;
    const handler = createHandler({ backend: async () => backend, logger, metrics: sink, env: {} });
    const context = { getRemainingTimeInMillis: () => 60_000 } as Context;

    const report = await handler({} as ScheduledEvent, context);
    expect(report.errors).toEqual([]);
    expect(report.compaction.merges).toBe(2);
    expect(logged).toEqual([{ message: "maintenance slice", report }]);
    expect(published).toBe(1);
    const byName = Object.fromEntries(metrics.map((m) => [m.name, m]));
    expect(byName.Merges).toEqual({ name: "Merges", unit: "Count", value: 2 });
    expect(byName.SegmentsPerPartition?.value).toBe(1);
    expect(byName.Objects?.value).toBe(report.cycle?.objects);
    expect(byName.AverageObjectBytes?.unit).toBe("Bytes");
  });

  it("the Lambda handler fails loudly on a broken setup and retries it on the next invocation", async () => {
    let attempts = 0;
    const errors: string[] = [];
    const logger = {
      error: (m: string) => errors.push(m),
      info: () => {},
      warn: () => {},
    } as unknown as Logger;
    const handler = createHandler({
      backend: async () => {
        if (++attempts === 1) throw new Error("FLOE_TABLE is not set");
        return backend;
      },
      logger,
      metrics: { addMetric: () => {}, publishStoredMetrics: () => {} },
      env: {},
    });
    const context = { getRemainingTimeInMillis: () => 60_000 } as Context;
    await expect(handler({} as ScheduledEvent, context)).rejects.toThrow("FLOE_TABLE");
    expect(errors).toEqual(["cannot set up maintenance"]);
    expect((await handler({} as ScheduledEvent, context)).cycleComplete).toBe(true);
  });
});
