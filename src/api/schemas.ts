import { z } from "zod";
import {
  decimalPattern,
  MAX_PARTITIONS,
  MAX_TOPIC_NAME_LENGTH,
  TOPIC_CONFIG_KEYS,
  TOPIC_CONFIG_SPECS,
  type TopicConfigSpec,
} from "../broker/topic-config.js";
import { MAX_HEADERS_PER_RECORD, MAX_JSON_DEPTH } from "./json-text.js";
import { ENCODINGS, type Encoding, parsedValue } from "./record-encoding.js";

/**
 * Every request and response shape of the v1 API, once: the routes validate with these and the
 * OpenAPI document is generated from them, so the two cannot drift apart.
 */
export const apiSchemas = z.registry<{ id: string }>();

/** A schema that becomes a named component of the OpenAPI document. */
export function named<S extends z.ZodType>(id: string, schema: S, description?: string): S {
  // Descriptions go through describe() (zod's global registry), where the generator reads them.
  const described = description === undefined ? schema : (schema.describe(description) as S);
  apiSchemas.add(described, { id });
  return described;
}

/** Lambda's synchronous payload limit: API Gateway hands no larger body to a function. */
export const MAX_BODY_BYTES = 6 * 1024 * 1024;
/** The server's cap on a long-poll (Kafka's fetch.max.wait.ms is client-set; the server bounds it). */
export const MAX_WAIT_MS = 20_000;
/**
 * The most record bytes one fetch answers with: base64 inflates by 4/3 and JSON adds framing, and the
 * answer must still fit Lambda's 6 MB response payload.
 */
export const MAX_FETCH_BYTES = 4 * 1024 * 1024;
/** Partitions one POST /v1/fetch may name. */
export const MAX_FETCH_PARTITIONS = 1000;

const required = (what: string) => ({
  error: (issue: { input?: unknown }) => (issue.input === undefined ? `${what} is required` : undefined),
});

// ---------------------------------------------------------------------------------------------
// Shared pieces

export const TopicName = named(
  "TopicName",
  z
    .string(required("topic name"))
    .min(1)
    .max(MAX_TOPIC_NAME_LENGTH)
    .regex(/^[a-zA-Z0-9._-]+$/, "topic names may contain only ASCII letters, digits, '.', '_' and '-'")
    // A pattern rather than a refinement, so the OpenAPI document says it too.
    .regex(/^(?!\.\.?$)/, 'a topic cannot be named "." or ".."'),
  "Kafka's rules: 1-249 characters of [a-zA-Z0-9._-], not '.' or '..'.",
);

const Offset = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const PartitionNumber = z
  .number()
  .int()
  .min(0)
  .max(MAX_PARTITIONS - 1);

/**
 * An integer from `min` (0 or 1) to `max` carried as a query or path string. The range is in the
 * pattern itself, so the OpenAPI document states exactly which strings are accepted.
 */
function integerString(what: string, min = 0, max = Number.MAX_SAFE_INTEGER) {
  return z
    .string(required(what))
    .regex(new RegExp(decimalPattern(min, max)), `${what} must be an integer from ${min} to ${max}`)
    .transform(Number);
}

/**
 * An ISO-8601 date-time with an offset, no earlier than 1970-01-01T00:00:00Z: Kafka's timestamps are
 * milliseconds since the epoch and a negative one is refused, so the pattern refuses years before
 * 1970 and, on 1970-01-01, positive offsets (which can fall before the epoch).
 */
export const EpochDateTime = z.iso
  .datetime({ offset: true })
  .regex(
    /^(?!1970-01-01T[^+]*\+(?!00:?00$))(?:19[7-9]\d|[2-9]\d{3})-/,
    "must be a date-time no earlier than 1970-01-01T00:00:00Z",
  );

export const EncodingParam = z
  .enum(ENCODINGS, { error: `encoding must be one of ${ENCODINGS.join(", ")}` })
  .default("json")
  .describe(
    "How keys, values and header values are carried: json (value is any JSON value, key a UTF-8 string), string (UTF-8 text) or base64 (arbitrary bytes).",
  );

export const ErrorDetail = named(
  "ErrorDetail",
  z.object({
    code: z.string().describe("Kafka's error name, e.g. UNKNOWN_TOPIC_OR_PARTITION"),
    message: z.string(),
    retriable: z.boolean(),
  }),
);

