/**
 * Well-formed requests for every operation of the API's OpenAPI document, generated from the JSON
 * Schema of its path and query parameters and bodies (the document is made from the zod schemas
 * the routes validate with, so these are the routes' own shapes). Values lean on the test's topics
 * and groups so requests reach state, and away from legal but costly ones (10,000 partitions, a
 * 20 s long-poll). Binary bodies are real RecordBatch v2 bytes, framed for the multi-partition route.
 */
import fc from "fast-check";
import { encodeRecordBatch } from "../../src/log/record-batch.js";
import { pathSegment } from "./api-state.js";
import { arbitraryFor, type JsonSchema, type SchemaContext } from "./json-schema-arbitrary.js";

export interface Parameter {
  name: string;
  schema: JsonSchema;
  required: boolean;
}

/** One operation of the document: what it takes and which statuses it documents. */
export interface Operation {
  method: string;
  /** `/v1/topics/{topic}` */
  template: string;
  operationId: string;
  pathParams: Parameter[];
  queryParams: Parameter[];
  jsonBody?: JsonSchema;
  binaryMediaType?: string;
  documentedStatuses: ReadonlySet<number>;
}

export type DraftBody =
  | { kind: "json"; value: unknown }
  | { kind: "bytes"; bytes: Uint8Array }
  | { kind: "none" };

/** A request before it is written out: the form mutations work on. */
export interface Draft {
  operation: Operation;
  method: string;
  /** Path segments after the leading `/`, percent-encoded as sent. */
  segments: string[];
  /** `name=value` pairs, percent-encoded as sent. */
  query: string[];
  headers: Record<string, string>;
  body: DraftBody;
}

interface OpenApiOperation {
  operationId: string;
  parameters?: { name: string; in: string; required?: boolean; schema: JsonSchema }[];
  requestBody?: { content: Record<string, { schema: JsonSchema }> };
  responses: Record<string, unknown>;
}

export function operationsOf(document: Record<string, unknown>): Operation[] {
  const paths = document.paths as Record<string, Record<string, OpenApiOperation>>;
  const out: Operation[] = [];
  for (const [template, byMethod] of Object.entries(paths)) {
    for (const [method, op] of Object.entries(byMethod)) {
      const params = op.parameters ?? [];
      const content = op.requestBody?.content ?? {};
      const binaryMediaType = Object.keys(content).find((m) => m !== "application/json");
      out.push({
        method: method.toUpperCase(),
        template,
        operationId: op.operationId,
        pathParams: params
          .filter((p) => p.in === "path")
          .map((p) => ({ name: p.name, schema: p.schema, required: true })),
        queryParams: params
          .filter((p) => p.in === "query")
          .map((p) => ({ name: p.name, schema: p.schema, required: p.required === true })),
        jsonBody: content["application/json"]?.schema,
        binaryMediaType,
        documentedStatuses: new Set(Object.keys(op.responses).map(Number)),
      });
    }
  }
  return out;
}

export interface Pools {
  /** Topics the test created: most requests name one of them. */
  topics: readonly string[];
  /** Groups the test committed offsets for. */
  groups: readonly string[];
}

const CONFIG_VALUES: Record<string, fc.Arbitrary<unknown>> = {
  "cleanup.policy": fc.constantFrom("delete", "compact", "delete,compact"),
  "retention.ms": fc.oneof(fc.constantFrom(-1, 604_800_000), fc.integer({ min: -2, max: 2 ** 31 })),
  "retention.bytes": fc.oneof(fc.constant(-1), fc.integer({ min: -2, max: 2 ** 31 })),
  // Small enough to refuse some records, never so small that every later produce is refused.
  "max.message.bytes": fc.constantFrom(1_048_588, 100_000, 4_000_000),
  "message.timestamp.type": fc.constantFrom("CreateTime", "LogAppendTime"),
};

/** Strings that are JSON text a reader might parse: nested 10,000 deep, with unrepresentable numbers. */
const JSON_TEXTS = [
  `${"[".repeat(10_000)}${"]".repeat(10_000)}`,
  `${'{"a":'.repeat(10_000)}1${"}".repeat(10_000)}`,
  '{"n":1e400,"m":123456789012345678901234567890}',
];

/** The types a schema allows: its `type` (one or a list) and its anyOf members'. */
function typesOf(schema: JsonSchema): Set<string> {
  const types = new Set<string>();
  const type = schema.type;
  for (const t of Array.isArray(type) ? type : type === undefined ? [] : [type]) types.add(String(t));
  for (const member of (schema.anyOf as JsonSchema[] | undefined) ?? []) {
    for (const t of typesOf(member)) types.add(t);
  }
  return types;
}

