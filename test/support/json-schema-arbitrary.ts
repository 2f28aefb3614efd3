/**
 * fast-check arbitraries for JSON Schema 2020-12 as zod's z.toJSONSchema emits it (the OpenAPI
 * document's dialect): $ref into components, anyOf/oneOf, const, enum, type (or a list of types),
 * integer and number bounds, string lengths, patterns and date-time, objects with required and
 * additional properties, arrays with item counts, and the empty schema as any JSON value. Keywords
 * it does not know are ignored, so a schema gaining one still generates.
 *
 * No npm package generates from zod 4 or from this dialect into fast-check (json-schema-faker is
 * random without shrinking, zod-fast-check is for zod 3), so the API's fuzz tier uses this.
 */
import fc from "fast-check";

export type JsonSchema = Record<string, unknown>;

export interface SchemaContext {
  /** The schema a `$ref` names (`#/components/schemas/X`). */
  resolve(ref: string): JsonSchema;
  /**
   * An arbitrary to use instead of the schema's own for a named property (or parameter), to keep
   * values where the server has state (the test's topics and groups) or where a legal value is
   * costly (a topic of 10,000 partitions, a 20 s long-poll). Undefined: generate from the schema.
   */
  hint?(name: string, schema: JsonSchema): fc.Arbitrary<unknown> | undefined;
  /**
   * Optional properties that go together, all present or all absent: a rule the schema's source
   * states (a zod refine) but JSON Schema does not carry, so independent choices would break it
   * three times in four.
   */
  together?: readonly (readonly string[])[];
}

/** Items, keys and nesting kept small: the tier sends thousands of requests in a minute. */
const MAX_ITEMS = 4;
const MAX_DEPTH = 3;

export function arbitraryFor(
  schema: JsonSchema,
  context: SchemaContext,
  name?: string,
): fc.Arbitrary<unknown> {
  if (name !== undefined) {
    const hinted = context.hint?.(name, schema);
    if (hinted) return hinted;
  }
  if (typeof schema.$ref === "string") return arbitraryFor(context.resolve(schema.$ref), context, undefined);
  const union = (schema.anyOf ?? schema.oneOf) as JsonSchema[] | undefined;
  if (union) return fc.oneof(...union.map((s) => arbitraryFor(s, context)));
  if (Array.isArray(schema.allOf)) return arbitraryFor(mergeAllOf(schema, context), context);
  if ("const" in schema) return fc.constant(schema.const);
  if (Array.isArray(schema.enum)) return fc.constantFrom(...(schema.enum as unknown[]));
  const type = schema.type;
  if (Array.isArray(type)) return fc.oneof(...type.map((t) => arbitraryFor({ ...schema, type: t }, context)));
  switch (type) {
    case "null":
      return fc.constant(null);
    case "boolean":
      return fc.boolean();
    case "integer":
      return integerIn(schema);
    case "number":
      return numberIn(schema);
    case "string":
      return stringFor(schema);
    case "array":
      return arrayFor(schema, context);
    case "object":
      return objectFor(schema, context);
    default:
      return fc.jsonValue({ maxDepth: MAX_DEPTH });
  }
}

/** allOf as one schema: its parts' keywords together, every pattern kept (zod writes two for a date-time). */
function mergeAllOf(schema: JsonSchema, context: SchemaContext): JsonSchema {
  const { allOf, ...merged } = schema as JsonSchema & { allOf: JsonSchema[] };
  const patterns = typeof merged.pattern === "string" ? [merged.pattern] : [];
  for (const part of allOf) {
    const { pattern, ...rest } = typeof part.$ref === "string" ? context.resolve(part.$ref) : part;
    if (typeof pattern === "string") patterns.push(pattern);
    Object.assign(merged, rest);
  }
  if (patterns.length > 0) merged.pattern = patterns[0];
  if (patterns.length > 1) merged["x-patterns"] = patterns.slice(1);
  return merged;
}

function bound(schema: JsonSchema, key: string): number | undefined {
  const v = schema[key];
  return typeof v === "number" ? v : undefined;
}

