import { isUtf8 } from "node:buffer";
import { FloeError } from "../errors.js";
import { compileGlob, GlobSyntaxError } from "./glob-match.js";
import { networkTest, parseNetwork } from "./ip-network.js";
import type { DeliveryRecord, FilterPattern } from "./types.js";

/**
 * A subscription's content filter (Lambda's FilterCriteria for Kafka event sources, in EventBridge's
 * pattern grammar; docs/subscription-filters.md is the user's account). A record is seen as
 * `{ key, value, headers }`: the key's UTF-8 text, the value parsed when it is JSON (else its text),
 * and each header's last value as text. Bytes that are not UTF-8 are present but match no content.
 *
 * Patterns are compiled once, when a subscription is validated or loaded, into a tree the matcher
 * walks without allocating (ignore-case matchers aside, which lower-case the text they compare);
 * the key and value are decoded, and the value parsed, at most once per record and only when a
 * pattern looks at them. A match visits each part of the record at most once per pattern node, so
 * its cost is bounded by the record's size times the pattern's, and a value is never walked deeper
 * than the pattern that looks at it, save arrays within arrays (up to MAX_ARRAY_NESTING levels).
 * `$or` is kept as a tree (an object's fields AND any one of its alternatives), never expanded into
 * its combinations, so each alternative is one more pattern node, matched once per object it meets.
 */

/** Lambda's limit on FilterCriteria.Filters. */
export const MAX_FILTER_PATTERNS = 10;
/** Most levels of objects a pattern may nest, itself the first (`{"value": {"a": [1]}}` has 2). */
export const MAX_PATTERN_DEPTH = 32;
/** Lambda's limit on a filter's Pattern: 4096 bytes of JSON. */
export const MAX_PATTERN_BYTES = 4096;
/**
 * Most combinations a pattern's `$or`s may expand to, counted as EventBridge's matcher
 * (aws/event-ruler) expands `$or` into one sub-rule per combination: `{"$or": [A, B], "x": {"$or":
 * [C, D, E]}}` is 2 x 3 = 6. Matching here walks the tree, not the expansion, so the cost per record
 * is bounded by the pattern's size either way; this bounds what one pattern may mean, so that it
 * stays one a reader can check (and one EventBridge, which does expand, would take).
 */
export const MAX_OR_COMBINATIONS = 1000;
/** Arrays within arrays are flattened this many levels down; deeper ones are not walked. */
const MAX_ARRAY_NESTING = 32;
/** EventBridge's keyword for alternatives within an object. */
const OR = "$or";

/** Bytes that are not UTF-8: a present value that no content matcher matches. */
const BINARY: unique symbol = Symbol("binary");

/** A value a matcher sees: never an object or an array, which are walked before the matchers run. */
type Leaf = string | number | boolean | null | typeof BINARY;
type Test = (value: Leaf) => boolean;

interface LeafNode {
  leaf: true;
  /** The array's matchers other than `exists`: any one matching a leaf value matches. */
  tests: Test[];
  /** `{"exists": true}` is in the array: the field being there, with any value, matches. */
  existsTrue: boolean;
  /** `{"exists": false}` is in the array: the field being absent matches. */
  existsFalse: boolean;
}

interface FieldsNode {
  leaf: false;
  fields: Field[];
  /** The object's `$or`: besides every field, one of these must match the same object. */
  or: FieldsNode[] | undefined;
  /** Whether the node matches where its object is absent (or not an object): decided once, here. */
  matchesAbsent: boolean;
  /** How many `$or`-free patterns this node stands for (see MAX_OR_COMBINATIONS). */
  combinations: number;
}

interface Field {
  name: string;
  /** A name Object.prototype has (`constructor`, `__proto__`): only an own property counts. */
  inherited: boolean;
  node: PatternNode;
}

type PatternNode = LeafNode | FieldsNode;

