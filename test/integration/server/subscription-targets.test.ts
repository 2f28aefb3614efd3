/**
 * floe dev's dispatcher delivering to a Lambda target (issue 14): the server's target factory
 * (src/server/subscription-targets.ts) makes the real LambdaClient on first use, pointed by its
 * environment at a real HTTP server speaking Lambda's Invoke API.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DevServer, startDevServer } from "../../../src/server/dev-server.js";
import { subscriptionTargets } from "../../../src/server/subscription-targets.js";
import type { MskEvent } from "../../../src/subscriptions/targets/msk-event.js";
import { type LambdaInvokeServer, startLambdaInvokeServer } from "../../support/lambda-invoke-server.js";

const json = { "content-type": "application/json" };

async function call(url: string, method: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url, {
    method,
    headers: json,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/** Waits for `done`, checking every 50 ms, for at most `boundMs` (a bound on a hang, not a timing check). */
async function eventually(done: () => boolean, boundMs = 30_000): Promise<void> {
  const until = Date.now() + boundMs;
  while (!done()) {
    if (Date.now() > until) throw new Error("gave up waiting");
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("floe dev delivers subscriptions to Lambda functions", () => {
  let lambda: LambdaInvokeServer;
  let server: DevServer;
  const lines: string[] = [];
  const received: number[] = [];

  beforeAll(async () => {
    lambda = await startLambdaInvokeServer();
    lambda.register("audit-consumer", (event) => {
      for (const records of Object.values((event as MskEvent).records)) {
        for (const r of records)
          received.push(JSON.parse(Buffer.from(r.value!, "base64").toString()) as number);
      }
      return { batchItemFailures: [] };
    });
    server = await startDevServer({
      port: 0,
      storage: "memory",
      maintenanceIntervalMs: 0,
      subscriptionTargets: subscriptionTargets({
        env: {
          AWS_REGION: "us-east-1",
          AWS_ENDPOINT_URL_LAMBDA: lambda.endpoint,
          AWS_ACCESS_KEY_ID: "test",
          AWS_SECRET_ACCESS_KEY: "test",
        },
      }),
      log: (l) => lines.push(l),
    });
  });

  afterAll(async () => {
    await server?.close();
    await lambda?.close();
  });

  it("says in its banner that the dispatcher runs", () => {
    expect(lines.join("\n")).toMatch(/subscriptions: dispatcher running/);
  });

  it("invokes the function with every record produced after the subscription, in order", async () => {
    expect((await call(`${server.url}/v1/topics`, "POST", { name: "audit", partitions: 1 })).status).toBe(
      201,
    );
    const created = await call(`${server.url}/v1/subscriptions`, "POST", {
      name: "audit-to-lambda",
      topics: ["audit"],
      target: { type: "lambda", functionName: "audit-consumer" },
      batchSize: 7,
      maximumBatchingWindowMs: 0,
    });
    expect(created.status).toBe(201);
    const records = Array.from({ length: 40 }, (_, i) => ({ value: i }));
    expect((await call(`${server.url}/v1/topics/audit/records`, "POST", { records })).status).toBe(200);
    await eventually(() => received.length >= 40);
    expect(received).toEqual(Array.from({ length: 40 }, (_, i) => i));
    expect(lambda.invocations.every((i) => i.functionName === "audit-consumer")).toBe(true);
  });

  it("stops delivering once closed, and closes cleanly", async () => {
    await server.close();
    const invoked = lambda.invocations.length;
    await expect(fetch(`${server.url}/v1/health`)).rejects.toThrow();
    expect(lambda.invocations.length).toBe(invoked);
  });
});

describe("floe dev with subscriptions off", () => {
  it("runs no dispatcher and says so", async () => {
    const lines: string[] = [];
    const server = await startDevServer({
      port: 0,
      storage: "memory",
      maintenanceIntervalMs: 0,
      subscriptions: false,
      log: (l) => lines.push(l),
    });
    try {
      expect(lines.join("\n")).toMatch(/subscriptions: off/);
    } finally {
      await server.close();
    }
  });
});
