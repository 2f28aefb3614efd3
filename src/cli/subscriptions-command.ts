import { type OptionReader, UsageError } from "./args.js";
import type { Command, CommandContext } from "./command.js";
import { KAFKA_ADMIN_OPTIONS } from "./topics-commands.js";
import type { SubscriptionDescription } from "../client/admin.js";
import type {
  FilterPattern,
  StartingPosition,
  Subscription,
  SubscriptionInput,
  TargetInput,
} from "../subscriptions/types.js";
import { formatTable } from "./format-table.js";

/** Admin calls fail fast: a person at a prompt is better served by an error in a second than by retries. */
const ADMIN_RETRY = { retries: 2 };

const STARTING_POSITIONS: readonly StartingPosition[] = ["LATEST", "TRIM_HORIZON", "AT_TIMESTAMP"];

function write(context: CommandContext, text: string): void {
  context.io.stdout.write(text);
}

/** `name  value` lines, the values aligned: a subscription's settings and its status totals. */
function formatFields(fields: [string, string | number][]): string {
  const width = Math.max(...fields.map(([name]) => name.length)) + 2;
  return `${fields.map(([name, value]) => `${name.padEnd(width)}${value}`.trimEnd()).join("\n")}\n`;
}

/** The subscription's one name, the command's only positional argument. */
export function subscriptionName(options: OptionReader): string {
  const [name, extra] = options.positionals();
  if (name === undefined || name === "") throw new UsageError("give the subscription's name");
  if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}"`);
  return name;
}

const CREATE_OPTIONS = {
  topic: {
    kind: "value",
    valueName: "name",
    repeatable: true,
    description: "a topic to deliver (repeatable)",
  },
  "topic-regex": {
    kind: "value",
    valueName: "re",
    description: "deliver every topic whose whole name matches this RE2 pattern, now or later",
  },
  http: {
    kind: "value",
    valueName: "url",
    description: "POST each batch to this http:// or https:// endpoint, signed per Standard Webhooks",
  },
  lambda: {
    kind: "value",
    valueName: "function",
    description: "invoke this Lambda function (name, name:qualifier or ARN) with an MSK-shaped event",
  },
  "batch-size": { kind: "value", valueName: "n", description: "most records per delivery (default 100)" },
  "maximum-batching-window-ms": {
    kind: "value",
    valueName: "ms",
    description: "how long to gather a batch before delivering it (default 500)",
  },
  "starting-position": {
    kind: "value",
    valueName: "position",
    description:
      "LATEST (default: what is appended from now on), TRIM_HORIZON (everything kept) or AT_TIMESTAMP",
  },
  "starting-position-timestamp": {
    kind: "value",
    valueName: "time",
    description: "with AT_TIMESTAMP (implied): ms since the epoch or ISO-8601",
  },
  "maximum-retry-attempts": {
    kind: "value",
    valueName: "n",
    description: "retries after the first attempt (default -1: until it succeeds; needs --on-failure-topic)",
  },
  "maximum-record-age-ms": {
    kind: "value",
    valueName: "ms",
    description: "give up on older records (default -1: no limit; needs --on-failure-topic)",
  },
  "bisect-batch-on-error": {
    kind: "flag",
    description: "split a failing batch in two and retry the halves",
  },
  "no-report-batch-item-failures": {
    kind: "flag",
    description: "ignore batchItemFailures in the target's answer: a failure fails the whole batch",
  },
  "parallelization-factor": {
    kind: "value",
    valueName: "n",
    description: "concurrent batches per partition, order kept per key (default 1)",
  },
  "on-failure-topic": {
    kind: "value",
    valueName: "topic",
    description: "where records go, with headers saying why, once their retries or age run out",
  },
  filter: {
    kind: "value",
    valueName: "json",
    repeatable: true,
    description: "deliver only records matching this pattern over key, headers, value (repeatable: any)",
  },
  "timeout-ms": {
    kind: "value",
    valueName: "ms",
    description: "how long one delivery may take (default 30000 for HTTP, 900000 for Lambda)",
  },
  secret: {
    kind: "value",
    valueName: "whsec_…",
    description: "the Standard Webhooks secret to sign with (default: a new random one)",
  },
  paused: { kind: "flag", description: "create it paused (resume it to start delivering)" },
} as const;

/**
 * What `floe subscriptions create` sends: only what was given, so the server's defaults (Lambda's,
 * documented in src/subscriptions/types.ts) apply to the rest. Usage mistakes are caught here;
 * ranges and the settings' combinations are the server's to check (INVALID_CONFIG).
 */
