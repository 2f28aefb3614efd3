import { describe, expect, it } from "vitest";
import { OptionReader, parseArgs } from "../../../src/cli/args.js";
import {
  formatList,
  formatSettings,
  formatStatus,
  subscriptionInput,
  subscriptionName,
  subscriptionsCommands,
} from "../../../src/cli/subscriptions-command.js";
import type { SubscriptionDescription } from "../../../src/client/admin.js";
import type { Subscription } from "../../../src/subscriptions/types.js";
import { runMain } from "./run-main.js";
import { subscriptionWith } from "../../support/subscription-fixture.js";

const CREATE = subscriptionsCommands.find((c) => c.path[1] === "create")!;

/** `floe subscriptions create …` as the command reads it, without a server. */
function created(...argv: string[]) {
  const options = new OptionReader(parseArgs(argv, CREATE.options));
  return { name: subscriptionName(options), input: subscriptionInput(options) };
}

const HOOK = "http://127.0.0.1:3000/hook";

describe("floe subscriptions create: arguments to the API's input", () => {
  it("sends only what was given, so the server's defaults apply to the rest", () => {
    expect(created("orders-hook", "--topic", "orders", "--http", HOOK)).toEqual({
      name: "orders-hook",
      input: { topics: ["orders"], target: { type: "http", url: HOOK } },
    });
  });

  it("the name may come after the options", () => {
    expect(created("--topic", "orders", "--http", HOOK, "orders-hook").name).toBe("orders-hook");
  });

  it("maps every setting to its Lambda-named field", () => {
    const { input } = created(
      "orders-hook",
      "--topic",
      "orders",
      "--topic",
      "payments",
      "--http",
      HOOK,
      "--timeout-ms",
      "5000",
      "--batch-size",
      "10",
      "--maximum-batching-window-ms",
      "0",
      "--starting-position",
      "trim_horizon",
      "--maximum-retry-attempts",
      "3",
      "--maximum-record-age-ms",
      "60000",
      "--bisect-batch-on-error",
      "--no-report-batch-item-failures",
      "--parallelization-factor",
      "4",
      "--on-failure-topic",
      "orders-dlq",
      "--filter",
      '{"value":{"type":["order"]}}',
      "--filter",
      '{"key":["vip"]}',
      "--secret",
      "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
      "--paused",
    );
    expect(input).toEqual({
      topics: ["orders", "payments"],
      target: { type: "http", url: HOOK, timeoutMs: 5000 },
      batchSize: 10,
      maximumBatchingWindowMs: 0,
      startingPosition: "TRIM_HORIZON",
      maximumRetryAttempts: 3,
      maximumRecordAgeMs: 60000,
      bisectBatchOnError: true,
      reportBatchItemFailures: false,
      parallelizationFactor: 4,
      onFailureTopic: "orders-dlq",
      filters: [{ value: { type: ["order"] } }, { key: ["vip"] }],
      secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
      state: "Disabled",
    });
  });

  it("takes a topic regex and a Lambda function", () => {
    expect(created("audit", "--topic-regex", "orders\\..*", "--lambda", "audit-fn:live").input).toEqual({
      topicRegex: "orders\\..*",
      target: { type: "lambda", functionName: "audit-fn:live" },
    });
  });

  it("a starting timestamp (ms or ISO-8601) implies AT_TIMESTAMP", () => {
    for (const time of ["1714564800000", "2024-05-01T12:00:00Z"]) {
      expect(
        created("a", "--topic", "t", "--http", HOOK, "--starting-position-timestamp", time).input,
      ).toMatchObject({ startingPosition: "AT_TIMESTAMP", startingPositionTimestamp: 1714564800000 });
    }
    expect(
      created(
        "a",
        "--topic",
        "t",
        "--http",
        HOOK,
        "--starting-position",
        "AT_TIMESTAMP",
        "--starting-position-timestamp",
        "1714564800000",
      ).input,
    ).toMatchObject({ startingPosition: "AT_TIMESTAMP", startingPositionTimestamp: 1714564800000 });
  });
});

