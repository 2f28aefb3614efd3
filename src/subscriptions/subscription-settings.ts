import { validateTopicName } from "../broker/topic-config.js";
import { FloeError } from "../errors.js";
import { MAX_GROUP_ID_LENGTH } from "../groups/request-validation.js";
import { compileTopicRegex } from "../groups/topic-regex.js";
import { compileFilters } from "./record-filter.js";
import type {
  FilterPattern,
  StartingPosition,
  SubscriptionChange,
  SubscriptionInput,
  SubscriptionSettings,
  TargetConfig,
  TargetInput,
} from "./types.js";

/**
 * A subscription's defaults and the checks every definition passes before it is stored, whoever
 * writes it (the HTTP API, the CLI through it, a test): the API's schemas refuse malformed JSON, this
 * refuses what is well-formed but means something impossible or unsafe (a record dropped silently,
 * a delivery loop).
 */

/** The consumer group a subscription's offsets live in is `floe-subscription-{name}` (architecture §14). */
export const SUBSCRIPTION_GROUP_PREFIX = "floe-subscription-";

/**
 * Names follow Kafka's topic-name rules, capped so the group id still fits Kafka's (and the
 * coordinator's) 249-character limit once the prefix is added: 231 characters.
 */
export const MAX_SUBSCRIPTION_NAME_LENGTH = MAX_GROUP_ID_LENGTH - SUBSCRIPTION_GROUP_PREFIX.length;

export function subscriptionGroupId(name: string): string {
  return SUBSCRIPTION_GROUP_PREFIX + name;
}

export const LIMITS = {
  topics: { min: 1, max: 1000 },
  batchSize: { min: 1, max: 10_000 },
  maximumBatchingWindowMs: { min: 0, max: 300_000 },
  maximumRetryAttempts: { min: -1, max: 10_000 },
  /** -1 (no limit) or this range: Lambda's MaximumRecordAgeInSeconds is -1 or 60..604800; 1 s is allowed here for tests and short-lived data. */
  maximumRecordAgeMs: { min: 1000, max: 604_800_000 },
  parallelizationFactor: { min: 1, max: 10 },
  filters: { max: 10 },
  /** Lambda's longest function timeout; an HTTP POST waits at most as long. */
  timeoutMs: { min: 1, max: 900_000 },
  urlLength: { max: 2048 },
  /** Lambda's FunctionName: 1..170 characters. */
  functionNameLength: { max: 170 },
  /** Standard Webhooks: a secret is 24 to 64 bytes. */
  secretBytes: { min: 24, max: 64 },
} as const;

/** Lambda's defaults, except reportBatchItemFailures (see types.ts) and the HTTP timeout (Kafka's request.timeout.ms). */
export const SUBSCRIPTION_DEFAULTS = {
  batchSize: 100,
  maximumBatchingWindowMs: 500,
  startingPosition: "LATEST" as StartingPosition,
  maximumRetryAttempts: -1,
  maximumRecordAgeMs: -1,
  bisectBatchOnError: false,
  reportBatchItemFailures: true,
  parallelizationFactor: 1,
  onFailureTopic: null,
  filters: [] as FilterPattern[],
  httpTimeoutMs: 30_000,
  lambdaTimeoutMs: 900_000,
} as const;

export const STARTING_POSITIONS: readonly StartingPosition[] = ["LATEST", "TRIM_HORIZON", "AT_TIMESTAMP"];

export const SECRET_PREFIX = "whsec_";

/**
 * Lambda's Invoke FunctionName pattern: a name, name:qualifier, or a partial or full ARN (the
 * region part also takes the GovCloud and ISO partitions' forms). Shared with the API's schema, so
 * the OpenAPI document refuses exactly what this does.
 */
export const LAMBDA_FUNCTION_NAME =
  /^(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}((-gov)|(-iso[a-z]?))?-[a-z]+-\d:)?(\d{12}:)?(function:)?[a-zA-Z0-9_.-]+(:(\$LATEST|[a-zA-Z0-9_-]+))?$/;

/**
 * An http(s) URL's shape: scheme, optional user info, an ASCII host name, IPv4 or bracketed IPv6
 * address, a port up to 65535, then any path, query and fragment without whitespace. A URL must
 * also parse (WHATWG), which this shape nearly always implies; the API's schema states the shape.
 */
