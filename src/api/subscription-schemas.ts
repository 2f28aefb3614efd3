import { z } from "zod";
import { MAX_REGEX_LENGTH } from "../groups/topic-regex.js";
import {
  HTTP_URL,
  LAMBDA_FUNCTION_NAME,
  LIMITS,
  MAX_SUBSCRIPTION_NAME_LENGTH,
  SECRET_PATTERN,
  SECRET_PREFIX,
  STARTING_POSITIONS,
} from "../subscriptions/subscription-settings.js";
import { named, TopicName } from "./schemas.js";

/**
 * The push-subscription routes' shapes (architecture §14). They check types, ranges and refuse
 * unknown fields; rules across fields (exactly one of topics and topicRegex, a failure topic when
 * retries are finite, no delivery loop, filter grammar, regex syntax) stay in
 * subscription-settings.ts, which gives every entry point the same errors. Limits come from there too.
 */

const NAME_PATTERN = /^[a-zA-Z0-9._-]+$/;

export const SubscriptionName = named(
  "SubscriptionName",
  z
    .string()
    .min(1)
    .max(MAX_SUBSCRIPTION_NAME_LENGTH)
    .regex(NAME_PATTERN, "subscription names may contain only ASCII letters, digits, '.', '_' and '-'")
    .regex(/^(?!\.\.?$)/, 'a subscription cannot be named "." or ".."'),
  `Kafka's topic-name rules: 1-${MAX_SUBSCRIPTION_NAME_LENGTH} characters of [a-zA-Z0-9._-], not '.' or '..' (the group id floe-subscription-{name} stays within 249).`,
);

export const SubscriptionParams = z.object({ name: SubscriptionName });

const int = (min: number, max: number) => z.number().int().min(min).max(max);

const TimeoutMs = int(LIMITS.timeoutMs.min, LIMITS.timeoutMs.max);

const HttpTargetInput = z.strictObject({
  type: z.literal("http"),
  url: z
    .string()
    .max(LIMITS.urlLength.max)
    .regex(HTTP_URL, "url must be an http:// or https:// URL")
    .describe("POSTed one JSON batch per delivery, signed per Standard Webhooks."),
  timeoutMs: TimeoutMs.optional().describe("How long one POST may take; default 30000."),
});

const LambdaTargetInput = z.strictObject({
  type: z.literal("lambda"),
  functionName: z
    .string()
    .min(1)
    .max(LIMITS.functionNameLength.max)
    .regex(LAMBDA_FUNCTION_NAME, "functionName must be a Lambda function name, name:qualifier or ARN")
    .describe("A function name, name:qualifier, or (partial) ARN, as Lambda's Invoke takes it."),
  timeoutMs: TimeoutMs.optional().describe("How long one synchronous invocation may take; default 900000."),
});

export const TargetInput = named(
  "SubscriptionTargetInput",
  z.discriminatedUnion("type", [HttpTargetInput, LambdaTargetInput]),
);

const Filters = z
  .array(z.record(z.string(), z.unknown()))
  .max(LIMITS.filters.max)
  .describe(
    "EventBridge-like patterns over a record's key, headers and value (Lambda's FilterCriteria); a record passes when any matches.",
  );

const Secret = z
  .string()
  .regex(SECRET_PATTERN, "secret must be whsec_ and the base64 of 24 to 64 bytes")
  // What the pattern implies, stated too: 32 to 88 base64 characters.
  .min(SECRET_PREFIX.length + 32)
  .max(SECRET_PREFIX.length + 88)
  .describe(
    "A Standard Webhooks signing secret: whsec_ and the base64 of 24 to 64 bytes; generated when absent.",
  );

/** JSON Schema conditions: the document's form of the settings' rules across fields. */
const present = (field: string, type: string) => ({ required: [field], properties: { [field]: { type } } });

/** Exactly one of topics and topicRegex is given (not null). */
const ONE_TOPIC_SELECTION = {
  if: present("topics", "array"),
  // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then/else keywords
  then: { not: present("topicRegex", "string") },
  else: present("topicRegex", "string"),
};

