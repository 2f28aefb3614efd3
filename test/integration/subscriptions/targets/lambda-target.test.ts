import { LambdaClient } from "@aws-sdk/client-lambda";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { awsLambdaInvoke } from "../../../../src/subscriptions/targets/aws-lambda-invoke.js";
import {
  createLambdaTarget,
  LAMBDA_MAX_PAYLOAD_BYTES,
} from "../../../../src/subscriptions/targets/lambda-target.js";
import type { MskEvent } from "../../../../src/subscriptions/targets/msk-event.js";
import type { DeliveryBatch, DeliveryRecord, Subscription } from "../../../../src/subscriptions/types.js";
import {
  InvokeRefused,
  type LambdaInvokeServer,
  startLambdaInvokeServer,
} from "../../../support/lambda-invoke-server.js";
import { subscriptionWith } from "../../../support/subscription-fixture.js";

/**
 * The Lambda target through the real AWS SDK LambdaClient, against a server speaking Lambda's
 * Invoke API that runs the test's handlers as Lambda would.
 */

let lambda: LambdaInvokeServer;
let client: LambdaClient;

beforeAll(async () => {
  lambda = await startLambdaInvokeServer();
  client = new LambdaClient(lambda.clientConfig);
});
beforeEach(() => {
  lambda.invocations.length = 0;
});
afterAll(async () => {
  client.destroy();
  await lambda.close();
});

const utf8 = (text: string) => new Uint8Array(Buffer.from(text, "utf8"));

function subscription(functionName: string, more: Partial<Subscription> = {}): Subscription {
  return subscriptionWith({
    name: "orders-fn",
    groupId: "floe-subscription-orders-fn",
    incarnation: "3b4c0d2e-0000-4000-8000-000000000002",
    topics: ["orders-eu"],
    target: { type: "lambda", functionName, timeoutMs: 900_000 },
    ...more,
  });
}

const records: DeliveryRecord[] = [10, 11, 12].map((offset) => ({
  topic: "orders-eu",
  partition: 1,
  offset,
  timestamp: 1_700_000_000_000 + offset,
  key: utf8(`k${offset}`),
  value: offset === 11 ? null : utf8(`{"n":${offset}}`),
  headers: [{ key: "source", value: utf8("test") }],
}));

const batch = (sub: Subscription, recs = records): DeliveryBatch => ({
  subscription: sub,
  messageId: "msg_x",
  attempt: 1,
  records: recs,
});

function deliver(sub: Subscription, recs = records, signal = new AbortController().signal) {
  if (sub.target.type !== "lambda") throw new Error("a Lambda subscription");
  return createLambdaTarget(sub.target, sub, awsLambdaInvoke(client)).deliver(batch(sub, recs), signal);
}