/** One compiled pattern: each of its parts must match (AND). */
interface CompiledPattern {
  key: LeafNode | undefined;
  headers: { name: string; node: LeafNode }[];
  value: PatternNode | undefined;
  /**
   * The `$or`s of the pattern's top level and of its headers (one each at most): of each, one
   * alternative must match as well. An alternative is itself a pattern over the same record.
   */
  ors: CompiledPattern[][];
  combinations: number;
}

// ---------------------------------------------------------------------------------------------
// Matching

/** Whether a leaf value, or any element of an array (EventBridge's array rule), passes a test. */
function anyLeafPasses(tests: Test[], value: unknown, nesting: number): boolean {
  if (typeof value === "object" && value !== null) {
    if (!Array.isArray(value) || nesting >= MAX_ARRAY_NESTING) return false;
    for (let i = 0; i < value.length; i++) if (anyLeafPasses(tests, value[i], nesting + 1)) return true;
    return false;
  }
  for (let i = 0; i < tests.length; i++) if (tests[i](value as Leaf)) return true;
  return false;
}

/** `value` is undefined where the field is absent: only `{"exists": false}` matches there. */
function matchLeaf(node: LeafNode, value: unknown): boolean {
  if (value === undefined) return node.existsFalse;
  return node.existsTrue || anyLeafPasses(node.tests, value, 0);
}

function matchFields(node: FieldsNode, value: unknown, nesting: number): boolean {
  if (typeof value !== "object" || value === null) return node.matchesAbsent;
  if (Array.isArray(value)) {
    // An array of objects matches when one element matches the whole node ($or included), so
    // fields of different elements never combine into a match none of them makes.
    if (value.length === 0 || nesting >= MAX_ARRAY_NESTING) return node.matchesAbsent;
    for (let i = 0; i < value.length; i++) if (matchFields(node, value[i], nesting + 1)) return true;
    return false;
  }
  return matchObject(node, value as Record<string, unknown>);
}

function matchObject(node: FieldsNode, object: Record<string, unknown>): boolean {
  const fields = node.fields;
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i];
    const child = field.inherited && !Object.hasOwn(object, field.name) ? undefined : object[field.name];
    if (!matchNode(field.node, child)) return false;
  }
  const or = node.or;
  if (or === undefined) return true;
  // The alternatives look at the same object, so an array's element must match one of them whole.
  for (let i = 0; i < or.length; i++) if (matchObject(or[i], object)) return true;
  return false;
}

function matchNode(node: PatternNode, value: unknown): boolean {
  return node.leaf ? matchLeaf(node, value) : matchFields(node, value, 0);
}

const utf8 = new TextDecoder("utf-8", { ignoreBOM: true });

/**
 * A field's bytes as text, or BINARY when they are not UTF-8 (never a lossy U+FFFD). Decoded
 * leniently and checked only when a U+FFFD shows up: a fatal decoder throws on every binary value,
 * which costs ~20 µs a record, and checking every text first costs a second pass.
 */
function textOf(bytes: Uint8Array): string | typeof BINARY {
  const text = utf8.decode(bytes);
  return text.includes("\uFFFD") && !isUtf8(bytes) ? BINARY : text;
}