/** A Lambda target is not signed: no secret with it. */
const NO_SECRET_FOR_LAMBDA = {
  if: {
    required: ["target"],
    properties: { target: { required: ["type"], properties: { type: { const: "lambda" } } } },
  },
  // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then/else keywords
  then: { not: { required: ["secret"] } },
};

/** AT_TIMESTAMP needs its timestamp; any other starting position has none. */
const TIMESTAMP_WITH_AT_TIMESTAMP = {
  if: { required: ["startingPosition"], properties: { startingPosition: { const: "AT_TIMESTAMP" } } },
  // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then/else keywords
  then: present("startingPositionTimestamp", "integer"),
  else: { properties: { startingPositionTimestamp: { type: "null" } } },
};

/** A record whose retries or age run out goes to the failure topic: finite ones need it. */
const FAILURE_TOPIC_WHEN_FINITE = {
  if: {
    anyOf: [
      { required: ["maximumRetryAttempts"], properties: { maximumRetryAttempts: { not: { const: -1 } } } },
      { required: ["maximumRecordAgeMs"], properties: { maximumRecordAgeMs: { not: { const: -1 } } } },
    ],
  },
  // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then/else keywords
  then: present("onFailureTopic", "string"),
};

/** The settings both creating and changing take. */
const settingFields = {
  topics: z
    .array(TopicName)
    .min(LIMITS.topics.min)
    .max(LIMITS.topics.max)
    .nullable()
    .optional()
    .describe("The topics delivered; exactly one of topics and topicRegex."),
  topicRegex: z
    .string()
    .min(1)
    .max(MAX_REGEX_LENGTH)
    .nullable()
    .optional()
    .describe("An RE2 regular expression matched against whole topic names (as Kafka's)."),
  batchSize: int(LIMITS.batchSize.min, LIMITS.batchSize.max).optional().describe("Default 100."),
  maximumBatchingWindowMs: int(LIMITS.maximumBatchingWindowMs.min, LIMITS.maximumBatchingWindowMs.max)
    .optional()
    .describe("How long to gather a batch; default 500."),
  maximumRetryAttempts: int(LIMITS.maximumRetryAttempts.min, LIMITS.maximumRetryAttempts.max)
    .optional()
    .describe(
      "Retries after the first attempt; -1 (default) retries until it succeeds. Finite needs onFailureTopic.",
    ),
  maximumRecordAgeMs: z
    .union([z.literal(-1), int(LIMITS.maximumRecordAgeMs.min, LIMITS.maximumRecordAgeMs.max)])
    .optional()
    .describe("-1 (default): no limit. Finite needs onFailureTopic."),
  bisectBatchOnError: z.boolean().optional().describe("Default false."),
  reportBatchItemFailures: z.boolean().optional().describe("Honour batchItemFailures; default true."),
  parallelizationFactor: int(LIMITS.parallelizationFactor.min, LIMITS.parallelizationFactor.max)
    .optional()
    .describe("Concurrent batches per partition, order kept per key; default 1."),
  onFailureTopic: TopicName.nullable()
    .optional()
    .describe("The topic a record goes to, with headers saying why, once its retries or age run out."),
  filters: Filters.optional(),
  secret: Secret.optional(),
};

export const CreateSubscriptionRequest = named(
  "CreateSubscriptionRequest",
  z
    .strictObject({
      name: SubscriptionName,
      ...settingFields,
      target: TargetInput,
      startingPosition: z
        .enum(STARTING_POSITIONS)
        .optional()
        .describe("Where delivery begins; default LATEST."),
      startingPositionTimestamp: int(0, Number.MAX_SAFE_INTEGER)
        .nullable()
        .optional()
        .describe("Milliseconds since the epoch; required with AT_TIMESTAMP only."),
      state: z
        .enum(["Enabled", "Disabled"])
        .optional()
        .describe("Disabled creates it paused; default Enabled."),
    })
    // subscription-settings.ts's rules across fields, stated in the document too; it cannot state the
    // rest (a failure topic the subscription itself reads, the filters' and the regex's grammar).
    .meta({
      allOf: [
        ONE_TOPIC_SELECTION,
        TIMESTAMP_WITH_AT_TIMESTAMP,
        FAILURE_TOPIC_WHEN_FINITE,
        NO_SECRET_FOR_LAMBDA,
      ],
    }),
);

