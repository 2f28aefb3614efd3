import { FloeError } from "../errors.js";

/**
 * Topic names and configs follow Kafka's rules and names exactly, so a Kafka user's topic
 * definitions carry over unchanged.
 */

const LEGAL_NAME = /^[a-zA-Z0-9._-]+$/;
export const MAX_TOPIC_NAME_LENGTH = 249;

export function validateTopicName(name: unknown): asserts name is string {
  if (typeof name !== "string" || name.length === 0) {
    throw new FloeError("INVALID_TOPIC_EXCEPTION", "Topic name is required and must be a non-empty string");
  }
  if (name === "." || name === "..") {
    throw new FloeError("INVALID_TOPIC_EXCEPTION", `Topic name cannot be "${name}"`);
  }
  if (name.length > MAX_TOPIC_NAME_LENGTH) {
    throw new FloeError(
      "INVALID_TOPIC_EXCEPTION",
      `Topic name is ${name.length} characters long; the limit is ${MAX_TOPIC_NAME_LENGTH}`,
    );
  }
  if (!LEGAL_NAME.test(name)) {
    throw new FloeError(
      "INVALID_TOPIC_EXCEPTION",
      `Topic name "${name}" is illegal: it may contain only ASCII letters, digits, '.', '_' and '-'`,
    );
  }
}

/** Kafka has no hard limit; this one keeps a describe or a full-topic commit within reason. */
export const MAX_PARTITIONS = 10_000;

export function validatePartitionCount(partitions: unknown): asserts partitions is number {
  if (typeof partitions !== "number" || !Number.isInteger(partitions) || partitions < 1) {
    throw new FloeError(
      "INVALID_PARTITIONS",
      `Number of partitions must be an integer >= 1, got ${partitions}`,
    );
  }
  if (partitions > MAX_PARTITIONS) {
    throw new FloeError("INVALID_PARTITIONS", `Number of partitions ${partitions} exceeds ${MAX_PARTITIONS}`);
  }
}

export interface TopicConfig {
  "cleanup.policy": "delete" | "compact";
  "retention.ms": number;
  "retention.bytes": number;
  "max.message.bytes": number;
  "message.timestamp.type": "CreateTime" | "LogAppendTime";
}

/** Kafka's broker defaults (log.retention.hours=168, retention.bytes=-1, message.max.bytes=1048588). */
export const DEFAULT_TOPIC_CONFIG: TopicConfig = {
  "cleanup.policy": "delete",
  "retention.ms": 7 * 24 * 60 * 60 * 1000,
  "retention.bytes": -1,
  "max.message.bytes": 1_048_588,
  "message.timestamp.type": "CreateTime",
};

/**
 * Kafka's ConfigDef types (LogConfig): INT is a Java int, LONG a Java long. A LONG beyond 2^53 - 1
 * cannot be held exactly by a JavaScript number, so Floe refuses it rather than round it.
 */
const INT32_MAX = 2 ** 31 - 1;
const LONG_MAX = Number.MAX_SAFE_INTEGER;

/** What each supported topic config accepts, from Kafka's LogConfig definitions. */
export type TopicConfigSpec =
  | { type: "int" | "long"; min: number; max: number }
  | { type: "string" | "list"; values: readonly string[] };

/**
 * The topic configs Floe honours, by Kafka's names; anything else is INVALID_CONFIG, as a Kafka broker
 * answers an unknown topic config. A Map, so a name like "constructor" or "__proto__" is simply
 * unknown rather than found on Object.prototype.
 */
export const TOPIC_CONFIG_SPECS: ReadonlyMap<keyof TopicConfig, TopicConfigSpec> = new Map<
  keyof TopicConfig,
  TopicConfigSpec
>([
  // Kafka's is a LIST of compact and delete; Floe runs one policy per topic, so one of the two.
  ["cleanup.policy", { type: "list", values: ["delete", "compact"] }],
  // LONG, atLeast(-1): -1 keeps records forever.
  ["retention.ms", { type: "long", min: -1, max: LONG_MAX }],
  // LONG without a validator: any negative size means no limit.
  ["retention.bytes", { type: "long", min: -LONG_MAX, max: LONG_MAX }],
  // INT, atLeast(0).
  ["max.message.bytes", { type: "int", min: 0, max: INT32_MAX }],
  // STRING, ValidString.in(CreateTime, LogAppendTime).
  ["message.timestamp.type", { type: "string", values: ["CreateTime", "LogAppendTime"] }],
]);

export const TOPIC_CONFIG_KEYS = [...TOPIC_CONFIG_SPECS.keys()] as [
  keyof TopicConfig,
  ...(keyof TopicConfig)[],
];