function isBlank(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/**
 * Whether text can be JSON, judged by its first and last non-blank characters, so that plain text
 * is rarely handed to JSON.parse: its throw costs microseconds, and a topic of log lines starting
 * with a date would pay it on every record.
 */
function mayBeJson(text: string): boolean {
  let first = 0;
  let last = text.length - 1;
  while (first <= last && isBlank(text.charCodeAt(first))) first++;
  while (last > first && isBlank(text.charCodeAt(last))) last--;
  if (first > last) return false;
  const a = text.charCodeAt(first);
  const z = text.charCodeAt(last);
  switch (a) {
    case 0x7b: // {…}
      return z === 0x7d && last > first;
    case 0x5b: // […]
      return z === 0x5d && last > first;
    case 0x22: // "…"
      return z === 0x22 && last > first;
    case 0x74: // true
    case 0x66: // false
      return z === 0x65;
    case 0x6e: // null
      return z === 0x6c;
    default: // a number starts with - or a digit and ends with a digit
      return (a === 0x2d || isDigit(a)) && isDigit(z);
  }
}

/** A value as patterns see it: absent for a tombstone, its JSON when it parses, else its text. */
function valueView(bytes: Uint8Array | null): unknown {
  if (bytes === null) return undefined;
  const text = textOf(bytes);
  if (text === BINARY || !mayBeJson(text)) return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** The last header of that name as text (null for a null value), or undefined when there is none. */
function headerOf(record: DeliveryRecord, name: string): string | null | typeof BINARY | undefined {
  const headers = record.headers;
  for (let i = headers.length - 1; i >= 0; i--) {
    if (headers[i].key === name) {
      const bytes = headers[i].value;
      return bytes === null ? null : textOf(bytes);
    }
  }
  return undefined;
}

/**
 * Compiles Lambda-style filter patterns into a predicate over delivery records: a record passes
 * when any pattern matches it, and every record passes when there are none. Throws FloeError
 * INVALID_CONFIG naming the refused part (`filters[0].value.amount`).
 */
export function compileFilters(patterns: FilterPattern[]): (record: DeliveryRecord) => boolean {
  const compiled = compilePatterns(patterns);
  if (compiled.length === 0) return () => true;

  // The record's key and value, each worked out once per record and only if a pattern asks.
  let value: unknown;
  let valueReady = false;
  let key: unknown;
  let keyReady = false;

  const matches = (record: DeliveryRecord, pattern: CompiledPattern): boolean => {
    if (pattern.key !== undefined) {
      if (!keyReady) {
        key = record.key === null ? undefined : textOf(record.key);
        keyReady = true;
      }
      if (!matchLeaf(pattern.key, key)) return false;
    }
    const headers = pattern.headers;
    for (let i = 0; i < headers.length; i++) {
      if (!matchLeaf(headers[i].node, headerOf(record, headers[i].name))) return false;
    }
    if (pattern.value !== undefined) {
      if (!valueReady) {
        value = valueView(record.value);
        valueReady = true;
      }
      if (!matchNode(pattern.value, value)) return false;
    }
    const ors = pattern.ors;
    for (let i = 0; i < ors.length; i++) {
      const alternatives = ors[i];
      let any = false;
      for (let j = 0; j < alternatives.length && !any; j++) any = matches(record, alternatives[j]);
      if (!any) return false;
    }
    return true;
  };

  return (record) => {
    valueReady = false;
    keyReady = false;
    try {
      for (let i = 0; i < compiled.length; i++) if (matches(record, compiled[i])) return true;
      return false;
    } finally {
      // Not kept past the call: a filter outlives its records.
      value = undefined;
      key = undefined;
    }
  };
}

// ---------------------------------------------------------------------------------------------
// Compiling and validation

function fail(path: string, message: string): never {
  throw new FloeError("INVALID_CONFIG", `Invalid filter at ${path}: ${message}`);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** `path.name`, or `path["na.me"]` when the name would not read as one. */
function childPath(path: string, name: string): string {
  return /^[A-Za-z_$][\w$-]*$/.test(name) ? `${path}.${name}` : `${path}[${JSON.stringify(name)}]`;
}

function compilePatterns(patterns: unknown): CompiledPattern[] {
  if (!Array.isArray(patterns)) fail("filters", "filters is an array of patterns");
  if (patterns.length > MAX_FILTER_PATTERNS) {
    fail("filters", `at most ${MAX_FILTER_PATTERNS} patterns are allowed, got ${patterns.length}`);
  }
  return patterns.map((pattern, i) => compilePattern(pattern, `filters[${i}]`));
}

function compilePattern(pattern: unknown, path: string): CompiledPattern {
  if (!isPlainObject(pattern)) fail(path, "a pattern is an object of key, value and/or headers");
  let json: string | undefined;
  try {
    json = JSON.stringify(pattern);
  } catch {
    // Cyclic or nested past what stringify can walk: certainly past the limits below.
  }
  if (json === undefined || Buffer.byteLength(json) > MAX_PATTERN_BYTES) {
    fail(path, `a pattern may be at most ${MAX_PATTERN_BYTES} bytes as JSON`);
  }
  return compileRecordPattern(pattern, path, 1);
}

function emptyPattern(): CompiledPattern {
  return { key: undefined, headers: [], value: undefined, ors: [], combinations: 1 };
}

/** A pattern's top level, or one alternative of its top-level `$or`, at `depth` levels of objects. */
function compileRecordPattern(
  pattern: Record<string, unknown>,
  path: string,
  depth: number,
): CompiledPattern {
  const names = Object.keys(pattern);
  if (names.length === 0) fail(path, "a pattern names at least one of key, value, headers");
  const out = emptyPattern();
  for (const name of names) {
    const at = childPath(path, name);
    const spec = pattern[name];
    if (name === "key") {
      if (!Array.isArray(spec)) fail(at, "the key is text: its pattern is an array of matchers");
      out.key = compileLeaf(spec, at);
    } else if (name === "headers") {
      compileHeaders(spec, at, out, depth + 1, false);
    } else if (name === "value") {
      out.value = compileNode(spec, at, depth + 1, false);
    } else if (name === OR) {
      out.ors.push(orAlternatives(spec, at, (alt, altAt) => compileRecordPattern(alt, altAt, depth + 1)));
    } else {
      fail(at, `unknown field ${JSON.stringify(name)}: a pattern looks at key, value and headers only`);
    }
  }
  out.combinations = checkCombinations(patternCombinations(out), path);
  return out;
}

/** How many `$or`-free patterns a compiled pattern stands for. */
function patternCombinations(pattern: CompiledPattern): number {
  let n = pattern.value === undefined || pattern.value.leaf ? 1 : pattern.value.combinations;
  for (const alternatives of pattern.ors) n *= sumCombinations(alternatives);
  return n;
}

function sumCombinations(alternatives: { combinations: number }[]): number {
  let n = 0;
  for (const alternative of alternatives) n += alternative.combinations;
  return n;
}

/**
 * Refuses an object whose `$or`s multiply past MAX_OR_COMBINATIONS, at the object where they do.
 * Each part was checked on its own first, so the products here stay small.
 */
function checkCombinations(combinations: number, path: string): number {
  if (combinations > MAX_OR_COMBINATIONS) {
    fail(
      path,
      `its $or alternatives expand to ${combinations} combinations; at most ${MAX_OR_COMBINATIONS} are allowed`,
    );
  }
  return combinations;
}

/**
 * A `headers` object (or one alternative of its `$or`) into `out`. Inside an `$or`, a header may not
 * be named for a matcher, as EventBridge refuses such field names there.
 */
function compileHeaders(
  spec: unknown,
  path: string,
  out: CompiledPattern,
  depth: number,
  inOr: boolean,
): void {
  if (!isPlainObject(spec)) fail(path, "headers take an object of header name to an array of matchers");
  if (depth > MAX_PATTERN_DEPTH) fail(path, `a pattern may nest at most ${MAX_PATTERN_DEPTH} objects deep`);
  const headerNames = Object.keys(spec);
  if (headerNames.length === 0) fail(path, "a headers pattern names at least one header");
  for (const header of headerNames) {
    const headerAt = childPath(path, header);
    const matchers = spec[header];
    if (header === OR) {
      out.ors.push(
        orAlternatives(matchers, headerAt, (alt, altAt) => {
          const alternative = emptyPattern();
          compileHeaders(alt, altAt, alternative, depth + 1, true);
          alternative.combinations = checkCombinations(patternCombinations(alternative), altAt);
          return alternative;
        }),
      );
      continue;
    }
    if (inOr) refuseMatcherName(header, headerAt);
    if (!Array.isArray(matchers))
      fail(headerAt, "a header's value is text: its pattern is an array of matchers");
    out.headers.push({ name: header, node: compileLeaf(matchers, headerAt) });
  }
}

/**
 * `"$or": [A, B, ...]`: at least two objects, each compiled by `compile` as an alternative to the
 * others at the level of the object holding the `$or`.
 */
function orAlternatives<T>(
  spec: unknown,
  path: string,
  compile: (alternative: Record<string, unknown>, path: string) => T,
): T[] {
  if (!Array.isArray(spec) || spec.length < 2) {
    fail(path, "$or takes an array of at least 2 objects, any one of which matching matches");
  }
  return spec.map((alternative, i) => {
    const at = `${path}[${i}]`;
    if (!isPlainObject(alternative)) fail(at, "an $or alternative is an object of fields");
    return compile(alternative, at);
  });
}

/** The operators a pattern's matchers use: inside `$or`, a field so named is a misplaced matcher. */
const MATCHER_NAMES = new Set([
  "prefix",
  "suffix",
  "equals-ignore-case",
  "wildcard",
  "anything-but",
  "numeric",
  "exists",
  "cidr",
]);

function refuseMatcherName(name: string, path: string): void {
  if (MATCHER_NAMES.has(name)) {
    fail(
      path,
      `${JSON.stringify(name)} is a matcher, not a field: inside $or, matchers go in a field's array ({"field": [{"${name}": ...}]})`,
    );
  }
}

function compileNode(spec: unknown, path: string, depth: number, inOr: boolean): PatternNode {
  if (Array.isArray(spec)) return compileLeaf(spec, path);
  if (!isPlainObject(spec)) fail(path, "a field's pattern is an array of matchers or an object of fields");
  return compileFields(spec, path, depth, inOr);
}

/** An object of fields (or one alternative of an `$or`), `depth` levels of objects down. */
function compileFields(
  spec: Record<string, unknown>,
  path: string,
  depth: number,
  inOr: boolean,
): FieldsNode {
  if (depth > MAX_PATTERN_DEPTH) fail(path, `a pattern may nest at most ${MAX_PATTERN_DEPTH} objects deep`);
  const names = Object.keys(spec);
  if (names.length === 0) fail(path, "an object in a pattern names at least one field");
  const fields: Field[] = [];
  let or: FieldsNode[] | undefined;
  for (const name of names) {
    const at = childPath(path, name);
    if (name === OR) {
      or = orAlternatives(spec[name], at, (alt, altAt) => compileFields(alt, altAt, depth + 1, true));
      continue;
    }
    if (inOr) refuseMatcherName(name, at);
    fields.push({
      name,
      inherited: name in Object.prototype,
      node: compileNode(spec[name], at, depth + 1, inOr),
    });
  }
  let combinations = or === undefined ? 1 : sumCombinations(or);
  for (const field of fields) if (!field.node.leaf) combinations *= field.node.combinations;
  const matchesAbsent =
    fields.every((f) => matchNode(f.node, undefined)) &&
    (or === undefined || or.some((a) => a.matchesAbsent));
  return { leaf: false, fields, or, matchesAbsent, combinations: checkCombinations(combinations, path) };
}

function compileLeaf(matchers: unknown[], path: string): LeafNode {
  if (matchers.length === 0) fail(path, "an array of matchers may not be empty");
  const node: LeafNode = { leaf: true, tests: [], existsTrue: false, existsFalse: false };
  matchers.forEach((matcher, i) => {
    const at = `${path}[${i}]`;
    if (isPlainObject(matcher) && Object.keys(matcher).length === 1 && "exists" in matcher) {
      if (typeof matcher.exists !== "boolean") fail(`${at}.exists`, "exists takes true or false");
      if (matcher.exists) node.existsTrue = true;
      else node.existsFalse = true;
    } else {
      node.tests.push(compileMatcher(matcher, at));
    }
  });
  return node;
}

function exact(value: string | number | boolean | null): Test {
  return (v) => v === value;
}

function compileMatcher(matcher: unknown, path: string): Test {
  if (matcher === null || typeof matcher === "string" || typeof matcher === "boolean") return exact(matcher);
  if (typeof matcher === "number") {
    if (!Number.isFinite(matcher)) fail(path, "a number must be finite");
    return exact(matcher);
  }
  if (!isPlainObject(matcher)) {
    fail(path, "a matcher is a string, number, boolean, null or an object with one operator");
  }
  const names = Object.keys(matcher);
  if (names.length !== 1) fail(path, `a matcher object has exactly one operator, got ${names.length}`);
  const op = names[0];
  const arg = matcher[op];
  const at = childPath(path, op);
  switch (op) {
    case "prefix":
    case "suffix":
    case "equals-ignore-case":
    case "wildcard":
      return stringTest(op, arg, at);
    case "anything-but":
      return anythingBut(arg, at);
    case "cidr":
      return cidr(arg, at);
    case "numeric":
      return numeric(arg, at);
    default:
      return fail(path, `unknown matcher ${JSON.stringify(op)}`);
  }
}

/** A matcher over strings alone (prefix, suffix, equals-ignore-case, wildcard); false on anything else. */
function stringTest(op: string, arg: unknown, path: string): (v: Leaf) => boolean {
  if ((op === "prefix" || op === "suffix") && isPlainObject(arg)) {
    const names = Object.keys(arg);
    const folded = arg["equals-ignore-case"];
    if (names.length !== 1 || names[0] !== "equals-ignore-case" || typeof folded !== "string") {
      fail(path, `${op} takes a string or {"equals-ignore-case": string}`);
    }
    const lower = folded.toLowerCase();
    return op === "prefix"
      ? (v) => typeof v === "string" && v.toLowerCase().startsWith(lower)
      : (v) => typeof v === "string" && v.toLowerCase().endsWith(lower);
  }
  if (typeof arg !== "string") fail(path, `${op} takes a string`);
  switch (op) {
    case "prefix":
      return (v) => typeof v === "string" && v.startsWith(arg);
    case "suffix":
      return (v) => typeof v === "string" && v.endsWith(arg);
    case "equals-ignore-case": {
      const lower = arg.toLowerCase();
      return (v) => typeof v === "string" && v.toLowerCase() === lower;
    }
    default: {
      let glob: (text: string) => boolean;
      try {
        glob = compileGlob(arg);
      } catch (e) {
        if (e instanceof GlobSyntaxError) fail(path, e.message);
        throw e;
      }
      return (v) => typeof v === "string" && glob(v);
    }
  }
}

/** The string matchers anything-but can hold, each with a string or (EventBridge's) a list of them. */
const ANYTHING_BUT_OPERATORS = ["prefix", "suffix", "equals-ignore-case", "wildcard"];

/**
 * `anything-but`: any leaf value (string, number, boolean, null) the inner matcher does not match,
 * so it is the complement of that matcher wherever the field holds a value; bytes that are not
 * UTF-8 match neither. The inner matcher is a value, a list of values, or one string operator with
 * a string or a list of strings (`{"prefix": ["us-", "eu-"]}`: none of them).
 */
function anythingBut(arg: unknown, path: string): Test {
  let inner: Test;
  if (typeof arg === "string" || typeof arg === "number") {
    if (typeof arg === "number" && !Number.isFinite(arg)) fail(path, "a number must be finite");
    inner = exact(arg);
  } else if (Array.isArray(arg)) {
    if (arg.length === 0) fail(path, "anything-but's list may not be empty");
    arg.forEach((v, i) => {
      if (typeof v !== "string" && !(typeof v === "number" && Number.isFinite(v))) {
        fail(`${path}[${i}]`, "anything-but lists strings and numbers");
      }
    });
    // Set's SameValueZero makes 5 and 5.0 (the same number once parsed) and 0 and -0 equal.
    const set = new Set<unknown>(arg);
    inner = (v) => set.has(v);
  } else if (isPlainObject(arg)) {
    const names = Object.keys(arg);
    const op = names[0];
    if (names.length !== 1 || !ANYTHING_BUT_OPERATORS.includes(op)) {
      fail(
        path,
        'anything-but takes a string, a number, a list of them, or one of "prefix", "suffix", "equals-ignore-case", "wildcard"',
      );
    }
    const at = childPath(path, op);
    const operand = arg[op];
    inner = Array.isArray(operand) ? anyOfStrings(op, operand, at) : stringTest(op, operand, at);
  } else {
    fail(path, "anything-but takes a string, a number, a list of them, or an object with one operator");
  }
  return (v) => v !== BINARY && !inner(v);
}

/** A string operator over a list of strings: matches what any one of them matches. */
function anyOfStrings(op: string, list: unknown[], path: string): Test {
  if (list.length === 0) fail(path, `anything-but's ${op} list may not be empty`);
  list.forEach((s, i) => {
    if (typeof s !== "string") fail(`${path}[${i}]`, `anything-but's ${op} list holds strings only`);
  });
  const strings = list as string[];
  if (op === "equals-ignore-case") {
    // One lower-casing of the value and a set look-up, however long the list.
    const lower = new Set(strings.map((s) => s.toLowerCase()));
    return (v) => typeof v === "string" && lower.has(v.toLowerCase());
  }
  const tests = strings.map((s, i) => stringTest(op, s, `${path}[${i}]`));
  return (v) => {
    for (let i = 0; i < tests.length; i++) if (tests[i](v)) return true;
    return false;
  };
}

/**
 * `cidr`: strings that are IPv4 or IPv6 addresses within the network (ip-network.ts). A network
 * with bits set past its prefix (`10.0.0.1/8`) is refused: it is mostly a typo, and a reader
 * cannot tell what it was meant to match.
 */
function cidr(arg: unknown, path: string): Test {
  if (typeof arg !== "string") fail(path, 'cidr takes a string such as "10.0.0.0/24" or "2001:db8::/32"');
  const network = parseNetwork(arg);
  if (typeof network === "string") fail(path, network);
  const within = networkTest(network);
  return (v) => typeof v === "string" && within(v);
}

const LOWER = new Set([">", ">="]);
const UPPER = new Set(["<", "<="]);

/** `numeric`: [op, n] or a lower and an upper bound [">"|">=", n, "<"|"<=", m]; JSON numbers only. */
function numeric(arg: unknown, path: string): Test {
  if (!Array.isArray(arg) || (arg.length !== 2 && arg.length !== 4)) {
    fail(path, 'numeric takes [operator, number] or [">"|">=", number, "<"|"<=", number]');
  }
  let low = Number.NEGATIVE_INFINITY;
  let lowInclusive = false;
  let high = Number.POSITIVE_INFINITY;
  let highInclusive = false;
  let sawLow = false;
  let sawHigh = false;
  for (let i = 0; i < arg.length; i += 2) {
    const op = arg[i];
    const n = arg[i + 1];
    if (typeof n !== "number" || !Number.isFinite(n)) fail(`${path}[${i + 1}]`, "a bound is a finite number");
    if (op === "=" && arg.length === 2) {
      low = high = n;
      lowInclusive = highInclusive = true;
    } else if (typeof op === "string" && LOWER.has(op) && !sawLow) {
      sawLow = true;
      low = n;
      lowInclusive = op === ">=";
    } else if (typeof op === "string" && UPPER.has(op) && !sawHigh) {
      sawHigh = true;
      high = n;
      highInclusive = op === "<=";
    } else {
      fail(
        `${path}[${i}]`,
        `${JSON.stringify(op)} is not allowed here: use "=" alone, or at most one of ">", ">=" and one of "<", "<="`,
      );
    }
  }
  if (low > high || (low === high && !(lowInclusive && highInclusive))) {
    fail(path, "the range is empty: the lower bound must be below the upper bound");
  }
  return (v) =>
    typeof v === "number" && (lowInclusive ? v >= low : v > low) && (highInclusive ? v <= high : v < high);
}