/** The schema context: pools for names, cheap values for costly fields. */
export function schemaContext(document: Record<string, unknown>, pools: Pools): SchemaContext {
  const components = (document.components as { schemas: Record<string, JsonSchema> }).schemas;
  const context: SchemaContext = {
    // The produce body's refine: an idempotent producer gives all three fields or none.
    together: [["producerId", "producerEpoch", "sequences"]],
    resolve(ref) {
      const id = ref.replace("#/components/schemas/", "");
      const schema = components[id];
      if (!schema) throw new Error(`no component ${ref}`);
      return schema;
    },
    hint(name, schema) {
      const types = typesOf(schema);
      const own = () => arbitraryFor(schema, { resolve: context.resolve });
      const poolOr = (pool: readonly string[]) =>
        fc.oneof({ weight: 8, arbitrary: fc.constantFrom(...pool) }, { weight: 1, arbitrary: own() });
      const smallString = (max: number) => fc.integer({ min: 0, max }).map(String);
      switch (name) {
        case "topic":
        case "name":
          return types.has("string") || schema.$ref ? poolOr(pools.topics) : undefined;
        case "group":
          return poolOr(pools.groups);
        case "partitions":
          // A topic's partition count: a few, not 10,000 (legal, but every later read pays for it).
          return types.has("integer") ? fc.integer({ min: 1, max: 6 }) : undefined;
        case "partition":
          return types.has("integer")
            ? fc.oneof(
                { weight: 4, arbitrary: fc.integer({ min: 0, max: 4 }) },
                { weight: 1, arbitrary: own() },
              )
            : types.has("string")
              ? smallString(4)
              : undefined;
        case "offset": {
          // Mostly where the test topics' records are; sometimes far on, past what wide produces appended.
          const offset = fc.oneof(
            { weight: 3, arbitrary: fc.integer({ min: 0, max: 40 }) },
            { weight: 1, arbitrary: fc.integer({ min: 0, max: 100_000 }) },
          );
          return types.has("integer") ? offset : types.has("string") ? offset.map(String) : undefined;
        }
        case "maxWaitMs":
          // A long-poll holds the request; the tier's time goes to many short requests instead.
          return types.has("integer")
            ? fc.integer({ min: 0, max: 5 })
            : types.has("string")
              ? smallString(5)
              : undefined;
        case "memberEpoch":
          return fc.integer({ min: -2, max: 3 });
        case "subscribedTopicRegex":
          return fc.oneof(fc.constantFrom("fuzz-.*", "", ".*", "fuzz-a", "[", "(a|b"), own());
        case "at":
          return fc.oneof(
            fc.constantFrom("earliest", "latest", "0", "1700000000000", "2024-01-01T00:00:00Z"),
            own(),
          );
        case "value": {
          // A string is a JSON value too, and the only value encoding=string takes; JSON text as a
          // string is what a JSON fetch must still answer once it is stored.
          const texts = fc.constantFrom(...JSON_TEXTS);
          if (schema.$ref) {
            return fc.oneof(
              { weight: 3, arbitrary: own() },
              { weight: 3, arbitrary: fc.string({ maxLength: 24 }) },
              { weight: 2, arbitrary: texts },
            );
          }
          const plainText = types.has("string") && !JSON.stringify(schema).includes("base64");
          return plainText
            ? fc.oneof({ weight: 3, arbitrary: own() }, { weight: 2, arbitrary: texts })
            : undefined;
        }
        case "config":
          return fc
            .array(
              fc.oneof(
                {
                  weight: 6,
                  arbitrary: fc
                    .constantFrom(...Object.keys(CONFIG_VALUES))
                    .chain((key) => CONFIG_VALUES[key].map((value) => [key, value] as const)),
                },
                {
                  weight: 1,
                  arbitrary: fc.tuple(
                    fc.string({ maxLength: 20 }),
                    fc.oneof(fc.string(), fc.integer(), fc.boolean()),
                  ),
                },
              ),
              { maxLength: 3 },
            )
            .map((entries) => Object.fromEntries(entries));
        default:
          return undefined;
      }
    },
  };
  return context;
}

function parameterValue(p: Parameter, context: SchemaContext): fc.Arbitrary<string> {
  return arbitraryFor(p.schema, context, p.name).map((v) => String(v));
}

/** RecordBatch v2 bytes of a few small records, as a client's producer encodes them. */
const recordBatch: fc.Arbitrary<Uint8Array> = fc
  .array(
    fc.record({
      key: fc.option(fc.uint8Array({ maxLength: 8 }), { nil: null }),
      value: fc.option(fc.uint8Array({ maxLength: 32 }), { nil: null }),
    }),
    { minLength: 1, maxLength: 4 },
  )
  .map((records) =>
    encodeRecordBatch(
      records.map((r, i) => ({
        key: r.key,
        value: r.value,
        headers: [],
        timestamp: 1_700_000_000_000 + i,
      })),
    ),
  );