export const HTTP_URL =
  /^[hH][tT][tT][pP][sS]?:\/\/(?:[^\s/?#@]+@)?(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::(?:[0-9]{0,4}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]))?(?:[/?#]\S*)?$/;

/**
 * `whsec_` and the canonical base64 of 24 to 64 bytes (Standard Webhooks' bounds): 8 to 21 groups
 * of four characters, the last possibly padded, with a padded group's unused bits zero.
 */
export const SECRET_PATTERN =
  /^whsec_(?:(?:[A-Za-z0-9+/]{4}){8,20}(?:[A-Za-z0-9+/][AQgw]==|[A-Za-z0-9+/]{2}[AEIMQUYcgkosw048]=)?|(?:[A-Za-z0-9+/]{4}){21}(?:[A-Za-z0-9+/][AQgw]==)?)$/;

const NAME_CHARACTERS = /^[a-zA-Z0-9._-]+$/;

function invalid(message: string): never {
  throw new FloeError("INVALID_CONFIG", message);
}

/** Kafka's topic-name rules, as INVALID_CONFIG naming the field. */
export function validateSubscriptionName(name: unknown): asserts name is string {
  if (typeof name !== "string" || name.length === 0)
    invalid("name is required and must be a non-empty string.");
  if (name === "." || name === "..") invalid(`name cannot be "${name}".`);
  if (name.length > MAX_SUBSCRIPTION_NAME_LENGTH) {
    invalid(`name is ${name.length} characters long; the limit is ${MAX_SUBSCRIPTION_NAME_LENGTH}.`);
  }
  if (!NAME_CHARACTERS.test(name)) {
    invalid(`name "${name}" may contain only ASCII letters, digits, '.', '_' and '-'.`);
  }
}

/** A topic name in a subscription's field, refused as INVALID_CONFIG naming the field. */
function validateTopicField(field: string, name: unknown): asserts name is string {
  try {
    validateTopicName(name);
  } catch (e) {
    if (e instanceof FloeError) invalid(`${field}: ${e.message}.`);
    throw e;
  }
}

function integerIn(field: string, value: unknown, min: number, max: number): void {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min || value > max) {
    invalid(`${field} must be an integer from ${min} to ${max}, got ${String(value)}.`);
  }
}

function boolean(field: string, value: unknown): void {
  if (typeof value !== "boolean") invalid(`${field} must be true or false, got ${String(value)}.`);
}

/** A target as a request gives it, with its timeout defaulted and its fields checked. */
export function targetFromInput(input: TargetInput): TargetConfig {
  if (input === null || typeof input !== "object") invalid("target must be an object.");
  const timeoutMs =
    input.timeoutMs ??
    (input.type === "lambda" ? SUBSCRIPTION_DEFAULTS.lambdaTimeoutMs : SUBSCRIPTION_DEFAULTS.httpTimeoutMs);
  integerIn("target.timeoutMs", timeoutMs, LIMITS.timeoutMs.min, LIMITS.timeoutMs.max);
  if (input.type === "http") {
    validateUrl(input.url);
    return { type: "http", url: input.url, timeoutMs };
  }
  if (input.type === "lambda") {
    validateFunctionName(input.functionName);
    return { type: "lambda", functionName: input.functionName, timeoutMs };
  }
  invalid(`target.type must be "http" or "lambda", got ${String((input as { type?: unknown }).type)}.`);
}

function validateUrl(url: unknown): void {
  if (typeof url !== "string" || url.length === 0) invalid("target.url is required.");
  if (url.length > LIMITS.urlLength.max) {
    invalid(`target.url is ${url.length} characters long; the limit is ${LIMITS.urlLength.max}.`);
  }
  if (!/^https?:/i.test(url))
    invalid(`target.url must be an http: or https: URL, got "${url.slice(0, 100)}".`);
  if (!HTTP_URL.test(url)) invalid(`target.url "${url.slice(0, 100)}" is not a URL.`);
  try {
    new URL(url);
  } catch {
    invalid(`target.url "${url.slice(0, 100)}" is not a URL.`);
  }
}

function validateFunctionName(name: unknown): void {
  if (typeof name !== "string" || name.length === 0) invalid("target.functionName is required.");
  if (name.length > LIMITS.functionNameLength.max) {
    invalid(
      `target.functionName is ${name.length} characters long; the limit is ${LIMITS.functionNameLength.max}.`,
    );
  }
  if (!LAMBDA_FUNCTION_NAME.test(name)) {
    invalid(`target.functionName "${name}" is not a Lambda function name, name:qualifier or ARN.`);
  }
}

/** A Standard Webhooks secret: `whsec_` then canonical base64 of 24..64 bytes. */
export function validateSecret(secret: unknown): asserts secret is string {
  if (typeof secret !== "string" || !secret.startsWith(SECRET_PREFIX)) {
    invalid(`secret must start with "${SECRET_PREFIX}".`);
  }
  if (!SECRET_PATTERN.test(secret)) {
    invalid(
      `secret must be "${SECRET_PREFIX}" followed by the base64 of ${LIMITS.secretBytes.min} to ${LIMITS.secretBytes.max} bytes.`,
    );
  }
}

/** Creating: every setting the input leaves out takes its default, then the whole is checked. */
export function settingsFromInput(input: SubscriptionInput): SubscriptionSettings {
  if (input === null || typeof input !== "object") invalid("A subscription needs a body.");
  const startingPosition = input.startingPosition ?? SUBSCRIPTION_DEFAULTS.startingPosition;
  const settings: SubscriptionSettings = {
    topics: input.topics ?? null,
    topicRegex: input.topicRegex ?? null,
    target: targetFromInput(input.target),
    batchSize: input.batchSize ?? SUBSCRIPTION_DEFAULTS.batchSize,
    maximumBatchingWindowMs: input.maximumBatchingWindowMs ?? SUBSCRIPTION_DEFAULTS.maximumBatchingWindowMs,
    startingPosition,
    startingPositionTimestamp: input.startingPositionTimestamp ?? null,
    maximumRetryAttempts: input.maximumRetryAttempts ?? SUBSCRIPTION_DEFAULTS.maximumRetryAttempts,
    maximumRecordAgeMs: input.maximumRecordAgeMs ?? SUBSCRIPTION_DEFAULTS.maximumRecordAgeMs,
    bisectBatchOnError: input.bisectBatchOnError ?? SUBSCRIPTION_DEFAULTS.bisectBatchOnError,
    reportBatchItemFailures: input.reportBatchItemFailures ?? SUBSCRIPTION_DEFAULTS.reportBatchItemFailures,
    parallelizationFactor: input.parallelizationFactor ?? SUBSCRIPTION_DEFAULTS.parallelizationFactor,
    onFailureTopic: input.onFailureTopic ?? SUBSCRIPTION_DEFAULTS.onFailureTopic,
    filters: input.filters ?? [...SUBSCRIPTION_DEFAULTS.filters],
  };
  validateSettings(settings);
  return settings;
}

/** Fields a change may not carry: the starting position is read only at creation. */
const CREATION_ONLY = ["startingPosition", "startingPositionTimestamp"] as const;

/**
 * Changing: the change's fields replace the current ones. Naming a topic list drops the regex and
 * the other way round, so switching between them takes one field; naming both is refused.
 */
export function applyChange(current: SubscriptionSettings, change: SubscriptionChange): SubscriptionSettings {
  if (change === null || typeof change !== "object") invalid("A change needs a body.");
  for (const field of CREATION_ONLY) {
    if (field in change)
      invalid(`${field} applies only when a subscription is created; it cannot be changed.`);
  }
  const next: SubscriptionSettings = { ...current };
  if (change.topics !== undefined) {
    next.topics = change.topics;
    if (change.topicRegex === undefined && change.topics !== null) next.topicRegex = null;
  }
  if (change.topicRegex !== undefined) {
    next.topicRegex = change.topicRegex;
    if (change.topics === undefined && change.topicRegex !== null) next.topics = null;
  }
  if (change.target !== undefined) next.target = targetFromInput(change.target);
  if (change.batchSize !== undefined) next.batchSize = change.batchSize;
  if (change.maximumBatchingWindowMs !== undefined)
    next.maximumBatchingWindowMs = change.maximumBatchingWindowMs;
  if (change.maximumRetryAttempts !== undefined) next.maximumRetryAttempts = change.maximumRetryAttempts;
  if (change.maximumRecordAgeMs !== undefined) next.maximumRecordAgeMs = change.maximumRecordAgeMs;
  if (change.bisectBatchOnError !== undefined) next.bisectBatchOnError = change.bisectBatchOnError;
  if (change.reportBatchItemFailures !== undefined)
    next.reportBatchItemFailures = change.reportBatchItemFailures;
  if (change.parallelizationFactor !== undefined) next.parallelizationFactor = change.parallelizationFactor;
  if (change.onFailureTopic !== undefined) next.onFailureTopic = change.onFailureTopic;
  if (change.filters !== undefined) next.filters = change.filters;
  validateSettings(next);
  return next;
}

/** Every rule a stored definition keeps; throws INVALID_CONFIG (or INVALID_REGULAR_EXPRESSION) naming the field. */
export function validateSettings(s: SubscriptionSettings): void {
  const matches = validateTopicSelection(s.topics, s.topicRegex);
  targetFromInput(s.target);
  integerIn("batchSize", s.batchSize, LIMITS.batchSize.min, LIMITS.batchSize.max);
  integerIn(
    "maximumBatchingWindowMs",
    s.maximumBatchingWindowMs,
    LIMITS.maximumBatchingWindowMs.min,
    LIMITS.maximumBatchingWindowMs.max,
  );
  if (!STARTING_POSITIONS.includes(s.startingPosition)) {
    invalid(
      `startingPosition must be one of ${STARTING_POSITIONS.join(", ")}, got ${String(s.startingPosition)}.`,
    );
  }
  if (s.startingPosition === "AT_TIMESTAMP") {
    if (s.startingPositionTimestamp === null || s.startingPositionTimestamp === undefined) {
      invalid("startingPositionTimestamp is required with startingPosition AT_TIMESTAMP.");
    }
    integerIn("startingPositionTimestamp", s.startingPositionTimestamp, 0, Number.MAX_SAFE_INTEGER);
  } else if (s.startingPositionTimestamp !== null) {
    invalid(
      `startingPositionTimestamp applies only with startingPosition AT_TIMESTAMP, not ${s.startingPosition}.`,
    );
  }
  integerIn(
    "maximumRetryAttempts",
    s.maximumRetryAttempts,
    LIMITS.maximumRetryAttempts.min,
    LIMITS.maximumRetryAttempts.max,
  );
  if (s.maximumRecordAgeMs !== -1) {
    integerIn(
      "maximumRecordAgeMs",
      s.maximumRecordAgeMs,
      LIMITS.maximumRecordAgeMs.min,
      LIMITS.maximumRecordAgeMs.max,
    );
  }
  boolean("bisectBatchOnError", s.bisectBatchOnError);
  boolean("reportBatchItemFailures", s.reportBatchItemFailures);
  integerIn(
    "parallelizationFactor",
    s.parallelizationFactor,
    LIMITS.parallelizationFactor.min,
    LIMITS.parallelizationFactor.max,
  );
  if (s.onFailureTopic !== null) {
    validateTopicField("onFailureTopic", s.onFailureTopic);
    // A failed record sent back into the subscription would be delivered, fail and be sent again forever.
    if (matches(s.onFailureTopic)) {
      invalid(
        `onFailureTopic "${s.onFailureTopic}" is one of the subscription's own topics: that would loop.`,
      );
    }
  } else if (s.maximumRetryAttempts !== -1 || s.maximumRecordAgeMs !== -1) {
    invalid(
      "onFailureTopic is required when maximumRetryAttempts or maximumRecordAgeMs is finite: a record whose retries or age run out must go somewhere.",
    );
  }
  validateFilters(s.filters);
}

/** Exactly one of a topic list and a regex; answers whether a topic name is one the subscription takes. */
function validateTopicSelection(topics: unknown, topicRegex: unknown): (topic: string) => boolean {
  const hasTopics = topics !== null && topics !== undefined;
  const hasRegex = topicRegex !== null && topicRegex !== undefined;
  if (hasTopics === hasRegex) invalid("Exactly one of topics and topicRegex is required.");
  if (hasTopics) {
    if (!Array.isArray(topics) || topics.length < LIMITS.topics.min || topics.length > LIMITS.topics.max) {
      invalid(`topics must list ${LIMITS.topics.min} to ${LIMITS.topics.max} topic names.`);
    }
    for (const [i, t] of topics.entries()) validateTopicField(`topics[${i}]`, t);
    const set = new Set<string>(topics);
    return (topic) => set.has(topic);
  }
  if (typeof topicRegex !== "string" || topicRegex.length === 0)
    invalid("topicRegex must be a non-empty string.");
  const pattern = compileTopicRegex(topicRegex);
  return (topic) => pattern.matches(topic);
}

function validateFilters(filters: unknown): void {
  if (!Array.isArray(filters) || filters.length > LIMITS.filters.max) {
    invalid(`filters must be a list of at most ${LIMITS.filters.max} patterns.`);
  }
  for (const [i, f] of filters.entries()) {
    if (f === null || typeof f !== "object" || Array.isArray(f)) invalid(`filters[${i}] must be an object.`);
  }
  compileFilters(filters as FilterPattern[]);
}