export const ErrorResponse = named("ErrorResponse", z.object({ error: ErrorDetail }));

export const JsonValue = named(
  "JsonValue",
  z.custom<unknown>((value) => value !== undefined, {
    error: "value is required (use null for a tombstone)",
  }),
  `Any JSON value, nested at most ${MAX_JSON_DEPTH} deep. Produced with encoding=json, it is stored as the exact text sent ` +
    "(numbers such as 1e400 or 123456789012345678901234567890 kept as written, whitespace inside the value kept) and " +
    "fetched as that same text.",
);

// ---------------------------------------------------------------------------------------------
// Path parameters

export const TopicParams = z.object({ topic: TopicName });
export const PartitionParams = z.object({
  topic: TopicName,
  partition: integerString("partition", 0, MAX_PARTITIONS - 1),
});

// ---------------------------------------------------------------------------------------------
// Topics

const ConfigValue = z.union([z.string(), z.number(), z.boolean()]);

/**
 * One topic config's value as Kafka's LogConfig types it: an INT or LONG as a JSON integer or its
 * decimal text (as Kafka's tools send it), both within Kafka's range; a STRING or LIST config as
 * one of its values. parseTopicConfig (the broker's check) accepts exactly these.
 */
function topicConfigValue(spec: TopicConfigSpec) {
  if ("values" in spec) return z.enum(spec.values as [string, ...string[]]);
  return z.union([
    z.number().int().min(spec.min).max(spec.max),
    z
      .string()
      .regex(
        new RegExp(decimalPattern(spec.min, spec.max)),
        `must be an integer from ${spec.min} to ${spec.max}`,
      ),
  ]);
}

/** Topic config overrides by Kafka's names: no other key is accepted (INVALID_CONFIG). */
function topicConfigs(nullable: boolean) {
  const shape: Record<string, z.ZodType> = {};
  for (const key of TOPIC_CONFIG_KEYS) {
    const value = topicConfigValue(TOPIC_CONFIG_SPECS.get(key) as TopicConfigSpec);
    shape[key] = (nullable ? value.nullable() : value).optional();
  }
  return z.strictObject(shape);
}

export const TopicConfigOverrides = named(
  "TopicConfigOverrides",
  topicConfigs(false),
  `Topic config overrides with Kafka's names, types and ranges: ${TOPIC_CONFIG_KEYS.join(", ")}.`,
);

export const TopicConfigChanges = named(
  "TopicConfigChanges",
  topicConfigs(true),
  "Overrides to set, by Kafka's names, types and ranges; null reverts a key to its default.",
);

export const CreateTopicRequest = named(
  "CreateTopicRequest",
  z.strictObject({
    name: TopicName,
    partitions: z
      .number()
      .int()
      .min(1)
      .max(MAX_PARTITIONS)
      .default(1)
      .describe("Partition count; default 1 (Kafka's num.partitions)."),
    config: TopicConfigOverrides.optional(),
    replicationFactor: z
      .number()
      .int()
      .optional()
      .describe("Accepted for familiarity and ignored: object storage keeps the replicas."),
  }),
);

export const UpdateTopicRequest = named(
  "UpdateTopicRequest",
  z
    .strictObject({
      partitions: z
        .number()
        .int()
        .min(1)
        .max(MAX_PARTITIONS)
        .optional()
        .describe("New partition count; partitions can only be added."),
      config: TopicConfigChanges.optional(),
    })
    .refine((change) => change.partitions !== undefined || change.config !== undefined, {
      message: "give partitions, config or both",
    }),
);

export const PartitionDescription = named(
  "PartitionDescription",
  z.object({
    partition: z.number().int(),
    logStartOffset: z.number().int(),
    highWatermark: z.number().int().describe("The offset the next record will get."),
    bytes: z.number().int(),
    leaderEpoch: z
      .number()
      .int()
      .describe("Bumped each time a maintenance worker takes the partition's lease."),
    leaseOwner: z
      .string()
      .nullable()
      .describe("The maintenance worker holding the partition's lease right now, if any."),
  }),
);

export const TopicDescription = named(
  "TopicDescription",
  z.object({
    name: z.string(),
    topicId: z.string(),
    partitions: z.array(PartitionDescription),
    config: z.record(z.string(), ConfigValue).describe("Effective config: overrides over Kafka's defaults."),
    configOverrides: z.record(z.string(), ConfigValue),
    createdAt: z.number().int(),
  }),
);