/** Integers within the schema's bounds, small values and the bounds themselves often. */
function integerIn(schema: JsonSchema): fc.Arbitrary<number> {
  const exMin = bound(schema, "exclusiveMinimum");
  const exMax = bound(schema, "exclusiveMaximum");
  const min = Math.max(
    bound(schema, "minimum") ?? Number.MIN_SAFE_INTEGER,
    exMin === undefined ? Number.MIN_SAFE_INTEGER : Math.floor(exMin) + 1,
  );
  const max = Math.min(
    bound(schema, "maximum") ?? Number.MAX_SAFE_INTEGER,
    exMax === undefined ? Number.MAX_SAFE_INTEGER : Math.ceil(exMax) - 1,
  );
  const whole = fc.bigInt({ min: BigInt(min), max: BigInt(max) }).map(Number);
  const lowFrom = Math.max(min, -2);
  const small = fc.integer({ min: lowFrom, max: Math.min(max, lowFrom + 20) });
  return fc.oneof(
    { weight: 4, arbitrary: small },
    { weight: 1, arbitrary: fc.constantFrom(min, max) },
    { weight: 1, arbitrary: whole },
  );
}

function numberIn(schema: JsonSchema): fc.Arbitrary<number> {
  return fc.double({
    min: bound(schema, "minimum") ?? bound(schema, "exclusiveMinimum") ?? -1e12,
    max: bound(schema, "maximum") ?? bound(schema, "exclusiveMaximum") ?? 1e12,
    minExcluded: bound(schema, "exclusiveMinimum") !== undefined,
    maxExcluded: bound(schema, "exclusiveMaximum") !== undefined,
    noNaN: true,
    noDefaultInfinity: true,
  });
}

function stringFor(schema: JsonSchema): fc.Arbitrary<string> {
  const minLength = bound(schema, "minLength") ?? 0;
  const maxLength = Math.min(bound(schema, "maxLength") ?? 24, 249);
  const others = ((schema["x-patterns"] as string[] | undefined) ?? []).map((p) => new RegExp(p));
  const inLength = (s: string) =>
    s.length >= minLength && s.length <= maxLength && others.every((p) => p.test(s));
  if (schema.format === "date-time") {
    return fc
      .date({ min: new Date(0), max: new Date(Date.UTC(2100, 0)), noInvalidDate: true })
      .map((d) => d.toISOString());
  }
  if (schema.contentEncoding === "base64" || schema.format === "byte" || schema.format === "base64") {
    return fc.uint8Array({ maxLength: 24 }).map((b) => Buffer.from(b).toString("base64"));
  }
  if (typeof schema.pattern === "string") {
    // A pattern that does not anchor both ends (zod's regexes do) is anchored here, so lengths hold.
    const source = schema.pattern;
    return fc.stringMatching(new RegExp(source)).filter(inLength);
  }
  return fc.string({ minLength, maxLength: Math.max(minLength, Math.min(maxLength, 24)), unit: "grapheme" });
}

function arrayFor(schema: JsonSchema, context: SchemaContext): fc.Arbitrary<unknown[]> {
  const items = (schema.items as JsonSchema | undefined) ?? {};
  const minLength = bound(schema, "minItems") ?? 0;
  const maxLength = Math.max(minLength, Math.min(bound(schema, "maxItems") ?? MAX_ITEMS, MAX_ITEMS));
  return fc.array(arbitraryFor(items, context), { minLength, maxLength });
}

function objectFor(schema: JsonSchema, context: SchemaContext): fc.Arbitrary<Record<string, unknown>> {
  const properties = (schema.properties as Record<string, JsonSchema> | undefined) ?? {};
  const required = new Set((schema.required as string[] | undefined) ?? []);
  const names = Object.keys(properties);
  const additional = schema.additionalProperties;
  if (names.length === 0 && additional && typeof additional === "object") {
    // A record (z.record): its keys are the property names a map uses (config keys, header names).
    const keys = (schema.propertyNames as JsonSchema | undefined) ?? { type: "string" };
    return fc.dictionary(
      arbitraryFor(keys, context, "propertyName") as fc.Arbitrary<string>,
      arbitraryFor(additional as JsonSchema, context),
      { maxKeys: MAX_ITEMS },
    );
  }
  const groups = (context.together ?? []).filter(
    (g) => g.every((n) => names.includes(n)) && !g.some((n) => required.has(n)),
  );
  const grouped = new Set(groups.flat());
  const model: Record<string, fc.Arbitrary<unknown>> = {};
  for (const name of names) {
    if (!grouped.has(name)) model[name] = arbitraryFor(properties[name], context, name);
  }
  const alone = fc.record(model, { requiredKeys: names.filter((n) => required.has(n)) }) as fc.Arbitrary<
    Record<string, unknown>
  >;
  if (groups.length === 0) return alone;
  const together = groups.map((g) =>
    fc.option(fc.record(Object.fromEntries(g.map((n) => [n, arbitraryFor(properties[n], context, n)]))), {
      nil: undefined,
      freq: 2,
    }),
  );
  return fc
    .tuple(alone, ...together)
    .map(([rest, ...parts]) => Object.assign(rest, ...parts.filter((p) => p !== undefined)));
}
