import { lambdaContext } from "../../support/api-gateway-event.js";
import { type RecordingHttpServer, startRecordingHttpServer } from "../../support/recording-http-server.js";
import { scheduledEvent } from "../../support/scheduled-event.js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { DimensionedMetricsSink } from "../../../functions/delivery-metrics.js";
import { createHandler } from "../../../functions/dispatcher.js";
import { Broker } from "../../../src/broker/broker.js";
import { GroupCoordinator } from "../../../src/groups/coordinator.js";
import { createBackend } from "../../../src/storage/backend.js";
import type { Backend } from "../../../src/storage/ports.js";
import { commitStartingOffsets } from "../../../src/subscriptions/starting-position.js";
import { describeSubscription } from "../../../src/subscriptions/subscription-status.js";
import { SubscriptionStore } from "../../../src/subscriptions/subscription-store.js";

let server: RecordingHttpServer;
let port: number;
const backends: Backend[] = [];

beforeAll(async () => {
  server = await startRecordingHttpServer();
  server.answer = (_req, res) => {
    res.writeHead(204);
    res.end();
  };
  port = server.port;
});
afterEach(async () => {
  server.received.length = 0;
  for (const b of backends.splice(0)) await b.close();
});
afterAll(() => server.close());

/**
 * What the context leaves the run: 2 s after the handler's 10 s margin; with the target's 1 s
 * timeout, deliveries start during the first second.
 */
const RUN_MS = 12_000;

const noMetrics: DimensionedMetricsSink = {
  addDimension() {},
  addMetric() {},
  publishStoredMetrics() {},
};

/** A bus with one record waiting for a subscription to the local server, and a handler over it. */
async function setUp(env: Record<string, string>) {
  const backend = await createBackend({ storage: "memory" });
  backends.push(backend);
  const broker = new Broker(backend, { autoCreateTopics: false });
  const groups = new GroupCoordinator({ meta: backend.meta, broker });
  const store = new SubscriptionStore(backend.meta);
  await broker.createTopic("orders", 1);
  const subscription = await store.create("orders-hook", {
    topics: ["orders"],
    target: { type: "http", url: `http://127.0.0.1:${port}/hook`, timeoutMs: 1_000 },
    maximumBatchingWindowMs: 0,
    startingPosition: "TRIM_HORIZON",
  });
  await commitStartingOffsets(broker, groups, subscription);
  await broker.produce({ topic: "orders", records: [{ key: null, value: Buffer.from("order-1") }] });
  const handler = createHandler({
    env: { POWERTOOLS_LOG_LEVEL: "SILENT", ...env },
    backend: async () => backend,
    metrics: noMetrics,
  });
  const status = () => describeSubscription(store, groups, "orders-hook", Date.now());
  return { handler, status };
}

describe("the Lambda dispatcher's private-target policy", () => {
  it("by default refuses an HTTP target on loopback, delivers nothing and says why in the status", async () => {
    const { handler, status } = await setUp({});
    const report = await handler(scheduledEvent(), lambdaContext(RUN_MS));
    expect(report).toMatchObject({ delivered: 0 });
    expect(server.received).toEqual([]);
    const { status: s } = await status();
    expect(s.delivered).toBe(0);
    expect(s.lag).toBe(1);
    expect(s.lastError?.message).toMatch(/^Delivering offsets 0\.\.0 of orders-0 failed \(attempt \d+\): /);
    expect(s.lastError?.message).toContain(
      `: POST http://127.0.0.1:${port} failed: refused to connect to 127.0.0.1 (a private address); set FLOE_SUBSCRIPTION_PRIVATE_TARGETS=allow to allow it`,
    );
  });

  it("delivers to it with FLOE_SUBSCRIPTION_PRIVATE_TARGETS=allow", async () => {
    const { handler, status } = await setUp({ FLOE_SUBSCRIPTION_PRIVATE_TARGETS: "allow" });
    const report = await handler(scheduledEvent(), lambdaContext(RUN_MS));
    expect(report).toMatchObject({ delivered: 1, pendingPartitions: 0 });
    expect(server.received).toHaveLength(1);
    expect(JSON.parse(server.received[0].body.toString())).toMatchObject({
      subscription: "orders-hook",
      records: [{ value: "order-1" }],
    });
    const { status: s } = await status();
    expect(s).toMatchObject({ delivered: 1, lag: 0, lastError: null });
  });

  it("fails its setup on any other value, naming the setting", async () => {
    const { handler } = await setUp({ FLOE_SUBSCRIPTION_PRIVATE_TARGETS: "sometimes" });
    await expect(handler(scheduledEvent(), lambdaContext(RUN_MS))).rejects.toThrow(
      'FLOE_SUBSCRIPTION_PRIVATE_TARGETS must be "allow" or "deny"; got "sometimes"',
    );
    expect(server.received).toEqual([]);
  });
});