export function subscriptionInput(options: OptionReader): SubscriptionInput {
  const topics = options.list("topic");
  const topicRegex = options.string("topic-regex");
  if (topics.length > 0 && topicRegex !== undefined)
    throw new UsageError("give --topic or --topic-regex, not both");
  if (topics.length === 0 && topicRegex === undefined)
    throw new UsageError("--topic or --topic-regex is required");

  const http = options.string("http");
  const lambda = options.string("lambda");
  if (http !== undefined && lambda !== undefined) throw new UsageError("give --http or --lambda, not both");
  if (http === undefined && lambda === undefined)
    throw new UsageError(
      "--http <url> or --lambda <function> is required (--url is the Floe server's address)",
    );
  const timeoutMs = options.integer("timeout-ms", 1);
  const target: TargetInput =
    http !== undefined
      ? { type: "http", url: http, ...(timeoutMs !== undefined ? { timeoutMs } : {}) }
      : { type: "lambda", functionName: lambda ?? "", ...(timeoutMs !== undefined ? { timeoutMs } : {}) };
  const secret = options.string("secret");
  if (secret !== undefined && lambda !== undefined)
    throw new UsageError("--secret signs HTTP deliveries; a Lambda target is invoked, not signed");

  const input: SubscriptionInput = {
    ...(topicRegex !== undefined ? { topicRegex } : { topics }),
    target,
    ...startingPosition(options),
  };
  const integers = [
    ["batch-size", "batchSize", 1],
    ["maximum-batching-window-ms", "maximumBatchingWindowMs", 0],
    ["maximum-retry-attempts", "maximumRetryAttempts", -1],
    ["maximum-record-age-ms", "maximumRecordAgeMs", -1],
    ["parallelization-factor", "parallelizationFactor", 1],
  ] as const;
  for (const [option, field, min] of integers) {
    const value = options.integer(option, min);
    if (value !== undefined) input[field] = value;
  }
  if (options.flag("bisect-batch-on-error")) input.bisectBatchOnError = true;
  if (options.flag("no-report-batch-item-failures")) input.reportBatchItemFailures = false;
  const onFailureTopic = options.string("on-failure-topic");
  if (onFailureTopic !== undefined) input.onFailureTopic = onFailureTopic;
  const filters = options.list("filter").map(filterPattern);
  if (filters.length > 0) input.filters = filters;
  if (secret !== undefined) input.secret = secret;
  if (options.flag("paused")) input.state = "Disabled";
  return input;
}

function startingPosition(
  options: OptionReader,
): Pick<SubscriptionInput, "startingPosition" | "startingPositionTimestamp"> {
  const given = options.string("starting-position");
  const position = given?.toUpperCase() as StartingPosition | undefined;
  if (position !== undefined && !STARTING_POSITIONS.includes(position)) {
    throw new UsageError(
      `--starting-position must be one of ${STARTING_POSITIONS.join(", ")}, got "${given}"`,
    );
  }
  const time = options.string("starting-position-timestamp");
  if (time === undefined) {
    if (position === "AT_TIMESTAMP")
      throw new UsageError("--starting-position AT_TIMESTAMP needs --starting-position-timestamp");
    return position !== undefined ? { startingPosition: position } : {};
  }
  if (position !== undefined && position !== "AT_TIMESTAMP")
    throw new UsageError(`--starting-position-timestamp goes with AT_TIMESTAMP, not ${position}`);
  const ms = /^\d+$/.test(time) ? Number(time) : Date.parse(time);
  if (!Number.isSafeInteger(ms) || ms < 0) {
    throw new UsageError(
      `--starting-position-timestamp must be ms since the epoch or an ISO-8601 time such as 2024-05-01T12:00:00Z, got "${time}"`,
    );
  }
  return { startingPosition: "AT_TIMESTAMP", startingPositionTimestamp: ms };
}

/** One --filter: a JSON object, as Lambda's FilterCriteria pattern is; its grammar is the server's to check. */
function filterPattern(text: string): FilterPattern {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new UsageError(
      `--filter must be a JSON object such as '{"value":{"type":["order"]}}': ${(error as Error).message}`,
    );
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed))
    throw new UsageError(
      `--filter must be a JSON object such as '{"value":{"type":["order"]}}', got ${text}`,
    );
  return parsed as FilterPattern;
}

/** Where the records go, in one cell: the endpoint, or `lambda:` and the function. */
export function targetLabel(subscription: Subscription): string {
  const { target } = subscription;
  return target.type === "http" ? target.url : `lambda:${target.functionName}`;
}

function topicsLabel(subscription: Subscription): string {
  return subscription.topicRegex !== null && subscription.topicRegex !== undefined
    ? `/${subscription.topicRegex}/`
    : (subscription.topics ?? []).join(",");
}

const UNLIMITED = (value: number, meaning: string) => (value === -1 ? `-1 (${meaning})` : value);

/**
 * The settings, named as the API names them (what PATCH and --json use). With `secret`, the HTTP
 * target's signing secret too: describe is where a subscription made elsewhere (the CDK construct,
 * whose template never holds it) has its secret read.
 */