describe("Lambda target", () => {
  it("invokes the function synchronously with the MSK-shaped event", async () => {
    const seen: MskEvent[] = [];
    lambda.register("consume-ok", (event) => {
      seen.push(event as MskEvent);
    });
    expect(await deliver(subscription("consume-ok"))).toEqual({ outcome: "success" });
    expect(lambda.invocations.map((i) => [i.functionName, i.invocationType])).toEqual([
      ["consume-ok", "RequestResponse"],
    ]);
    const [event] = seen;
    expect(event.eventSource).toBe("SelfManagedKafka");
    expect(event.floeSubscription).toBe("orders-fn");
    expect(Object.keys(event.records)).toEqual(["orders-eu-1"]);
    const got = event.records["orders-eu-1"];
    expect(got.map((r) => r.offset)).toEqual([10, 11, 12]);
    expect(Buffer.from(got[0].value ?? "", "base64").toString()).toBe('{"n":10}');
    expect(Buffer.from(got[0].key ?? "", "base64").toString()).toBe("k10");
    expect(got[1].value).toBeUndefined();
    expect(Buffer.from(got[2].headers[0].source).toString()).toBe("test");
  });

  it("takes a qualified name or an ARN as Invoke does", async () => {
    lambda.register("consume-arn", () => ({}));
    const arn = "arn:aws:lambda:us-east-1:000000000000:function:consume-arn:live";
    expect(await deliver(subscription(arn))).toEqual({ outcome: "success" });
    expect(lambda.invocations.map((i) => i.functionName)).toEqual(["consume-arn"]);
  });

  it("fails the batch on a function error, with its errorType and errorMessage", async () => {
    lambda.register("consume-throws", () => {
      throw new TypeError("cannot read the order");
    });
    expect(await deliver(subscription("consume-throws"))).toEqual({
      outcome: "error",
      reason: "consume-throws failed (Unhandled): TypeError: cannot read the order",
    });
  });

  it("reports a partial batch from the function's batchItemFailures", async () => {
    lambda.register("consume-partial", () => ({
      batchItemFailures: [{ itemIdentifier: "orders-eu-1-12" }, { itemIdentifier: "orders-eu-1-11" }],
    }));
    expect(await deliver(subscription("consume-partial"))).toMatchObject({
      outcome: "partial",
      firstFailedOffset: 11,
    });
    // Lambda's form only: a bare offset names nothing, so the whole batch is retried.
    lambda.register("consume-bare", () => ({ batchItemFailures: [{ itemIdentifier: "11" }] }));
    expect(await deliver(subscription("consume-bare"))).toMatchObject({ outcome: "error" });
    // Without ReportBatchItemFailures the response is not read, as in Lambda.
    expect(await deliver(subscription("consume-partial", { reportBatchItemFailures: false }))).toEqual({
      outcome: "success",
    });
  });

  it("fails, naming the cause, when the function does not exist", async () => {
    const result = await deliver(subscription("never-registered"));
    expect(result.outcome).toBe("error");
    expect(result.outcome === "error" && result.reason).toMatch(
      /^invoking never-registered failed: ResourceNotFoundException: Function not found/,
    );
  });

  it("invokes once per delivery attempt: a throttled invocation is not retried by the SDK behind the dispatcher's count", async () => {
    lambda.register("consume-throttled", () => {
      throw new InvokeRefused(429, "TooManyRequestsException", "Rate exceeded");
    });
    const { maxAttempts: _oneForTheOtherTests, ...sdkDefaults } = lambda.clientConfig;
    const sub = subscription("consume-throttled");
    if (sub.target.type !== "lambda") throw new Error("a Lambda subscription");
    const result = await createLambdaTarget(sub.target, sub, awsLambdaInvoke(sdkDefaults)).deliver(
      batch(sub),
      new AbortController().signal,
    );
    expect(result.outcome).toBe("error");
    expect(result.outcome === "error" && result.reason).toMatch(/TooManyRequestsException/);
    expect(lambda.invocations.filter((i) => i.functionName === "consume-throttled")).toHaveLength(1);
  });

  it("fails when the invocation outlasts timeoutMs", async () => {
    lambda.register("consume-slow", () => new Promise((resolve) => setTimeout(resolve, 10_000)));
    const sub = subscription("consume-slow");
    if (sub.target.type === "lambda") sub.target.timeoutMs = 200;
    expect(await deliver(sub)).toEqual({
      outcome: "error",
      reason: "invoking consume-slow timed out after 200 ms",
    });
  });

  it("does not send an event over Lambda's 6 MB synchronous payload limit", async () => {
    lambda.register("consume-big", () => ({}));
    const big = new Uint8Array(1024 * 1024);
    const recs: DeliveryRecord[] = Array.from({ length: 5 }, (_, i) => ({
      ...records[0],
      offset: i,
      value: big,
    }));
    const result = await deliver(subscription("consume-big"), recs);
    expect(result.outcome).toBe("error");
    expect(result.outcome === "error" && result.reason).toMatch(
      new RegExp(
        `^the event for 5 record\\(s\\) is \\d+ bytes, over Lambda's ${LAMBDA_MAX_PAYLOAD_BYTES}-byte limit`,
      ),
    );
    expect(lambda.invocations).toHaveLength(0);
    // Four such records fit, and are sent.
    expect(await deliver(subscription("consume-big"), recs.slice(0, 4))).toEqual({ outcome: "success" });
  });
});
