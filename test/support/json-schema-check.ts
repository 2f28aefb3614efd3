/**
 * A small JSON Schema 2020-12 checker for the keywords the OpenAPI document uses (what zod's
 * toJSONSchema emits, plus if/then/else), so a test can ask "does the document accept this?"
 * independently of the zod schemas the server validates with. Formats are not checked: zod also
 * emits a pattern for every format it uses.
 */

type Schema = Record<string, unknown> | boolean;

function typeOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
  return typeof value;
}

function typeMatches(expected: string, value: unknown): boolean {
  const actual = typeOf(value);
  return actual === expected || (expected === "number" && actual === "integer");
}

/** ECMA-262 with the u flag, as JSON Schema says; without it where a pattern is not valid unicode-mode syntax. */
function patternOf(source: string): RegExp {
  try {
    return new RegExp(source, "u");
  } catch {
    return new RegExp(source);
  }
}

function deepEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Every reason `value` fails `schema` (empty when it passes); `$ref`s resolve against `root`. */
export function schemaErrors(schema: Schema, value: unknown, root: unknown, at = "$"): string[] {
  if (schema === true) return [];
  if (schema === false) return [`${at}: no value is allowed`];
  const s = schema as Record<string, unknown>;
  const errors: string[] = [];
  const fail = (why: string) => errors.push(`${at}: ${why}`);

  if (typeof s.$ref === "string") {
    const target = s.$ref
      .replace(/^#\//, "")
      .split("/")
      .reduce<unknown>((node, key) => (node as Record<string, unknown>)?.[key], root);
    if (target === undefined) fail(`unresolved ${s.$ref}`);
    else errors.push(...schemaErrors(target as Schema, value, root, at));
  }
  if (s.type !== undefined) {
    const types = Array.isArray(s.type) ? (s.type as string[]) : [s.type as string];
    if (!types.some((t) => typeMatches(t, value))) fail(`expected ${types.join("|")}, got ${typeOf(value)}`);
  }
  if (Array.isArray(s.enum) && !s.enum.some((e) => deepEqual(e, value))) fail("not one of the enum");
  if ("const" in s && !deepEqual(s.const, value)) fail(`not ${JSON.stringify(s.const)}`);

  if (typeof value === "string") {
    const length = [...value].length;
    if (typeof s.minLength === "number" && length < s.minLength) fail(`shorter than ${s.minLength}`);
    if (typeof s.maxLength === "number" && length > s.maxLength) fail(`longer than ${s.maxLength}`);
    if (typeof s.pattern === "string" && !patternOf(s.pattern).test(value))
      fail(`does not match ${s.pattern}`);
  }
  if (typeof value === "number") {
    if (typeof s.minimum === "number" && value < s.minimum) fail(`below ${s.minimum}`);
    if (typeof s.maximum === "number" && value > s.maximum) fail(`above ${s.maximum}`);
    if (typeof s.exclusiveMinimum === "number" && value <= s.exclusiveMinimum)
      fail(`not above ${s.exclusiveMinimum}`);
    if (typeof s.exclusiveMaximum === "number" && value >= s.exclusiveMaximum)
      fail(`not below ${s.exclusiveMaximum}`);
  }
  if (Array.isArray(value)) {
    if (typeof s.minItems === "number" && value.length < s.minItems) fail(`fewer than ${s.minItems} items`);
    if (typeof s.maxItems === "number" && value.length > s.maxItems) fail(`more than ${s.maxItems} items`);
    if (s.items !== undefined) {
      value.forEach((item, i) => {
        errors.push(...schemaErrors(s.items as Schema, item, root, `${at}[${i}]`));
      });
    }
  }
  if (typeOf(value) === "object") {
    const object = value as Record<string, unknown>;
    const properties = (s.properties ?? {}) as Record<string, Schema>;
    for (const name of (s.required as string[] | undefined) ?? []) {
      if (!Object.hasOwn(object, name)) fail(`missing ${name}`);
    }
    for (const name of Object.keys(object)) {
      if (Object.hasOwn(properties, name)) {
        errors.push(...schemaErrors(properties[name], object[name], root, `${at}.${name}`));
      } else if (s.additionalProperties !== undefined) {
        errors.push(...schemaErrors(s.additionalProperties as Schema, object[name], root, `${at}.${name}`));
      }
    }
    if (s.propertyNames !== undefined) {
      for (const name of Object.keys(object)) {
        errors.push(...schemaErrors(s.propertyNames as Schema, name, root, `${at} key ${name}`));
      }
    }
  }

  for (const sub of (s.allOf as Schema[] | undefined) ?? [])
    errors.push(...schemaErrors(sub, value, root, at));
  if (Array.isArray(s.anyOf) && !s.anyOf.some((sub) => schemaErrors(sub, value, root, at).length === 0)) {
    fail("matches none of anyOf");
  }
  if (Array.isArray(s.oneOf)) {
    const matches = s.oneOf.filter((sub) => schemaErrors(sub, value, root, at).length === 0).length;
    if (matches !== 1) fail(`matches ${matches} of oneOf`);
  }
  if (s.not !== undefined && schemaErrors(s.not as Schema, value, root, at).length === 0) fail("matches not");
  if (s.if !== undefined) {
    const branch = schemaErrors(s.if as Schema, value, root, at).length === 0 ? s.then : s.else;
    if (branch !== undefined) errors.push(...schemaErrors(branch as Schema, value, root, at));
  }
  return errors;
}
