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

type Parser = (raw: unknown, key: string) => TopicConfig[keyof TopicConfig];

function integer(min: number): Parser {
  return (raw, key) => {
    const n = typeof raw === "string" && raw.trim() !== "" ? Number(raw) : raw;
    if (typeof n !== "number" || !Number.isSafeInteger(n) || n < min) {
      throw new FloeError(
        "INVALID_CONFIG",
        `Invalid value ${JSON.stringify(raw)} for ${key}: expected an integer >= ${min}`,
      );
    }
    return n;
  };
}

function oneOf(...values: string[]): Parser {
  return (raw, key) => {
    if (typeof raw !== "string" || !values.includes(raw)) {
      throw new FloeError(
        "INVALID_CONFIG",
        `Invalid value ${JSON.stringify(raw)} for ${key}: expected one of ${values.join(", ")}`,
      );
    }
    return raw as TopicConfig["cleanup.policy" | "message.timestamp.type"];
  };
}

const PARSERS: Record<keyof TopicConfig, Parser> = {
  "cleanup.policy": oneOf("delete", "compact"),
  "retention.ms": integer(-1),
  "retention.bytes": integer(-1),
  "max.message.bytes": integer(0),
  "message.timestamp.type": oneOf("CreateTime", "LogAppendTime"),
};

/** Parses user-supplied overrides (strings or numbers, as Kafka tools send them). */
export function parseTopicConfig(overrides: Record<string, unknown> | undefined): Partial<TopicConfig> {
  const parsed: Partial<Record<keyof TopicConfig, unknown>> = {};
  for (const [key, raw] of Object.entries(overrides ?? {})) {
    const parse = PARSERS[key as keyof TopicConfig];
    if (!parse) {
      throw new FloeError(
        "INVALID_CONFIG",
        `Unknown topic config "${key}"; supported: ${Object.keys(PARSERS).join(", ")}`,
      );
    }
    parsed[key as keyof TopicConfig] = parse(raw, key);
  }
  return parsed as Partial<TopicConfig>;
}

export function effectiveConfig(overrides: Partial<TopicConfig>): TopicConfig {
  return { ...DEFAULT_TOPIC_CONFIG, ...overrides };
}