describe("floe subscriptions: usage mistakes are one line and exit 2, before any request", () => {
  // No server runs here: a request would fail with NETWORK_EXCEPTION and exit 1 instead.
  const cases: [string[], string][] = [
    [["create", "--topic", "t", "--http", HOOK], "give the subscription's name"],
    [["create", "a", "b", "--topic", "t", "--http", HOOK], 'unexpected argument "b"'],
    [["create", "a", "--http", HOOK], "--topic or --topic-regex is required"],
    [
      ["create", "a", "--topic", "t", "--topic-regex", "t.*", "--http", HOOK],
      "give --topic or --topic-regex, not both",
    ],
    [
      ["create", "a", "--topic", "t"],
      "--http <url> or --lambda <function> is required (--url is the Floe server's address)",
    ],
    [["create", "a", "--topic", "t", "--http", HOOK, "--lambda", "f"], "give --http or --lambda, not both"],
    [
      ["create", "a", "--topic", "t", "--http", HOOK, "--starting-position", "EARLIEST"],
      '--starting-position must be one of LATEST, TRIM_HORIZON, AT_TIMESTAMP, got "EARLIEST"',
    ],
    [
      ["create", "a", "--topic", "t", "--http", HOOK, "--starting-position", "AT_TIMESTAMP"],
      "--starting-position AT_TIMESTAMP needs --starting-position-timestamp",
    ],
    [
      [
        "create",
        "a",
        "--topic",
        "t",
        "--http",
        HOOK,
        "--starting-position",
        "LATEST",
        "--starting-position-timestamp",
        "5",
      ],
      "--starting-position-timestamp goes with AT_TIMESTAMP, not LATEST",
    ],
    [
      ["create", "a", "--topic", "t", "--http", HOOK, "--starting-position-timestamp", "yesterday"],
      '--starting-position-timestamp must be ms since the epoch or an ISO-8601 time such as 2024-05-01T12:00:00Z, got "yesterday"',
    ],
    [
      ["create", "a", "--topic", "t", "--http", HOOK, "--batch-size", "0"],
      '--batch-size must be an integer >= 1, got "0"',
    ],
    [
      ["create", "a", "--topic", "t", "--http", HOOK, "--maximum-retry-attempts", "-2"],
      '--maximum-retry-attempts must be an integer >= -1, got "-2"',
    ],
    [
      ["create", "a", "--topic", "t", "--http", HOOK, "--filter", '["x"]'],
      `--filter must be a JSON object such as '{"value":{"type":["order"]}}', got ["x"]`,
    ],
    [
      ["create", "a", "--topic", "t", "--lambda", "f", "--secret", "whsec_x"],
      "--secret signs HTTP deliveries; a Lambda target is invoked, not signed",
    ],
    [["describe"], "give the subscription's name"],
    [["pause"], "give the subscription's name"],
    [["resume", "a", "b"], 'unexpected argument "b"'],
    [["delete"], "give the subscription's name"],
    [["list", "extra"], 'unexpected argument "extra"'],
  ];

  it.each(cases)("floe subscriptions %j", async (argv, message) => {
    const result = await runMain("subscriptions", ...argv, "--url", "http://127.0.0.1:1");
    const command = `floe subscriptions ${argv[0]}`;
    expect(result.stderr).toBe(`${command}: ${message} (see: ${command} --help)\n`);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
  });

  it("a filter that is not JSON is refused with the parser's reason", async () => {
    const result = await runMain(
      "subscriptions",
      "create",
      "a",
      "--topic",
      "t",
      "--http",
      HOOK,
      "--filter",
      "{value",
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /^floe subscriptions create: --filter must be a JSON object such as .*: .*JSON/,
    );
  });

  it("`floe subscriptions` lists its commands on stderr with exit 2", async () => {
    const result = await runMain("subscriptions");
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^Usage: floe subscriptions <command>/);
    for (const word of ["create", "list", "describe", "pause", "resume", "delete"])
      expect(result.stderr).toContain(`subscriptions ${word}`);
  });

  it("a server error is one line with Kafka's code and exit 1", async () => {
    const result = await runMain("subscriptions", "describe", "a", "--url", "http://127.0.0.1:1");
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^floe subscriptions describe: NETWORK_EXCEPTION: .*\n$/);
  });
});

const SUBSCRIPTION: Subscription = subscriptionWith({
  name: "orders-hook",
  groupId: "floe-subscription-orders-hook",
  topics: ["orders", "payments"],
  target: { type: "http", url: HOOK, timeoutMs: 30000 },
  secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
  incarnation: "5f0b8c4e-0000-4000-8000-000000000000",
  createdAt: 1714564800000,
  updatedAt: 1714564800000,
});

