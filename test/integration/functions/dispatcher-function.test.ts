/**
 * The Lambda dispatcher (functions/dispatcher.ts, bundled as the stack bundles it) invoked as Lambda invokes it — a DynamoDB stream
 * event carrying a partition head's keys, or an EventBridge schedule event, and a context with its
 * remaining time — against the aws backend on the emulators (DynamoDB Local + s3rver), delivering
 * to a Lambda target behind a real HTTP server speaking Lambda's Invoke API, through the real
 * LambdaClient (issue 14).
 */
import { randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";
import { ESM_REQUIRE_BANNER, EXTERNAL_MODULES } from "../../../cdk/floe-bus.js";
import { PROJECT_ROOT } from "../../../cdk/functions.js";
import type { DynamoDBStreamEvent } from "aws-lambda";
import { lambdaContext } from "../../support/api-gateway-event.js";
import { scheduledEvent } from "../../support/scheduled-event.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DimensionedMetricsSink } from "../../../functions/delivery-metrics.js";
import type * as DispatcherModule from "../../../functions/dispatcher.js";
import type { DispatcherHandler } from "../../../functions/dispatcher.js";
import { Broker } from "../../../src/broker/broker.js";
import { keys } from "../../../src/broker/keys.js";
import { GroupCoordinator } from "../../../src/groups/coordinator.js";
import { backendConfigFromEnv, createBackend } from "../../../src/storage/backend.js";
import type { Backend } from "../../../src/storage/ports.js";
import { commitStartingOffsets } from "../../../src/subscriptions/starting-position.js";
import { SubscriptionStore } from "../../../src/subscriptions/subscription-store.js";
import type { MskEvent } from "../../../src/subscriptions/targets/msk-event.js";
import type { SubscriptionInput } from "../../../src/subscriptions/types.js";
import { emulatorEndpoints, lambdaEnvOnEmulators } from "../../support/emulators.js";
import { type LambdaInvokeServer, startLambdaInvokeServer } from "../../support/lambda-invoke-server.js";

const emulators = emulatorEndpoints();

/**
 * functions/dispatcher.ts bundled as the stack bundles it (cdk/floe-bus.ts: ESM for node22, the
 * require shim, the AWS SDK and the native module left out) into a directory where only the AWS SDK
 * resolves besides the bundle, as in Lambda's Node.js runtime; then imported.
 */
async function bundledDispatcher(dir: string): Promise<typeof DispatcherModule> {
  const outfile = path.join(dir, "index.mjs");
  await build({
    entryPoints: [path.join(PROJECT_ROOT, "functions", "dispatcher.ts")],
    outfile,
    bundle: true,
    format: "esm",
    platform: "node",
    target: "node22",
    mainFields: ["module", "main"],
    banner: { js: ESM_REQUIRE_BANNER },
    external: EXTERNAL_MODULES,
    logLevel: "error",
  });
  mkdirSync(path.join(dir, "node_modules"));
  symlinkSync(
    path.join(PROJECT_ROOT, "node_modules", "@aws-sdk"),
    path.join(dir, "node_modules", "@aws-sdk"),
  );
  return (await import(pathToFileURL(outfile).href)) as typeof DispatcherModule;
}

/** What the table's stream sends through the head filter: KEYS_ONLY records of partition heads. */
function headStreamEvent(table: string, heads: { pk: string; sk: string }[]): DynamoDBStreamEvent {
  const arn = `arn:aws:dynamodb:us-east-1:000000000000:table/${table}/stream/2026-11-30T00:00:00.000`;
  return {
    Records: heads.map((k, i) => ({
      eventID: randomUUID(),
      eventName: "MODIFY",
      eventVersion: "1.1",
      eventSource: "aws:dynamodb",
      awsRegion: "us-east-1",
      eventSourceARN: arn,
      dynamodb: {
        ApproximateCreationDateTime: Math.floor(Date.now() / 1000),
        Keys: { pk: { S: k.pk }, sk: { S: k.sk } },
        SequenceNumber: String(1000 + i),
        SizeBytes: 60,
        StreamViewType: "KEYS_ONLY",
      },
    })),
  };
}

interface Metric {
  dimensions: Record<string, string>;
  name: string;
  value: number;
}

/** Captures what the handler would write as EMF. */
function metricsSink(): DimensionedMetricsSink & { published: Metric[] } {
  let dimensions: Record<string, string> = {};
  let pending: { name: string; value: number }[] = [];
  const published: Metric[] = [];
  return {
    published,
    addDimension(name, value) {
      dimensions[name] = value;
    },
    addMetric(name, _unit, value) {
      pending.push({ name, value });
    },
    publishStoredMetrics() {
      for (const m of pending) published.push({ dimensions: { ...dimensions }, ...m });
      pending = [];
      dimensions = {};
    },
  };
}

describe.skipIf(!emulators)("the Lambda dispatcher on the aws backend (emulators)", () => {
  let env: Record<string, string>;
  let backend: Backend;
  let broker: Broker;
  let store: SubscriptionStore;
  let groups: GroupCoordinator;
  let lambda: LambdaInvokeServer;
  let handler: DispatcherHandler;
  let sink: ReturnType<typeof metricsSink>;
  const bundleDir = mkdtempSync(path.join(os.tmpdir(), "floe-dispatcher-"));
  const topic = `orders-${randomUUID().slice(0, 8)}`;
  let topicId: string;

  /** Records the target function accepted (not named in its batchItemFailures), per partition. */
  const accepted = new Map<number, number[]>();
  const events: MskEvent[] = [];
  /** Offsets (partition 0) the function reports as failed the first time it sees them. */
  const failOnce = new Set([7, 23]);
  let thrownOnce = false;

  beforeAll(async () => {
    lambda = await startLambdaInvokeServer();
    env = {
      ...(await lambdaEnvOnEmulators("dispatch")),
      // The real LambdaClient, pointed at the invoke server as at LocalStack.
      AWS_ENDPOINT_URL_LAMBDA: lambda.endpoint,
      AWS_MAX_ATTEMPTS: "1",
    };
    backend = await createBackend(backendConfigFromEnv({ ...env, FLOE_STORAGE: "aws" }));
    broker = new Broker(backend, { autoCreateTopics: false });
    groups = new GroupCoordinator({ meta: backend.meta, broker });
    store = new SubscriptionStore(backend.meta);
    topicId = (await broker.createTopic(topic, 2)).topicId;

    lambda.register("orders-consumer", (event) => {
      const e = event as MskEvent;
      events.push(e);
      // The first batch of partition 1 fails as a whole (the function throws): all of it is retried.
      const p1 = e.records[`${topic}-1`];
      if (p1 && !thrownOnce) {
        thrownOnce = true;
        throw new Error("the function fell over");
      }
      const failures: { itemIdentifier: string }[] = [];
      for (const [group, records] of Object.entries(e.records)) {
        let failed = false;
        for (const r of records) {
          // Lambda's checkpoint rule: everything from the first failure on is retried, so the
          // function stops accepting at it.
          if (!failed && r.partition === 0 && failOnce.delete(r.offset)) {
            failed = true;
            failures.push({ itemIdentifier: `${group}-${r.offset}` });
          }
          if (failed) continue;
          const list = accepted.get(r.partition) ?? [];
          list.push(r.offset);
          accepted.set(r.partition, list);
        }
      }
      return { batchItemFailures: failures };
    });

    const input: SubscriptionInput = {
      topics: [topic],
      target: {
        type: "lambda",
        functionName: "arn:aws:lambda:us-east-1:000000000000:function:orders-consumer",
      },
      batchSize: 10,
      maximumBatchingWindowMs: 0,
      startingPosition: "TRIM_HORIZON",
    };
    const subscription = await store.create("orders-to-lambda", input);
    await commitStartingOffsets(broker, groups, subscription);

    sink = metricsSink();
    const { createHandler } = await bundledDispatcher(bundleDir);
    handler = createHandler({ env, metrics: sink });
  });

  afterAll(async () => {
    await lambda?.close();
    await backend?.close();
    rmSync(bundleDir, { recursive: true, force: true });
  });

  async function produce(partition: number, from: number, count: number): Promise<void> {
    const records = Array.from({ length: count }, (_, i) => ({
      key: Buffer.from(`k${partition}`),
      value: Buffer.from(JSON.stringify({ partition, n: from + i })),
      partition,
      headers: [{ key: "source", value: Buffer.from("test") }],
    }));
    await broker.produce({ topic, records });
  }

  it("woken by a partition head's stream record, delivers every record once, in order, retrying failed items", async () => {
    await produce(0, 0, 30);
    await produce(1, 0, 12);
    const event = headStreamEvent(env.FLOE_TABLE, [keys.head(topicId, 0), keys.head(topicId, 1)]);
    const report = await handler(event, lambdaContext(60_000));

    expect(report).toMatchObject({ subscriptions: 1, delivered: 42, failed: 0, pendingPartitions: 0 });
    expect(report.retried).toBeGreaterThanOrEqual(3);
    expect(accepted.get(0)).toEqual(Array.from({ length: 30 }, (_, i) => i));
    expect(accepted.get(1)).toEqual(Array.from({ length: 12 }, (_, i) => i));
    expect(failOnce.size).toBe(0);
    expect(thrownOnce).toBe(true);

    // Each event is the self-managed Kafka event source's, one topic-partition group per batch.
    for (const e of events) {
      expect(e).toMatchObject({ eventSource: "SelfManagedKafka", floeSubscription: "orders-to-lambda" });
      for (const [group, records] of Object.entries(e.records)) {
        expect(records.length).toBeGreaterThan(0);
        expect(records.length).toBeLessThanOrEqual(10);
        for (const r of records) {
          expect(group).toBe(`${topic}-${r.partition}`);
          expect(Buffer.from(r.key!, "base64").toString()).toBe(`k${r.partition}`);
          const value = JSON.parse(Buffer.from(r.value!, "base64").toString()) as {
            partition: number;
            n: number;
          };
          expect(value).toEqual({ partition: r.partition, n: r.offset });
          expect(r.headers).toEqual([{ source: [...Buffer.from("test")] }]);
          expect(r.timestampType).toBe("CREATE_TIME");
        }
        const offsets = records.map((r) => r.offset);
        expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
      }
    }
    // The retried items were sent again: offsets 7 and 23 of partition 0 arrived twice.
    const sent0 = events.flatMap((e) => (e.records[`${topic}-0`] ?? []).map((r) => r.offset));
    expect(sent0.filter((o) => o === 7)).toHaveLength(2);
    expect(sent0.filter((o) => o === 23)).toHaveLength(2);

    // The counts went out as metrics with the subscription as their dimension.
    const delivered = sink.published.filter((m) => m.name === "RecordsDelivered");
    expect(delivered.every((m) => m.dimensions.Subscription === "orders-to-lambda")).toBe(true);
    expect(delivered.reduce((n, m) => n + m.value, 0)).toBe(42);
    expect(sink.published.filter((m) => m.name === "DeliveryRetries").reduce((n, m) => n + m.value, 0)).toBe(
      report.retried,
    );
  });

  it("the schedule's run delivers what arrived without a stream record, and a run with nothing new delivers nothing", async () => {
    const before = events.length;
    await produce(1, 12, 5);
    const report = await handler(scheduledEvent(), lambdaContext(60_000));
    expect(report).toMatchObject({ delivered: 5, failed: 0, pendingPartitions: 0 });
    expect(accepted.get(1)).toEqual(Array.from({ length: 17 }, (_, i) => i));
    expect(events.length).toBeGreaterThan(before);

    const idle = events.length;
    const again = await handler(scheduledEvent(), lambdaContext(60_000));
    expect(again).toMatchObject({ delivered: 0, pendingPartitions: 0 });
    expect(events.length).toBe(idle);
  });

  it("leaves the subscription's group committed at the end of what it delivered", async () => {
    const committed = await groups.fetchOffsets("floe-subscription-orders-to-lambda", [topic]);
    expect(committed.map((o) => [o.partition, o.offset, o.lag]).sort()).toEqual([
      [0, 30, 0],
      [1, 17, 0],
    ]);
  });
});