export const TopicList = named("TopicList", z.object({ topics: z.array(z.string()) }));

// ---------------------------------------------------------------------------------------------
// Produce

const Timestamp = z
  .union([z.number().int().min(0).max(Number.MAX_SAFE_INTEGER), EpochDateTime])
  .describe("Milliseconds since the epoch or an ISO-8601 date-time; the server's clock when absent.");

function produceRecord(text: () => z.ZodType<string, string>, value: z.ZodType) {
  return z.strictObject({
    key: text().nullable().optional(),
    value,
    headers: z
      .record(z.string(), text().nullable())
      .nullable()
      .optional()
      .describe(
        `At most ${MAX_HEADERS_PER_RECORD} headers per record (Floe's limit; a request past it is refused while it is read).`,
      ),
    partition: PartitionNumber.nullable()
      .optional()
      .describe(
        "Explicit partition; otherwise murmur2(key) mod N as Kafka's default partitioner, or sticky for null keys.",
      ),
    timestamp: Timestamp.nullable().optional(),
  });
}

const base64Text = () => z.base64("must be base64");
const utf8Text = () => z.string();

export const ProduceRecord = named("ProduceRecord", produceRecord(utf8Text, JsonValue));

/** Kafka's int32 sequence space: sequences wrap to 0 after 2^31 - 1. */
const MAX_SEQUENCE = 2 ** 31 - 1;
/** Kafka's producer epoch is an int16. */
const MAX_PRODUCER_EPOCH = 32767;

export const ProducerSequence = named(
  "ProducerSequence",
  z.strictObject({
    partition: PartitionNumber,
    baseSequence: z
      .number()
      .int()
      .min(0)
      .max(MAX_SEQUENCE)
      .describe("The sequence of this request's first record on the partition (Kafka's baseSequence)."),
  }),
);

function produceRequest<R extends z.ZodType>(record: R) {
  return z
    .strictObject({
      records: z.array(record, required("records")).min(1, "at least one record is required"),
      producerId: z
        .number()
        .int()
        .min(0)
        .max(Number.MAX_SAFE_INTEGER)
        .optional()
        .describe("Idempotent producer (KIP-98): the id from POST /v1/producers."),
      producerEpoch: z
        .number()
        .int()
        .min(0)
        .max(MAX_PRODUCER_EPOCH)
        .optional()
        .describe("Idempotent producer: the epoch from POST /v1/producers."),
      sequences: z
        .array(ProducerSequence)
        .min(1)
        .optional()
        .describe(
          "Idempotent producer: one entry per partition the records go to (each record then needs a key or an explicit partition). " +
            "A retry with the same sequences answers the original offsets and appends nothing.",
        ),
    })
    .refine(
      (r) =>
        (r.producerId === undefined) === (r.producerEpoch === undefined) &&
        (r.producerId === undefined) === (r.sequences === undefined),
      { message: "producerId, producerEpoch and sequences go together: give all three or none" },
    );
}

export const ProduceRequest = named("ProduceRequest", produceRequest(ProduceRecord));

/** The produce body per encoding: the documented json form accepts any value; the others only text. */
export const produceRequestFor: Record<Encoding, z.ZodType<z.output<typeof ProduceRequest>>> = {
  json: ProduceRequest,
  // json-body hands each value over with its source text; these encodings check the value itself.
  string: produceRequest(
    produceRecord(utf8Text, z.preprocess(parsedValue, z.string(required("value")).nullable())),
  ),
  base64: produceRequest(
    produceRecord(base64Text, z.preprocess(parsedValue, z.base64({ ...required("value") }).nullable())),
  ),
};

export const RecordOffset = named(
  "RecordOffset",
  z.object({ partition: z.number().int(), offset: z.number().int() }),
);

export const RecordFailure = named(
  "RecordFailure",
  z.object({ partition: z.number().int(), error: ErrorDetail }),
  "A record whose partition failed while others of the request were appended (Kafka's per-partition produce error).",
);

export const ProduceResponse = named(
  "ProduceResponse",
  z.object({
    offsets: z
      .array(z.union([RecordOffset, RecordFailure]))
      .describe(
        "One per record, in request order. A request spanning more partitions than one commit holds may be appended in part: " +
          "then the records of a failed partition answer {partition, error} instead of {partition, offset}.",
      ),
  }),
);