export function formatSettings(s: Subscription, options: { secret?: boolean } = {}): string {
  const fields: [string, string | number][] = [
    ["name", s.name],
    ["state", s.state],
    ["groupId", s.groupId],
    s.topicRegex !== null && s.topicRegex !== undefined
      ? ["topicRegex", s.topicRegex]
      : ["topics", (s.topics ?? []).join(",")],
    ["target", s.target.type === "http" ? `http ${s.target.url}` : `lambda ${s.target.functionName}`],
    ["timeoutMs", s.target.timeoutMs],
    ["batchSize", s.batchSize],
    ["maximumBatchingWindowMs", s.maximumBatchingWindowMs],
    [
      "startingPosition",
      s.startingPositionTimestamp !== null && s.startingPositionTimestamp !== undefined
        ? `${s.startingPosition} ${new Date(s.startingPositionTimestamp).toISOString()}`
        : s.startingPosition,
    ],
    ["maximumRetryAttempts", UNLIMITED(s.maximumRetryAttempts, "until it succeeds")],
    ["maximumRecordAgeMs", UNLIMITED(s.maximumRecordAgeMs, "no limit")],
    ["bisectBatchOnError", String(s.bisectBatchOnError)],
    ["reportBatchItemFailures", String(s.reportBatchItemFailures)],
    ["parallelizationFactor", s.parallelizationFactor],
    ["onFailureTopic", s.onFailureTopic ?? "-"],
    ["filters", s.filters.length === 0 ? "-" : s.filters.map((f) => JSON.stringify(f)).join(" ")],
    ["version", s.version],
  ];
  if (options.secret && s.secret) fields.push(["secret", s.secret]);
  return formatFields(fields);
}

/** The status GET adds: totals, then kafka-consumer-groups-style rows per partition. */
export function formatStatus(d: SubscriptionDescription, now = Date.now()): string {
  const { status } = d;
  const error = status.lastError;
  const totals = formatFields([
    ["delivered", status.delivered],
    ["failed", status.failed],
    ["retried", status.retried],
    ["filtered", status.filtered],
    ["lag", status.lag],
    [
      "oldestUndeliveredAgeMs",
      status.oldestUndeliveredAgeMs === null ? "- (nothing pending)" : status.oldestUndeliveredAgeMs,
    ],
    [
      "lastError",
      error === null
        ? "-"
        : `${error.topic}-${error.partition} ${new Date(error.at).toISOString()} (${agoLabel(now - error.at)}): ${error.message.replace(/\s*\n\s*/g, " ")}`,
    ],
  ]);
  const partitions = [...status.partitions].sort((a, b) =>
    a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition,
  );
  const table =
    partitions.length === 0
      ? "No partitions yet.\n"
      : formatTable(
          ["TOPIC", "PARTITION", "COMMITTED", "HIGH-WATERMARK", "LAG", "DELIVERED", "FAILED"],
          partitions.map((p) => [
            p.topic,
            p.partition,
            p.committedOffset ?? "-",
            p.highWatermark,
            p.lag,
            p.delivered,
            p.failed,
          ]),
        );
  return `${totals}\n${table}`;
}

function agoLabel(ms: number): string {
  if (ms < 1000) return "just now";
  const seconds = Math.round(ms / 1000);
  if (seconds < 120) return `${seconds}s ago`;
  const minutes = Math.round(seconds / 60);
  return minutes < 120 ? `${minutes}m ago` : `${Math.round(minutes / 60)}h ago`;
}

/** One row per subscription, sorted by name. */
export function formatList(subscriptions: Subscription[]): string {
  const sorted = [...subscriptions].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return formatTable(
    ["NAME", "STATE", "TOPICS", "TARGET", "GROUP"],
    sorted.map((s) => [s.name, s.state, topicsLabel(s), targetLabel(s), s.groupId]),
  );
}

const JSON_OPTION = { json: { kind: "flag", description: "print the API's answer as JSON" } } as const;