export const UpdateSubscriptionRequest = named(
  "UpdateSubscriptionRequest",
  z
    .strictObject({
      ...settingFields,
      target: TargetInput.optional(),
      state: z
        .enum(["Enabled", "Disabled"])
        .optional()
        .describe("Disabled pauses delivery, Enabled resumes it."),
      version: z
        .number()
        .int()
        .min(1)
        .max(Number.MAX_SAFE_INTEGER)
        .optional()
        .describe(
          "Apply only if the subscription is still at this version (INVALID_UPDATE_VERSION otherwise).",
        ),
    })
    // The rules a change breaks whatever is stored: topics and topicRegex both given, a secret with a Lambda target.
    .meta({
      allOf: [
        {
          not: {
            required: ["topics", "topicRegex"],
            properties: { topics: { type: "array" }, topicRegex: { type: "string" } },
          },
        },
        NO_SECRET_FOR_LAMBDA,
      ],
    }),
);

const Target = z.discriminatedUnion("type", [
  z.object({ type: z.literal("http"), url: z.string(), timeoutMs: z.number().int() }),
  z.object({ type: z.literal("lambda"), functionName: z.string(), timeoutMs: z.number().int() }),
]);

export const Subscription = named(
  "Subscription",
  z.object({
    name: z.string(),
    state: z.enum(["Enabled", "Disabled", "Deleting"]),
    groupId: z.string().describe("The consumer group its offsets live in: floe-subscription-{name}."),
    topics: z.array(z.string()).nullable(),
    topicRegex: z.string().nullable(),
    target: Target,
    batchSize: z.number().int(),
    maximumBatchingWindowMs: z.number().int(),
    startingPosition: z.enum(STARTING_POSITIONS),
    startingPositionTimestamp: z.number().int().nullable(),
    maximumRetryAttempts: z.number().int(),
    maximumRecordAgeMs: z.number().int(),
    bisectBatchOnError: z.boolean(),
    reportBatchItemFailures: z.boolean(),
    parallelizationFactor: z.number().int(),
    onFailureTopic: z.string().nullable(),
    filters: z.array(z.record(z.string(), z.unknown())),
    secret: z.string().nullable().describe("The Standard Webhooks signing secret; null for Lambda targets."),
    incarnation: z.string().describe("A UUID per creation; part of every webhook id."),
    createdAt: z.number().int(),
    updatedAt: z.number().int(),
    version: z.number().int().describe("PATCH may carry it as a precondition."),
  }),
);

export const SubscriptionList = named("SubscriptionList", z.object({ subscriptions: z.array(Subscription) }));

const SubscriptionError = z
  .object({ message: z.string(), at: z.number().int(), topic: z.string(), partition: z.number().int() })
  .nullable();

const Counts = {
  delivered: z.number().int().describe("Records the target accepted."),
  failed: z.number().int().describe("Records sent to the on-failure topic."),
  retried: z.number().int().describe("Deliveries attempted again after a failure."),
  filtered: z.number().int().describe("Records the filters passed over."),
};

export const SubscriptionStatus = named(
  "SubscriptionStatus",
  z.object({
    ...Counts,
    lag: z.number().int().describe("Records the committed offsets are behind the high-water marks by."),
    oldestUndeliveredAgeMs: z
      .number()
      .int()
      .nullable()
      .describe("Age of the oldest undelivered record; null when none."),
    lastError: SubscriptionError.describe("The most recent delivery error of any partition."),
    partitions: z.array(
      z.object({
        topic: z.string(),
        partition: z.number().int(),
        ...Counts,
        oldestUndeliveredTimestamp: z.number().int().nullable(),
        lastError: SubscriptionError,
        updatedAt: z.number().int(),
        committedOffset: z.number().int().nullable(),
        highWatermark: z.number().int(),
        lag: z.number().int(),
      }),
    ),
  }),
);

export const SubscriptionDescription = named(
  "SubscriptionDescription",
  Subscription.extend({ status: SubscriptionStatus }),
);

export const DeletingResponse = named(
  "SubscriptionDeleting",
  z.object({ state: z.literal("Deleting") }),
  "Accepted: a dispatcher still holds the subscription's group; it goes once the dispatcher has left.",
);