// ---------------------------------------------------------------------------------------------
// Idempotent producer (InitProducerId)

export const InitProducerRequest = named(
  "InitProducerRequest",
  z.strictObject({
    transactionalId: z
      .string()
      .nullable()
      .optional()
      .describe(
        "Kafka's transactional.id: initialising the same name again keeps the producer id and bumps its epoch, fencing the previous instance. " +
          "Without it, a new producer id at epoch 0.",
      ),
  }),
);

export const InitProducerResponse = named(
  "InitProducerResponse",
  z.object({
    producerId: z.number().int(),
    producerEpoch: z.number().int(),
  }),
);

// ---------------------------------------------------------------------------------------------
// Metadata

export const DescribeTopicQuery = z.object({
  allowAutoTopicCreation: z
    .enum(["true", "false"], { error: "allowAutoTopicCreation must be true or false" })
    .optional()
    .transform((v) => v === "true")
    .describe(
      "Kafka's MetadataRequest.allow_auto_topic_creation: when the server auto-creates topics (floe dev), a missing topic is created with the default partitions and described.",
    ),
});

export const ProduceQuery = z.object({ encoding: EncodingParam });

// ---------------------------------------------------------------------------------------------
// Fetch

export const FetchQuery = z.object({
  offset: integerString("offset").describe("First offset to return."),
  maxRecords: integerString("maxRecords", 1).optional().describe("Default 500 (Kafka's max.poll.records)."),
  maxBytes: integerString("maxBytes", 1)
    .optional()
    .transform((n) => (n === undefined ? undefined : Math.min(n, MAX_FETCH_BYTES)))
    .describe("Default 1 MiB, capped at 4 MiB; at least one record is always returned."),
  maxWaitMs: integerString("maxWaitMs")
    .optional()
    .transform((n) => (n === undefined ? undefined : Math.min(n, MAX_WAIT_MS)))
    .describe("Long-poll at the high-water mark for up to this long; default 0, capped at 20000."),
  encoding: EncodingParam,
});

export const FetchedRecord = named(
  "FetchedRecord",
  z.object({
    offset: z.number().int(),
    timestamp: z.number().int(),
    key: z.string().nullable(),
    value: JsonValue.describe(
      "Under encoding=json the stored JSON text itself, spliced into the answer as it was written; else a string; null for a tombstone. " +
        "A value the encoding cannot show comes back readable instead, with valueEncoding saying how.",
    ),
    headers: z.record(z.string(), z.string().nullable()),
    keyEncoding: z
      .literal("base64")
      .optional()
      .describe("Present when the key is not UTF-8 (under json or string): key is then its base64."),
    valueEncoding: z
      .enum(["string", "base64"])
      .optional()
      .describe(
        `Present when the value cannot be shown in the encoding asked for: under json, "string" for UTF-8 text that is not ` +
          `JSON (or is nested deeper than ${MAX_JSON_DEPTH}, or escapes a lone surrogate), value then being that text as a ` +
          `JSON string; "base64" (json or string) for bytes that are not UTF-8.`,
      ),
    headersEncoding: z
      .literal("base64")
      .optional()
      .describe(
        "Present when a header value is not UTF-8 (under json or string): every header value is then base64.",
      ),
  }),
  "A record as fetched. Bytes that the encoding asked for cannot show never fail the fetch: they come back in a form that can be read, with a field saying which.",
);

export const PartitionRecords = named(
  "PartitionRecords",
  z.object({
    topic: z.string(),
    partition: z.number().int(),
    records: z.array(FetchedRecord),
    nextOffset: z.number().int().describe("The offset to fetch next."),
    highWatermark: z.number().int(),
    logStartOffset: z.number().int(),
  }),
);

export const PartitionError = named(
  "PartitionError",
  z.object({ topic: z.string(), partition: z.number().int(), error: ErrorDetail }),
);

/** Kafka's FetchRequest byte fields are int32: a count of bytes from 0 to 2^31 - 1. */
const int32Bytes = () => z.number().int().min(0).max(2_147_483_647).optional();