const create: Command = {
  path: ["subscriptions", "create"],
  summary: "Create a push subscription: deliver topics to an HTTP endpoint or a Lambda function",
  usage:
    "floe subscriptions create <name> (--topic <name>... | --topic-regex <re>) (--http <url> | --lambda <function>) [settings] [options]",
  connects: true,
  options: { ...CREATE_OPTIONS, ...JSON_OPTION, ...KAFKA_ADMIN_OPTIONS },
  notes: [
    "A subscription is the consumer group floe-subscription-<name>, whose member is Floe's dispatcher:",
    "floe groups describe shows its lag, and (paused) floe groups reset-offsets replays it. Settings",
    "mirror Lambda's event source mapping; delivery is at least once, in order per partition (per key",
    "with --parallelization-factor). HTTP deliveries are signed per Standard Webhooks with the secret",
    "printed on creation (floe subscriptions describe shows it again).",
  ],
  examples: [
    "floe subscriptions create orders-hook --topic orders --http http://127.0.0.1:3000/hook",
    "floe subscriptions create audit --topic-regex 'orders\\..*' --lambda audit-fn --starting-position TRIM_HORIZON",
    `floe subscriptions create big-orders --topic orders --http https://example.com/hook --filter '{"value":{"type":["order"]}}' --maximum-retry-attempts 5 --on-failure-topic orders-dlq`,
  ],
  async run(context) {
    const { options } = context;
    const name = subscriptionName(options);
    const input = subscriptionInput(options);
    const created = await context.client({ retry: ADMIN_RETRY }).admin().createSubscription(name, input);
    if (options.flag("json")) {
      write(context, `${JSON.stringify(created, null, 2)}\n`);
      return 0;
    }
    const paused = created.state === "Disabled" ? " (paused)" : "";
    write(context, `Created subscription ${created.name}${paused}.\n\n${formatSettings(created)}`);
    if (created.secret)
      write(
        context,
        `\nSigning secret: ${created.secret}\nThe target verifies each delivery's webhook-signature header with it (Standard Webhooks).\n`,
      );
    return 0;
  },
};

const list: Command = {
  path: ["subscriptions", "list"],
  summary: "List push subscriptions: state, topics, target and consumer group",
  usage: "floe subscriptions list [--json] [options]",
  connects: true,
  options: { ...JSON_OPTION, ...KAFKA_ADMIN_OPTIONS },
  async run(context) {
    context.options.noPositionals();
    const subscriptions = await context.client({ retry: ADMIN_RETRY }).admin().listSubscriptions();
    if (context.options.flag("json")) write(context, `${JSON.stringify({ subscriptions }, null, 2)}\n`);
    else if (subscriptions.length > 0) write(context, formatList(subscriptions));
    return 0;
  },
};

const describe: Command = {
  path: ["subscriptions", "describe"],
  summary: "Show a subscription's settings and delivery status: counts, lag, last error, per partition",
  usage: "floe subscriptions describe <name> [--json] [options]",
  connects: true,
  options: { ...JSON_OPTION, ...KAFKA_ADMIN_OPTIONS },
  notes: [
    "delivered counts records the target accepted, failed those sent to the on-failure topic, retried",
    "the attempts past a batch's first, filtered those the filters passed over. COMMITTED is the group's",
    "committed offset (the next record to deliver), LAG the records between it and the high-water mark.",
  ],
  async run(context) {
    const name = subscriptionName(context.options);
    const described = await context.client({ retry: ADMIN_RETRY }).admin().describeSubscription(name);
    if (context.options.flag("json")) write(context, `${JSON.stringify(described, null, 2)}\n`);
    else write(context, `${formatSettings(described, { secret: true })}\n${formatStatus(described)}`);
    return 0;
  },
};

const pause: Command = {
  path: ["subscriptions", "pause"],
  summary: "Stop delivering (in-flight batches finish and commit); the offsets stay",
  usage: "floe subscriptions pause <name> [options]",
  connects: true,
  options: { ...KAFKA_ADMIN_OPTIONS },
  async run(context) {
    const name = subscriptionName(context.options);
    await context.client({ retry: ADMIN_RETRY }).admin().pauseSubscription(name);
    write(context, `Paused subscription ${name}.\n`);
    return 0;
  },
};

const resume: Command = {
  path: ["subscriptions", "resume"],
  summary: "Deliver again, from the consumer group's committed offsets",
  usage: "floe subscriptions resume <name> [options]",
  connects: true,
  options: { ...KAFKA_ADMIN_OPTIONS },
  async run(context) {
    const name = subscriptionName(context.options);
    await context.client({ retry: ADMIN_RETRY }).admin().resumeSubscription(name);
    write(context, `Resumed subscription ${name}.\n`);
    return 0;
  },
};

const remove: Command = {
  path: ["subscriptions", "delete"],
  summary: "Delete a subscription and its consumer group",
  usage: "floe subscriptions delete <name> [options]",
  connects: true,
  options: { ...KAFKA_ADMIN_OPTIONS },
  notes: [
    "While a dispatcher still delivers it, the subscription is Deleting: the dispatcher finishes its",
    "in-flight batches, leaves the group, and then the subscription and its group are gone.",
  ],
  async run(context) {
    const name = subscriptionName(context.options);
    const { state } = await context.client({ retry: ADMIN_RETRY }).admin().deleteSubscription(name);
    write(
      context,
      state === "Deleted"
        ? `Deleted subscription ${name}.\n`
        : `Deleting subscription ${name}: it is gone once its dispatcher finishes its in-flight batches and leaves the group.\n`,
    );
    return 0;
  },
};

export const subscriptionsCommands: Command[] = [create, list, describe, pause, resume, remove];
