import { describe, expect, it } from "vitest";
import { FloeError } from "../../../src/errors.js";
import {
  applyChange,
  MAX_SUBSCRIPTION_NAME_LENGTH,
  settingsFromInput,
  subscriptionGroupId,
  validateSecret,
  validateSubscriptionName,
} from "../../../src/subscriptions/subscription-settings.js";
import type { SubscriptionInput } from "../../../src/subscriptions/types.js";

const http = { type: "http" as const, url: "https://example.com/hook" };

function refusal(fn: () => unknown): FloeError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(FloeError);
    return e as FloeError;
  }
  throw new Error("expected a refusal");
}

function refused(input: Partial<SubscriptionInput>, field: string, code = "INVALID_CONFIG"): void {
  const e = refusal(() =>
    settingsFromInput({ topics: ["orders"], target: http, ...input } as SubscriptionInput),
  );
  expect(e.code).toBe(code);
  expect(e.message).toContain(field);
}

describe("subscription settings", () => {
  it("fills in Lambda's defaults (and the documented exceptions)", () => {
    expect(settingsFromInput({ topics: ["orders"], target: http })).toEqual({
      topics: ["orders"],
      topicRegex: null,
      target: { type: "http", url: "https://example.com/hook", timeoutMs: 30_000 },
      batchSize: 100,
      maximumBatchingWindowMs: 500,
      startingPosition: "LATEST",
      startingPositionTimestamp: null,
      maximumRetryAttempts: -1,
      maximumRecordAgeMs: -1,
      bisectBatchOnError: false,
      reportBatchItemFailures: true,
      parallelizationFactor: 1,
      onFailureTopic: null,
      filters: [],
    });
    const lambda = settingsFromInput({
      topicRegex: "orders-.*",
      target: { type: "lambda", functionName: "f" },
    });
    expect(lambda.target).toEqual({ type: "lambda", functionName: "f", timeoutMs: 900_000 });
    expect(lambda.topics).toBeNull();
  });

  it("takes exactly one of topics and topicRegex", () => {
    refused({ topics: undefined }, "topics and topicRegex");
    refused({ topicRegex: "x" }, "topics and topicRegex");
    refused({ topics: [] }, "topics");
    refused({ topics: Array.from({ length: 1001 }, (_, i) => `t${i}`) }, "topics");
    refused({ topics: ["ok", "bad name"] }, "topics[1]");
    refused({ topics: [".."] }, "topics[0]");
    refused({ topics: null, topicRegex: "(" }, "(", "INVALID_REGULAR_EXPRESSION");
  });

  it("checks every range at both ends", () => {
    for (const [field, bad, good] of [
      ["batchSize", [0, 10_001, 1.5], [1, 10_000]],
      ["maximumBatchingWindowMs", [-1, 300_001], [0, 300_000]],
      ["parallelizationFactor", [0, 11], [1, 10]],
    ] as const) {
      for (const v of bad) refused({ [field]: v }, field);
      for (const v of good)
        expect(settingsFromInput({ topics: ["t"], target: http, [field]: v })[field]).toBe(v);
    }
    refused({ maximumRetryAttempts: -2, onFailureTopic: "dlq" }, "maximumRetryAttempts");
    refused({ maximumRetryAttempts: 10_001, onFailureTopic: "dlq" }, "maximumRetryAttempts");
    refused({ maximumRecordAgeMs: 999, onFailureTopic: "dlq" }, "maximumRecordAgeMs");
    refused({ maximumRecordAgeMs: 604_800_001, onFailureTopic: "dlq" }, "maximumRecordAgeMs");
    refused({ maximumRecordAgeMs: 0, onFailureTopic: "dlq" }, "maximumRecordAgeMs");
    refused({ target: { ...http, timeoutMs: 0 } }, "target.timeoutMs");
    refused({ target: { ...http, timeoutMs: 900_001 } }, "target.timeoutMs");
    refused({ bisectBatchOnError: "yes" as unknown as boolean }, "bisectBatchOnError");
  });

  it("never drops a record silently: finite retries or age need a failure topic", () => {
    refused({ maximumRetryAttempts: 3 }, "onFailureTopic");
    refused({ maximumRecordAgeMs: 60_000 }, "onFailureTopic");
    const s = settingsFromInput({
      topics: ["t"],
      target: http,
      maximumRetryAttempts: 0,
      onFailureTopic: "dlq",
    });
    expect(s.maximumRetryAttempts).toBe(0);
  });

  it("refuses a failure topic the subscription itself reads (a delivery loop)", () => {
    refused({ topics: ["orders", "dlq"], onFailureTopic: "dlq" }, "onFailureTopic");
    refused({ topics: null, topicRegex: "orders.*", onFailureTopic: "orders-dlq" }, "onFailureTopic");
    refused({ onFailureTopic: "bad name" }, "onFailureTopic");
    // The regex matches whole names, as Kafka's: "orders" does not take "orders-dlq".
    const s = settingsFromInput({ topicRegex: "orders", target: http, onFailureTopic: "orders-dlq" });
    expect(s.onFailureTopic).toBe("orders-dlq");
  });

  it("ties startingPositionTimestamp to AT_TIMESTAMP", () => {
    refused({ startingPosition: "AT_TIMESTAMP" }, "startingPositionTimestamp");
    refused({ startingPosition: "AT_TIMESTAMP", startingPositionTimestamp: -1 }, "startingPositionTimestamp");
    refused({ startingPositionTimestamp: 5 }, "startingPositionTimestamp");
    refused({ startingPosition: "EARLIEST" as "LATEST" }, "startingPosition");
    const s = settingsFromInput({
      topics: ["t"],
      target: http,
      startingPosition: "AT_TIMESTAMP",
      startingPositionTimestamp: 0,
    });
    expect(s.startingPositionTimestamp).toBe(0);
  });

  it("checks targets", () => {
    refused({ target: { type: "http", url: "ftp://example.com/" } }, "target.url");
    refused({ target: { type: "http", url: "not a url" } }, "target.url");
    refused({ target: { type: "http", url: `https://example.com/${"a".repeat(2048)}` } }, "target.url");
    refused({ target: { type: "sqs" } as unknown as typeof http }, "target.type");
    refused({ target: { type: "lambda", functionName: "" } }, "target.functionName");
    refused({ target: { type: "lambda", functionName: "has space" } }, "target.functionName");
    refused({ target: { type: "lambda", functionName: "f".repeat(171) } }, "target.functionName");
    for (const functionName of [
      "my-function",
      "my-function:prod",
      "my-function:$LATEST",
      "123456789012:function:my-function",
      "arn:aws:lambda:us-west-2:123456789012:function:my-function",
      "arn:aws:lambda:us-west-2:123456789012:function:my-function:7",
      "arn:aws-us-gov:lambda:us-gov-west-1:123456789012:function:f",
    ]) {
      expect(
        settingsFromInput({ topics: ["t"], target: { type: "lambda", functionName } }).target,
      ).toMatchObject({
        functionName,
      });
    }
  });

  it("checks filters by compiling them", () => {
    refused({ filters: Array.from({ length: 11 }, () => ({ key: ["a"] })) }, "filters");
    refused({ filters: [null as unknown as Record<string, unknown>] }, "filters[0]");
    expect(settingsFromInput({ topics: ["t"], target: http, filters: [] }).filters).toEqual([]);
  });

  it("names follow Kafka's topic rules, short enough for the group id", () => {
    for (const bad of ["", ".", "..", "a b", "a#b", "x".repeat(MAX_SUBSCRIPTION_NAME_LENGTH + 1)]) {
      expect(refusal(() => validateSubscriptionName(bad)).code).toBe("INVALID_CONFIG");
    }
    const longest = "x".repeat(MAX_SUBSCRIPTION_NAME_LENGTH);
    validateSubscriptionName(longest);
    expect(subscriptionGroupId(longest)).toHaveLength(249);
  });

  it("secrets are whsec_ and canonical base64 of 24..64 bytes", () => {
    const b64 = (n: number) => Buffer.alloc(n, 7).toString("base64");
    validateSecret(`whsec_${b64(24)}`);
    validateSecret(`whsec_${b64(64)}`);
    for (const bad of [b64(32), `whsec_${b64(23)}`, `whsec_${b64(65)}`, "whsec_!!!!", `whsec_${b64(32)}x`]) {
      expect(refusal(() => validateSecret(bad)).code).toBe("INVALID_CONFIG");
    }
  });

  describe("changes", () => {
    const base = settingsFromInput({ topics: ["orders"], target: http });

    it("switch between topics and topicRegex with one field", () => {
      expect(applyChange(base, { topicRegex: "orders-.*" })).toMatchObject({
        topics: null,
        topicRegex: "orders-.*",
      });
      const regex = applyChange(base, { topicRegex: "orders-.*" });
      expect(applyChange(regex, { topics: ["a"] })).toMatchObject({ topics: ["a"], topicRegex: null });
      expect(refusal(() => applyChange(base, { topics: ["a"], topicRegex: "b" })).code).toBe(
        "INVALID_CONFIG",
      );
    });

    it("refuse the starting position, which only applies at creation", () => {
      const change = { startingPosition: "TRIM_HORIZON" } as never;
      expect(refusal(() => applyChange(base, change)).message).toContain("startingPosition");
    });

    it("keep the rules: a finite retry count still needs a failure topic", () => {
      expect(refusal(() => applyChange(base, { maximumRetryAttempts: 2 })).message).toContain(
        "onFailureTopic",
      );
      const withDlq = applyChange(base, { maximumRetryAttempts: 2, onFailureTopic: "dlq" });
      expect(refusal(() => applyChange(withDlq, { onFailureTopic: null })).message).toContain(
        "onFailureTopic",
      );
      expect(refusal(() => applyChange(withDlq, { topics: ["dlq"] })).message).toContain("onFailureTopic");
    });

    it("default a new target's timeout", () => {
      expect(applyChange(base, { target: { type: "lambda", functionName: "f" } }).target.timeoutMs).toBe(
        900_000,
      );
    });
  });
});

describe("the secret's shape", () => {
  it("is exactly the canonical base64 of 24..64 bytes (checked against Buffer's encoding)", () => {
    const accepted = (secret: string) => {
      try {
        validateSecret(secret);
        return true;
      } catch {
        return false;
      }
    };
    for (let n = 0; n <= 70; n++) {
      const bytes = Buffer.alloc(n, 0).map((_, i) => (i * 37 + n) & 0xff);
      const encoded = Buffer.from(bytes).toString("base64");
      expect(accepted(`whsec_${encoded}`), `${n} bytes`).toBe(n >= 24 && n <= 64);
      // The same bytes with padding dropped, or with unused bits set, are not canonical base64.
      if (encoded.endsWith("=")) {
        expect(accepted(`whsec_${encoded.replace(/=+$/, "")}`)).toBe(false);
        const i = encoded.indexOf("=") - 1;
        const last = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        const bumped = last[(last.indexOf(encoded[i]) + 1) % 64];
        expect(accepted(`whsec_${encoded.slice(0, i)}${bumped}${encoded.slice(i + 1)}`)).toBe(false);
      }
    }
  });
});