function partitionBatches(pools: Pools): fc.Arbitrary<Uint8Array> {
  const entry = fc
    .tuple(fc.constantFrom(...pools.topics), fc.integer({ min: 0, max: 3 }), recordBatch)
    .map(([topic, partition, batch]) => {
      const name = Buffer.from(topic, "latin1");
      const head = Buffer.alloc(2 + name.length + 8);
      head.writeUInt16BE(name.length, 0);
      name.copy(head, 2);
      head.writeInt32BE(partition, 2 + name.length);
      head.writeInt32BE(batch.length, 6 + name.length);
      return Buffer.concat([head, batch]);
    });
  return fc.array(entry, { minLength: 1, maxLength: 3 }).map((entries) => Buffer.concat(entries));
}

/**
 * A JSON body whose schema depends on a query parameter, as a route's bodyFor makes it (produce's
 * body per `encoding`): the document shows one form, the route validates each value's own.
 */
export interface BodyVariant {
  param: string;
  /** By the parameter's value; a value not listed (or the parameter absent) uses the document's body. */
  schemas: Record<string, JsonSchema>;
}

function bodyFor(
  operation: Operation,
  context: SchemaContext,
  pools: Pools,
  jsonBody = operation.jsonBody,
): fc.Arbitrary<DraftBody> {
  if (jsonBody) {
    return arbitraryFor(jsonBody, context).map((value): DraftBody => ({ kind: "json", value }));
  }
  if (operation.binaryMediaType === "application/vnd.kafka.record-batch.v2") {
    return fc
      .array(recordBatch, { minLength: 1, maxLength: 2 })
      .map((batches): DraftBody => ({ kind: "bytes", bytes: Buffer.concat(batches) }));
  }
  if (operation.binaryMediaType) {
    return partitionBatches(pools).map((bytes): DraftBody => ({ kind: "bytes", bytes }));
  }
  return fc.constant<DraftBody>({ kind: "none" });
}

/** A well-formed request for the operation: the values may still name what does not exist. */
export function draftFor(
  operation: Operation,
  context: SchemaContext,
  pools: Pools,
  variant?: BodyVariant,
): fc.Arbitrary<Draft> {
  const templateSegments = operation.template.split("/").slice(1);
  const pathValues = fc.tuple(...operation.pathParams.map((p) => parameterValue(p, context)));
  const query = fc.tuple(
    ...operation.queryParams.map((p) => {
      const pair = parameterValue(p, context).map(
        (v) => `${encodeURIComponent(p.name)}=${encodeURIComponent(v)}`,
      );
      return p.required ? pair.map((s): string | undefined => s) : fc.option(pair, { nil: undefined });
    }),
  );
  const accept =
    operation.method === "GET" && operation.template.endsWith("/records")
      ? fc.constantFrom<string | undefined>(undefined, undefined, "application/vnd.kafka.record-batch.v2")
      : fc.constant<string | undefined>(undefined);
  const body = (pairs: (string | undefined)[]) => {
    if (!variant) return bodyFor(operation, context, pools);
    const chosen = pairs.find((p) => p?.startsWith(`${encodeURIComponent(variant.param)}=`));
    const value =
      chosen === undefined ? undefined : decodeURIComponent(chosen.slice(chosen.indexOf("=") + 1));
    return bodyFor(operation, context, pools, (value && variant.schemas[value]) || operation.jsonBody);
  };
  return fc
    .tuple(pathValues, query, accept)
    .chain(([values, pairs, acceptHeader]) =>
      body(pairs).map((b) => [values, pairs, b, acceptHeader] as const),
    )
    .map(([values, pairs, body, acceptHeader]): Draft => {
      const byName = new Map(operation.pathParams.map((p, i) => [p.name, values[i]]));
      const segments = templateSegments.map((s) =>
        s.startsWith("{") && s.endsWith("}") ? pathSegment(byName.get(s.slice(1, -1)) ?? "") : s,
      );
      const headers: Record<string, string> = {};
      if (body.kind === "json") headers["content-type"] = "application/json";
      if (body.kind === "bytes" && operation.binaryMediaType)
        headers["content-type"] = operation.binaryMediaType;
      if (acceptHeader) headers.accept = acceptHeader;
      return {
        operation,
        method: operation.method,
        segments,
        query: pairs.filter((p): p is string => p !== undefined),
        headers,
        body,
      };
    });
}