/**
 * A regular expression for the decimal integers from 1 to `max` (max >= 1), leading zeros allowed,
 * so a JSON Schema pattern can say exactly which numbers-as-strings are accepted.
 */
function positiveUpTo(max: number): string {
  const digits = String(max);
  const alternatives: string[] = [];
  for (let length = 1; length < digits.length; length++) {
    alternatives.push(length === 1 ? "[1-9]" : `[1-9]\\d{${length - 1}}`);
  }
  for (let i = 0; i < digits.length; i++) {
    const low = i === 0 ? 1 : 0;
    const high = Number(digits[i]) - 1;
    if (high < low) continue;
    const rest = digits.length - i - 1;
    const range = low === high ? String(low) : `[${low}-${high}]`;
    alternatives.push(`${digits.slice(0, i)}${range}${rest > 0 ? `\\d{${rest}}` : ""}`);
  }
  alternatives.push(digits);
  return `0*(?:${alternatives.join("|")})`;
}

/**
 * The pattern of the decimal strings denoting an integer in [min, max]: max >= 1, and min one of 0,
 * 1, -1 or -max (the ranges Kafka's topic configs and Floe's query parameters use).
 */
export function decimalPattern(min: number, max: number): string {
  const positive = positiveUpTo(max);
  if (min === 1) return `^${positive}$`;
  if (min === 0) return `^(?:0+|${positive})$`;
  if (min === -1) return `^(?:-0*1|0+|${positive})$`;
  if (min === -max) return `^(?:0+|-?${positive})$`;
  throw new Error(`decimalPattern: unsupported minimum ${min}`);
}

const patterns = new Map<string, RegExp>();

/**
 * The config's value as a number: a JSON integer, or the decimal text Kafka's tools send (Kafka
 * parses it with Integer.parseInt / Long.parseLong), both within the config's range. The text is
 * matched with the very pattern the OpenAPI document publishes, so the two cannot disagree.
 */
function integerValue(raw: unknown, spec: { min: number; max: number }): number | undefined {
  if (typeof raw === "number") {
    return Number.isSafeInteger(raw) && raw >= spec.min && raw <= spec.max ? raw : undefined;
  }
  if (typeof raw !== "string") return undefined;
  const source = decimalPattern(spec.min, spec.max);
  let pattern = patterns.get(source);
  if (!pattern) patterns.set(source, (pattern = new RegExp(source)));
  return pattern.test(raw) ? Number(raw) : undefined;
}

function parseValue(
  key: keyof TopicConfig,
  spec: TopicConfigSpec,
  raw: unknown,
): TopicConfig[keyof TopicConfig] {
  if ("values" in spec) {
    if (typeof raw === "string" && spec.values.includes(raw)) return raw as TopicConfig["cleanup.policy"];
    throw new FloeError(
      "INVALID_CONFIG",
      `Invalid value ${JSON.stringify(raw)} for configuration ${key}: expected one of ${spec.values.join(", ")}`,
    );
  }
  const n = integerValue(raw, spec);
  if (n !== undefined) return n;
  throw new FloeError(
    "INVALID_CONFIG",
    `Invalid value ${JSON.stringify(raw)} for configuration ${key}: expected an integer from ${spec.min} to ${spec.max} (Kafka's ${spec.type === "int" ? "INT" : "LONG"})`,
  );
}

/** Whether `name` is a topic config Floe supports; an own-name lookup, never Object.prototype's. */
export function isTopicConfigKey(name: string): name is keyof TopicConfig {
  return TOPIC_CONFIG_SPECS.has(name as keyof TopicConfig);
}

export function unknownTopicConfig(key: string): FloeError {
  return new FloeError(
    "INVALID_CONFIG",
    `Unknown topic config ${JSON.stringify(key)}; supported: ${TOPIC_CONFIG_KEYS.join(", ")}`,
  );
}

/**
 * Parses user-supplied overrides (strings or numbers, as Kafka tools send them). Unknown names and
 * values outside Kafka's type and range are INVALID_CONFIG; the answer holds only known names.
 */
export function parseTopicConfig(overrides: Record<string, unknown> | undefined): Partial<TopicConfig> {
  const parsed: Partial<Record<keyof TopicConfig, unknown>> = {};
  if (overrides === undefined) return parsed as Partial<TopicConfig>;
  for (const key of Object.keys(overrides)) {
    const spec = TOPIC_CONFIG_SPECS.get(key as keyof TopicConfig);
    if (spec === undefined) throw unknownTopicConfig(key);
    parsed[key as keyof TopicConfig] = parseValue(key as keyof TopicConfig, spec, overrides[key]);
  }
  return parsed as Partial<TopicConfig>;
}

export function effectiveConfig(overrides: Partial<TopicConfig>): TopicConfig {
  return { ...DEFAULT_TOPIC_CONFIG, ...overrides };
}