export const FetchManyRequest = named(
  "FetchManyRequest",
  z.strictObject({
    partitions: z
      .array(
        z.strictObject({
          topic: TopicName,
          partition: PartitionNumber,
          offset: Offset,
          maxBytes: int32Bytes().describe(
            "Kafka's partition_max_bytes for this partition: bytes of records it may answer (each record's JSON object as written); default partitionMaxBytes.",
          ),
        }),
        required("partitions"),
      )
      .min(1, "name at least one partition")
      .max(MAX_FETCH_PARTITIONS),
    maxWaitMs: z
      .number()
      .int()
      .min(0)
      .optional()
      .transform((n) => (n === undefined ? undefined : Math.min(n, MAX_WAIT_MS)))
      .describe(
        "Wait up to this long for minBytes of records (Kafka's max_wait_ms); default 0, capped at 20000.",
      ),
    minBytes: int32Bytes().describe(
      "Kafka's min_bytes: answer once at least this many record bytes are ready across the partitions (or maxBytes, if smaller), " +
        "or maxWaitMs has passed, or a partition failed. Default 1: as soon as any partition has a record; 0 never waits. " +
        "A record counts its size on the wire (at least 7 bytes, so tombstones are not free), as against maxBytes.",
    ),
    maxBytes: z
      .number()
      .int()
      .min(1)
      .optional()
      .transform((n) => Math.min(n ?? MAX_FETCH_BYTES, MAX_FETCH_BYTES))
      .describe(
        "Kafka's max_bytes: bytes of records across all partitions as written in the answer (each record's JSON object, base64 " +
          "and framing included; each partition's own fields are not counted); default and cap 4 MiB. As in Kafka, the first record " +
          "of the first partition with records is returned even when larger than this or its partition limit, so a consumer always " +
          "progresses. A partition cut short answers nextOffset at the first record left out. No answer exceeds Lambda's 6 MB: " +
          "a record too large to fit one alone answers its partition RECORD_TOO_LARGE.",
      ),
    partitionMaxBytes: int32Bytes()
      .transform((n) => (n === undefined ? undefined : Math.min(n, MAX_FETCH_BYTES)))
      .describe(
        "Kafka's partition_max_bytes (the consumer's max.partition.fetch.bytes) for every partition without its own maxBytes: " +
          "bytes of records one partition may answer, as maxBytes counts them, within maxBytes; default no limit but maxBytes. A partition after the first " +
          "with records answers only whole records within both limits.",
      ),
    maxRecords: z.number().int().min(1).optional().describe("Per partition; default 500."),
  }),
);

export const FetchManyQuery = z.object({ encoding: EncodingParam });

export const FetchManyResponse = named(
  "FetchManyResponse",
  z.object({
    partitions: z
      .array(z.union([PartitionRecords, PartitionError]))
      .describe("One per requested partition, in request order; errors are per partition."),
  }),
);

// ---------------------------------------------------------------------------------------------
// List offsets

export type OffsetAt = "earliest" | "latest" | { timestamp: number };

export const ListOffsetsQuery = z.object({
  at: z
    .union(
      [z.enum(["earliest", "latest"]), integerString("at"), EpochDateTime.transform((at) => Date.parse(at))],
      {
        error: "at must be earliest, latest, milliseconds since the epoch or an ISO-8601 date-time from 1970",
      },
    )
    .default("latest")
    .transform((at): OffsetAt => (typeof at === "number" ? { timestamp: at } : at))
    .describe(
      "earliest (log start), latest (high-water mark, the default), or a time (ms since the epoch, or an ISO-8601 date-time from 1970): the first offset whose timestamp is at or after it.",
    ),
});

export const ListedOffset = named(
  "ListedOffset",
  z.object({
    topic: z.string(),
    partition: z.number().int(),
    offset: z.number().int(),
    timestamp: z
      .number()
      .int()
      .nullable()
      .describe(
        "The found record's timestamp for a time query; null otherwise, or when no record is that late.",
      ),
  }),
);

// ---------------------------------------------------------------------------------------------
// Health

const Check = z.object({ status: z.enum(["ok", "error"]), error: ErrorDetail.optional() });

export const HealthResponse = named(
  "HealthResponse",
  z.object({
    status: z.enum(["ok", "unavailable"]),
    checks: z.object({ metaStore: Check, objectStore: Check }),
    error: ErrorDetail.optional().describe("Present when unavailable: the first failing check's error."),
  }),
);