/** The rows of a table, split on its column gaps. */
function rows(text: string): string[][] {
  return text
    .split("\n")
    .filter((line) => /\S/.test(line))
    .map((line) => line.trim().split(/\s{2,}/));
}

describe("floe subscriptions: output", () => {
  it("list: one row per subscription, by name; a regex between slashes, a Lambda target as lambda:", () => {
    const audit: Subscription = {
      ...SUBSCRIPTION,
      name: "audit",
      state: "Disabled",
      groupId: "floe-subscription-audit",
      topics: null,
      topicRegex: "orders\\..*",
      target: { type: "lambda", functionName: "audit-fn", timeoutMs: 900000 },
      secret: null,
    };
    expect(rows(formatList([SUBSCRIPTION, audit]))).toEqual([
      ["NAME", "STATE", "TOPICS", "TARGET", "GROUP"],
      ["audit", "Disabled", "/orders\\..*/", "lambda:audit-fn", "floe-subscription-audit"],
      ["orders-hook", "Enabled", "orders,payments", HOOK, "floe-subscription-orders-hook"],
    ]);
  });

  it("settings: named as the API names them, unlimited values explained", () => {
    const fields = new Map(rows(formatSettings(SUBSCRIPTION)).map(([k, ...v]) => [k, v.join(" ")]));
    expect(fields.get("topics")).toBe("orders,payments");
    expect(fields.get("target")).toBe(`http ${HOOK}`);
    expect(fields.get("maximumRetryAttempts")).toBe("-1 (until it succeeds)");
    expect(fields.get("onFailureTopic")).toBe("-");
    // create prints the secret once, with what it is for; describe lists it with the settings.
    expect(fields.has("secret")).toBe(false);
    const described = new Map(
      rows(formatSettings(SUBSCRIPTION, { secret: true })).map(([k, ...v]) => [k, v.join(" ")]),
    );
    expect(described.get("secret")).toBe(SUBSCRIPTION.secret);
    const lambda: Subscription = {
      ...SUBSCRIPTION,
      target: { type: "lambda", functionName: "f", timeoutMs: 900000 },
      secret: null,
    };
    expect(rows(formatSettings(lambda, { secret: true })).some(([k]) => k === "secret")).toBe(false);
  });

  it("status: totals, the last error with where and when, and the partitions in order", () => {
    const described: SubscriptionDescription = {
      ...SUBSCRIPTION,
      status: {
        delivered: 120,
        failed: 2,
        retried: 5,
        filtered: 7,
        lag: 30,
        oldestUndeliveredAgeMs: 1500,
        lastError: {
          message: "HTTP 503\nService Unavailable",
          at: 1714564790000,
          topic: "orders",
          partition: 1,
        },
        partitions: [stats("orders", 1, 90, 100, 60, 2), stats("orders", 0, null, 20, 60, 0)],
      },
    };
    const text = formatStatus(described, 1714564800000);
    const all = rows(text);
    const totals = new Map(all.slice(0, 7).map(([k, ...v]) => [k, v.join(" ")]));
    expect(Object.fromEntries(totals)).toEqual({
      delivered: "120",
      failed: "2",
      retried: "5",
      filtered: "7",
      lag: "30",
      oldestUndeliveredAgeMs: "1500",
      lastError: "orders-1 2024-05-01T11:59:50.000Z (10s ago): HTTP 503 Service Unavailable",
    });
    expect(all.slice(7)).toEqual([
      ["TOPIC", "PARTITION", "COMMITTED", "HIGH-WATERMARK", "LAG", "DELIVERED", "FAILED"],
      ["orders", "0", "-", "20", "20", "60", "0"],
      ["orders", "1", "90", "100", "10", "60", "2"],
    ]);
  });
});

function stats(
  topic: string,
  partition: number,
  committedOffset: number | null,
  highWatermark: number,
  delivered: number,
  failed: number,
) {
  return {
    topic,
    partition,
    delivered,
    failed,
    retried: 0,
    filtered: 0,
    oldestUndeliveredTimestamp: null,
    lastError: null,
    updatedAt: 0,
    committedOffset,
    highWatermark,
    lag: highWatermark - (committedOffset ?? 0),
  };
}
