import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { FloeError } from "../../../src/errors.js";
import {
  compileFilters,
  MAX_FILTER_PATTERNS,
  MAX_PATTERN_BYTES,
  MAX_PATTERN_DEPTH,
} from "../../../src/subscriptions/record-filter.js";
import type { DeliveryRecord, FilterPattern } from "../../../src/subscriptions/types.js";
import { expectThrownCode, thrown } from "../../support/thrown.js";

const te = new TextEncoder();
/** Bytes that are not UTF-8 (a lone continuation byte and an invalid lead). */
const NOT_UTF8 = new Uint8Array([0x80, 0xff, 0x41]);

type Bytes = string | Uint8Array | null;

function bytes(b: Bytes): Uint8Array | null {
  return typeof b === "string" ? te.encode(b) : b;
}

function record(value: Bytes, key: Bytes = null, headers: [string, Bytes][] = []): DeliveryRecord {
  return {
    topic: "orders",
    partition: 0,
    offset: 7,
    timestamp: 1_700_000_000_000,
    key: bytes(key),
    value: bytes(value),
    headers: headers.map(([name, v]) => ({ key: name, value: bytes(v) })),
  };
}

/** A record with this JSON value. */
function json(value: unknown): DeliveryRecord {
  return record(JSON.stringify(value));
}

/** Whether one pattern passes each of these records. */
function passes(pattern: FilterPattern, ...records: DeliveryRecord[]): boolean[] {
  const filter = compileFilters([pattern]);
  return records.map((r) => filter(r));
}

/** A value-field pattern {value: {field: matchers}} against {field: v} for each v. */
function onField(matchers: unknown[], ...values: unknown[]): boolean[] {
  return passes({ value: { f: matchers } }, ...values.map((v) => json(v === undefined ? {} : { f: v })));
}

function refusal(patterns: unknown): string {
  const e = expectThrownCode(() => compileFilters(patterns as FilterPattern[]), "INVALID_CONFIG");
  return e.message;
}

describe("compileFilters: matching", () => {
  it("passes every record with no patterns", () => {
    const filter = compileFilters([]);
    expect([json({ a: 1 }), record(NOT_UTF8), record(null)].map(filter)).toEqual([true, true, true]);
  });

  it("matches exact strings, numbers (numerically), booleans and null, each only as its own type", () => {
    expect(onField(["ok"], "ok", "OK", "ok ", 1)).toEqual([true, false, false, false]);
    expect(onField([5], 5, 5.0, 5.5, "5")).toEqual([true, true, false, false]);
    // 5.0 in the record's text and 5e0 in the pattern are the same number.
    expect(passes({ value: { f: [5] } }, record('{"f": 5.0}'), record('{"f": 50e-1}'))).toEqual([true, true]);
    expect(onField([true], true, false, "true")).toEqual([true, false, false]);
    expect(onField([null], null, "null", 0, undefined)).toEqual([true, false, false, false]);
    expect(onField([""], "", " ")).toEqual([true, false]);
  });

  it("prefix and suffix, with and without case", () => {
    expect(onField([{ prefix: "us-" }], "us-east-1", "US-east-1", "eu-west-1", 12)).toEqual([
      true,
      false,
      false,
      false,
    ]);
    expect(onField([{ prefix: { "equals-ignore-case": "Us-" } }], "us-east-1", "US-x", "eu")).toEqual([
      true,
      true,
      false,
    ]);
    expect(onField([{ suffix: ".png" }], "a.png", "a.PNG", "png")).toEqual([true, false, false]);
    expect(onField([{ suffix: { "equals-ignore-case": ".PNG" } }], "a.png", "a.Png", "a.jpg")).toEqual([
      true,
      true,
      false,
    ]);
    expect(onField([{ prefix: "" }], "", "x", 1)).toEqual([true, true, false]);
  });

  it("equals-ignore-case", () => {
    expect(onField([{ "equals-ignore-case": "Alice" }], "alice", "ALICE", "alicia", 1)).toEqual([
      true,
      true,
      false,
      false,
    ]);
  });

  it("anything-but a value, a list, or a string matcher: present leaf values it does not name", () => {
    expect(onField([{ "anything-but": "done" }], "open", "done", 3, null, true, undefined)).toEqual([
      true,
      false,
      true,
      true,
      true,
      false,
    ]);
    expect(onField([{ "anything-but": [1, 2, "x"] }], 1, 2.0, "x", 3, "1")).toEqual([
      false,
      false,
      false,
      true,
      true,
    ]);
    expect(onField([{ "anything-but": { prefix: "us-" } }], "us-1", "eu-1", 4)).toEqual([false, true, true]);
    expect(onField([{ "anything-but": { suffix: ".png" } }], "a.png", "a.gif")).toEqual([false, true]);
    expect(onField([{ "anything-but": { "equals-ignore-case": "DONE" } }], "done", "open")).toEqual([
      false,
      true,
    ]);
    expect(onField([{ "anything-but": { wildcard: "*/lib/*" } }], "/usr/lib/x", "/usr/bin/x")).toEqual([
      false,
      true,
    ]);
    // An object is not a value anything-but compares.
    expect(onField([{ "anything-but": "x" }], { y: 1 })).toEqual([false]);
  });

  it("numeric ranges and equality over JSON numbers only", () => {
    const m = [{ numeric: [">", 0, "<=", 5] }];
    expect(onField(m, 0, 0.0001, 5, 5.0001, -1, "3")).toEqual([false, true, true, false, false, false]);
    expect(onField([{ numeric: ["=", 3] }], 3, 3.0, 3.1)).toEqual([true, true, false]);
    expect(onField([{ numeric: [">=", 10] }], 10, 9.99, 1e300)).toEqual([true, false, true]);
    expect(onField([{ numeric: ["<", -1] }], -1, -1.5)).toEqual([false, true]);
    expect(onField([{ numeric: ["<=", 5, ">", 0] }], 5, 0)).toEqual([true, false]);
  });

  it("exists: the field there with any value, or absent", () => {
    expect(onField([{ exists: true }], "x", null, { a: 1 }, [], undefined)).toEqual([
      true,
      true,
      true,
      true,
      false,
    ]);
    expect(onField([{ exists: false }], "x", null, { a: 1 }, undefined)).toEqual([false, false, false, true]);
    // Absent below a missing parent, or below a value that is not an object.
    const deep = { value: { a: { b: [{ exists: false }] } } };
    expect(passes(deep, json({}), json({ a: "text" }), json({ a: { b: 1 } }), json({ a: { c: 1 } }))).toEqual(
      [true, true, false, true],
    );
  });

  it("wildcard", () => {
    expect(onField([{ wildcard: "dir/*.png" }], "dir/a.png", "dir/.png", "dir/a.jpg", "xdir/a.png")).toEqual([
      true,
      true,
      false,
      false,
    ]);
    expect(onField([{ wildcard: "*a*b*" }], "ab", "xaxbx", "ba", "")).toEqual([true, true, false, false]);
    expect(onField([{ wildcard: "a\\*b" }], "a*b", "axb")).toEqual([true, false]);
    expect(onField([{ wildcard: "a\\\\b" }], "a\\b", "ab")).toEqual([true, false]);
    expect(onField([{ wildcard: "ab" }], "ab", "abc")).toEqual([true, false]);
    expect(onField([{ wildcard: "aa*aa" }], "aaa", "aaaa")).toEqual([false, true]);
  });

  it("matches an array when any element does, nested arrays included", () => {
    expect(onField(["b"], ["a", "b"], ["a"], [], [["x", ["b"]]])).toEqual([true, false, false, true]);
    expect(onField([{ numeric: [">", 10] }], [1, 2, 30])).toEqual([true]);
    expect(onField([{ "anything-but": "a" }], ["a", "a"], ["a", "b"])).toEqual([false, true]);
  });

  it("an array of objects matches when one element matches every field (fields of different elements never combine)", () => {
    const pattern = { value: { items: { sku: ["A"], qty: [{ numeric: [">", 1] }] } } };
    const split = json({
      items: [
        { sku: "A", qty: 1 },
        { sku: "B", qty: 5 },
      ],
    });
    const whole = json({
      items: [
        { sku: "B", qty: 1 },
        { sku: "A", qty: 5 },
      ],
    });
    expect(passes(pattern, split, whole)).toEqual([false, true]);
  });

  it("ANDs fields, ORs the matchers of one array and ORs patterns", () => {
    const and = { value: { type: ["order"], total: [{ numeric: [">=", 100] }] } };
    expect(
      passes(
        and,
        json({ type: "order", total: 100 }),
        json({ type: "order", total: 99 }),
        json({ type: "refund", total: 500 }),
      ),
    ).toEqual([true, false, false]);
    expect(onField(["a", { prefix: "zz" }, 3], "a", "zzz", 3, "b")).toEqual([true, true, true, false]);
    const or = compileFilters([{ value: { type: ["order"] } }, { key: ["vip"] }]);
    expect(
      [json({ type: "order" }), record('{"type":"x"}', "vip"), record('{"type":"x"}', "k")].map(or),
    ).toEqual([true, true, false]);
  });

  it("a value that is not JSON is matched as its text; one that is JSON text of a string, as that string", () => {
    expect(passes({ value: [{ prefix: "hello" }] }, record("hello world"), record('"hello there"'))).toEqual([
      true,
      true,
    ]);
    // Text that starts like JSON but is not JSON stays text.
    expect(passes({ value: ["123abc"] }, record("123abc"))).toEqual([true]);
    expect(passes({ value: ["{not json"] }, record("{not json"))).toEqual([true]);
    expect(passes({ value: ["{not json}"] }, record("{not json}"))).toEqual([true]);
    expect(passes({ value: ["2026-11-30 12:00 started"] }, record("2026-11-30 12:00 started"))).toEqual([
      true,
    ]);
    expect(passes({ value: ['"open'] }, record('"open'))).toEqual([true]);
    expect(passes({ value: ["nothing"] }, record("nothing"))).toEqual([true]);
    expect(passes({ value: [""] }, record(""), record("  "))).toEqual([true, false]);
    // JSON with blanks around it is still JSON.
    expect(passes({ value: [true] }, record(" true\n"), record("\tfalse "))).toEqual([true, false]);
    expect(passes({ value: { a: [1] } }, record('\n {"a": 1} \r\n'), record('[{"a":1}]'))).toEqual([
      true,
      true,
    ]);
    expect(passes({ value: [null] }, record("null"), record(" null "))).toEqual([true, true]);
    expect(passes({ value: ["x"] }, record('"x"'), record('  "x"  '), record('"'))).toEqual([
      true,
      true,
      false,
    ]);
    expect(passes({ value: ['"'] }, record('"'))).toEqual([true]);
    expect(passes({ value: [-1.5e3] }, record("-1.5e3"), record("-1.5e3x"))).toEqual([true, false]);
    // A value whose text is a JSON number is that number.
    expect(
      passes({ value: [{ numeric: [">", 40] }] }, record("42"), record(" 42 "), record("forty-two")),
    ).toEqual([true, true, false]);
    // Fields of a text value are absent.
    expect(passes({ value: { a: [{ exists: false }] } }, record("plain"))).toEqual([true]);
    expect(passes({ value: { a: ["plain"] } }, record("plain"))).toEqual([false]);
  });

  it("a value that is not UTF-8 is present but matches no content", () => {
    const binary = record(NOT_UTF8);
    expect(passes({ value: [{ exists: true }] }, binary)).toEqual([true]);
    expect(passes({ value: [{ exists: false }] }, binary)).toEqual([false]);
    expect(passes({ value: [{ "anything-but": "x" }] }, binary)).toEqual([false]);
    expect(passes({ value: [{ prefix: "" }] }, binary)).toEqual([false]);
    expect(passes({ value: [{ wildcard: "*" }] }, binary)).toEqual([false]);
    expect(passes({ value: { a: [{ exists: true }] } }, binary)).toEqual([false]);
  });

  it("a tombstone has no value and a keyless record no key", () => {
    expect(passes({ value: [{ exists: false }] }, record(null), record("x"))).toEqual([true, false]);
    expect(passes({ value: [null] }, record(null), record("null"))).toEqual([false, true]);
    expect(passes({ key: [{ exists: false }] }, record("x"), record("x", "k"))).toEqual([true, false]);
  });

  it("keys are text, never parsed; a key that is not UTF-8 matches no content", () => {
    expect(passes({ key: ["42"] }, record("v", "42"))).toEqual([true]);
    expect(passes({ key: [42] }, record("v", "42"))).toEqual([false]);
    expect(passes({ key: [{ prefix: "user-" }] }, record("v", "user-1"), record("v", "admin"))).toEqual([
      true,
      false,
    ]);
    expect(passes({ key: [{ exists: true }] }, record("v", NOT_UTF8))).toEqual([true]);
    expect(passes({ key: [{ "anything-but": "x" }] }, record("v", NOT_UTF8))).toEqual([false]);
  });

  it("headers: the last of each name counts, as text; a null header value is null", () => {
    const p = { headers: { type: ["created"] } };
    expect(
      passes(
        p,
        record("v", null, [["type", "created"]]),
        record("v", null, [
          ["type", "deleted"],
          ["type", "created"],
        ]),
        record("v", null, [
          ["type", "created"],
          ["type", "deleted"],
        ]),
        record("v", null, []),
      ),
    ).toEqual([true, true, false, false]);
    expect(passes({ headers: { t: [null] } }, record("v", null, [["t", null]]))).toEqual([true]);
    expect(passes({ headers: { t: [{ exists: false }] } }, record("v", null, [["u", "1"]]))).toEqual([true]);
    expect(passes({ headers: { t: [{ exists: true }] } }, record("v", null, [["t", NOT_UTF8]]))).toEqual([
      true,
    ]);
    expect(passes({ headers: { t: [{ prefix: "" }] } }, record("v", null, [["t", NOT_UTF8]]))).toEqual([
      false,
    ]);
    // Header values are text, never parsed.
    expect(passes({ headers: { n: [{ numeric: [">", 1] }] } }, record("v", null, [["n", "5"]]))).toEqual([
      false,
    ]);
  });

  it("key, headers and value ANDed in one pattern", () => {
    const p = { key: [{ prefix: "eu-" }], headers: { v: ["2"] }, value: { ok: [true] } };
    expect(
      passes(
        p,
        record('{"ok":true}', "eu-1", [["v", "2"]]),
        record('{"ok":true}', "us-1", [["v", "2"]]),
        record('{"ok":true}', "eu-1", [["v", "1"]]),
        record('{"ok":false}', "eu-1", [["v", "2"]]),
      ),
    ).toEqual([true, false, false, false]);
  });

  it("names Object.prototype has are fields like any other, never inherited", () => {
    expect(passes({ value: { constructor: [{ exists: false }] } }, json({}))).toEqual([true]);
    expect(passes({ value: { toString: [{ exists: true }] } }, json({}), json({ toString: 1 }))).toEqual([
      false,
      true,
    ]);
    // JSON.parse makes "__proto__" an own field, as a request body's pattern has it.
    expect(passes(JSON.parse('{"value":{"__proto__":[{"exists":true}]}}'), json({}))).toEqual([false]);
    expect(passes(JSON.parse('{"value":{"__proto__":["x"]}}'), record('{"__proto__":"x"}'))).toEqual([true]);
  });

  it("reads a record's value and key once, and only when a pattern looks at them", () => {
    let valueReads = 0;
    let keyReads = 0;
    const counted = (r: DeliveryRecord): DeliveryRecord => {
      const { value, key } = r;
      return Object.defineProperties(
        { ...r },
        {
          value: {
            get: () => {
              valueReads++;
              return value;
            },
          },
          key: {
            get: () => {
              keyReads++;
              return key;
            },
          },
        },
      );
    };
    const r = counted(record('{"a":1,"b":2}', "k", [["h", "1"]]));
    const onValue = compileFilters([{ value: { a: [2] } }, { value: { b: [3] } }, { value: { a: [1] } }]);
    expect(onValue(r)).toBe(true);
    expect([valueReads, keyReads]).toEqual([1, 0]);
    const onHeaders = compileFilters([{ headers: { h: ["2"] } }, { headers: { h: ["1"] } }]);
    expect(onHeaders(r)).toBe(true);
    expect([valueReads, keyReads]).toEqual([1, 0]);
    // The next record is read afresh.
    expect(onValue(counted(record('{"a":5}')))).toBe(false);
    expect(valueReads).toBe(2);
  });

  it("a value nested far deeper than the pattern is matched without walking it", () => {
    const deep = `${"[".repeat(5000)}"x"${"]".repeat(5000)}`;
    expect(passes({ value: ["x"] }, record(deep))).toEqual([false]);
    expect(passes({ value: [{ exists: true }] }, record(deep))).toEqual([true]);
    expect(passes({ value: { a: ["x"] } }, record(`{"a":${deep}}`))).toEqual([false]);
  });
});

describe("compileFilters: validation", () => {
  it("refuses an unknown top-level field", () => {
    expect(refusal([{ value: { a: [1] } }, { topic: ["x"] }])).toMatch(
      /filters\[1\]\.topic: unknown field "topic"/,
    );
  });

  it("refuses a pattern that is not an object, or names nothing", () => {
    expect(refusal(["x"])).toMatch(/filters\[0\]:/);
    expect(refusal([[]])).toMatch(/filters\[0\]:/);
    expect(refusal([null])).toMatch(/filters\[0\]:/);
    expect(refusal([{}])).toMatch(/filters\[0\]: a pattern names at least one/);
    expect(refusal({})).toMatch(/filters: /);
  });

  it("refuses a leaf that is not a non-empty array", () => {
    expect(refusal([{ value: { amount: 5 } }])).toMatch(/filters\[0\]\.value\.amount: /);
    expect(refusal([{ value: { amount: "x" } }])).toMatch(/filters\[0\]\.value\.amount: /);
    expect(refusal([{ value: { amount: [] } }])).toMatch(/filters\[0\]\.value\.amount: .*may not be empty/);
    expect(refusal([{ value: { a: {} } }])).toMatch(/filters\[0\]\.value\.a: .*at least one field/);
    expect(refusal([{ key: { a: ["x"] } }])).toMatch(/filters\[0\]\.key: /);
    expect(refusal([{ key: [] }])).toMatch(/filters\[0\]\.key: /);
    expect(refusal([{ headers: ["x"] }])).toMatch(/filters\[0\]\.headers: /);
    expect(refusal([{ headers: {} }])).toMatch(/filters\[0\]\.headers: /);
    expect(refusal([{ headers: { h: { a: ["x"] } } }])).toMatch(/filters\[0\]\.headers\.h: /);
    expect(refusal([{ headers: { "content-type": "x" } }])).toMatch(/filters\[0\]\.headers\.content-type: /);
    expect(refusal([{ value: { "a.b": 1 } }])).toMatch(/filters\[0\]\.value\["a\.b"\]: /);
  });

  it("refuses an unknown matcher or a malformed one", () => {
    expect(refusal([{ value: { a: ["x", { contains: "y" }] } }])).toMatch(
      /filters\[0\]\.value\.a\[1\]: unknown matcher "contains"/,
    );
    expect(refusal([{ value: { a: [{ cidr: "10.0.0.0/8" }] } }])).toMatch(/unknown matcher "cidr"/);
    expect(refusal([{ value: { a: [{ prefix: "x", suffix: "y" }] } }])).toMatch(
      /value\.a\[0\]: .*one operator/,
    );
    expect(refusal([{ value: { a: [{}] } }])).toMatch(/value\.a\[0\]: /);
    expect(refusal([{ value: { a: [["x"]] } }])).toMatch(/value\.a\[0\]: /);
    expect(refusal([{ value: { a: [{ prefix: 1 }] } }])).toMatch(/value\.a\[0\]\.prefix: /);
    expect(refusal([{ value: { a: [{ prefix: { wildcard: "x" } }] } }])).toMatch(/value\.a\[0\]\.prefix: /);
    expect(refusal([{ value: { a: [{ suffix: null }] } }])).toMatch(/value\.a\[0\]\.suffix: /);
    expect(refusal([{ value: { a: [{ "equals-ignore-case": 3 }] } }])).toMatch(
      /a\[0\]\.equals-ignore-case: /,
    );
    expect(refusal([{ value: { a: [{ exists: "yes" }] } }])).toMatch(/value\.a\[0\]\.exists: /);
    expect(refusal([{ value: { a: [Number.NaN] } }])).toMatch(/value\.a\[0\]: .*finite/);
    expect(refusal([{ value: { a: [{ wildcard: "a**b" }] } }])).toMatch(
      /value\.a\[0\]\.wildcard: .*consecutive/,
    );
    expect(refusal([{ value: { a: [{ wildcard: "a\\b" }] } }])).toMatch(
      /value\.a\[0\]\.wildcard: .*backslash/,
    );
    expect(refusal([{ value: { a: [{ wildcard: "a\\" }] } }])).toMatch(/value\.a\[0\]\.wildcard: /);
    expect(refusal([{ value: { a: [{ "anything-but": [] }] } }])).toMatch(/a\[0\]\.anything-but: /);
    expect(refusal([{ value: { a: [{ "anything-but": ["x", true] }] } }])).toMatch(
      /a\[0\]\.anything-but\[1\]: /,
    );
    expect(refusal([{ value: { a: [{ "anything-but": null }] } }])).toMatch(/a\[0\]\.anything-but: /);
    expect(refusal([{ value: { a: [{ "anything-but": { numeric: [">", 1] } }] } }])).toMatch(
      /a\[0\]\.anything-but: /,
    );
    expect(refusal([{ value: { a: [{ "anything-but": { prefix: 3 } }] } }])).toMatch(
      /a\[0\]\.anything-but\.prefix: /,
    );
    expect(refusal([{ value: { $or: [{ a: [1] }, { b: [2] }] } }])).toMatch(
      /value\.\$or: \$or is not supported/,
    );
  });

  it("refuses a bad numeric clause", () => {
    const at = (numeric: unknown) => refusal([{ value: { amount: [{ numeric }] } }]);
    expect(at(">")).toMatch(/filters\[0\]\.value\.amount\[0\]\.numeric: /);
    expect(at([">"])).toMatch(/amount\[0\]\.numeric: /);
    expect(at([">", 1, "<"])).toMatch(/amount\[0\]\.numeric: /);
    expect(at([">", "1"])).toMatch(/amount\[0\]\.numeric\[1\]: /);
    expect(at(["!=", 1])).toMatch(/amount\[0\]\.numeric\[0\]: /);
    expect(at([">", 1, ">=", 2])).toMatch(/amount\[0\]\.numeric\[2\]: /);
    expect(at(["<", 1, "<=", 2])).toMatch(/amount\[0\]\.numeric\[2\]: /);
    expect(at(["=", 1, "<", 2])).toMatch(/amount\[0\]\.numeric\[0\]: /);
    expect(at([">", 5, "<", 1])).toMatch(/amount\[0\]\.numeric: the range is empty/);
    expect(at([">", 1, "<=", 1])).toMatch(/amount\[0\]\.numeric: the range is empty/);
    expect(at([">", 0, "<", Number.POSITIVE_INFINITY])).toMatch(/amount\[0\]\.numeric\[3\]: /);
    // The bounds inclusive at the same number is equality, which is fine.
    expect(() => compileFilters([{ value: { amount: [{ numeric: [">=", 1, "<=", 1] }] } }])).not.toThrow();
  });

  it("refuses a pattern deeper than the limit, accepting one at it", () => {
    // The pattern object is level 1 and value's object level 2.
    const nest = (levels: number): FilterPattern => {
      let spec: unknown = ["x"];
      for (let i = 0; i < levels - 1; i++) spec = { f: spec };
      return { value: spec } as FilterPattern;
    };
    expect(() => compileFilters([nest(MAX_PATTERN_DEPTH)])).not.toThrow();
    expect(refusal([nest(MAX_PATTERN_DEPTH + 1)])).toMatch(
      new RegExp(
        `filters\\[0\\]\\.value(\\.f){${MAX_PATTERN_DEPTH - 1}}: .*nest at most ${MAX_PATTERN_DEPTH}`,
      ),
    );
  });

  it("refuses a pattern larger than the limit as JSON, counting UTF-8 bytes", () => {
    const sized = (text: string): FilterPattern => ({ value: { a: [text] } });
    const overhead = JSON.stringify(sized("")).length;
    expect(() => compileFilters([sized("x".repeat(MAX_PATTERN_BYTES - overhead))])).not.toThrow();
    expect(refusal([sized("x".repeat(MAX_PATTERN_BYTES - overhead + 1))])).toMatch(
      /filters\[0\]: .*4096 bytes/,
    );
    // é is two bytes.
    expect(refusal([sized("é".repeat(MAX_PATTERN_BYTES / 2))])).toMatch(/filters\[0\]: /);
  });

  it(`refuses more than ${MAX_FILTER_PATTERNS} patterns`, () => {
    const many = (n: number) => Array.from({ length: n }, (_, i) => ({ key: [`k${i}`] }));
    expect(() => compileFilters(many(MAX_FILTER_PATTERNS))).not.toThrow();
    expect(refusal(many(MAX_FILTER_PATTERNS + 1))).toMatch(/^Invalid filter at filters: at most 10/);
  });

  it("answers anything a user might send with a filter or INVALID_CONFIG, and the filter never throws", () => {
    const patterns = fc.array(
      fc.oneof(fc.jsonValue({ maxDepth: 4 }), fc.record({ value: fc.jsonValue({ maxDepth: 4 }) })),
      { maxLength: 3 },
    );
    const records = fc.array(
      fc.record({
        value: fc.option(
          fc.oneof(
            fc.json().map((s) => te.encode(s)),
            fc.uint8Array(),
          ),
        ),
        key: fc.option(fc.uint8Array({ maxLength: 8 })),
      }),
      { maxLength: 5 },
    );
    fc.assert(
      fc.property(patterns, records, (ps, rs) => {
        let filter: ((r: DeliveryRecord) => boolean) | undefined;
        const e = thrown(() => {
          filter = compileFilters(ps as FilterPattern[]);
        });
        if (e !== undefined) {
          expect(e).toBeInstanceOf(FloeError);
          expect((e as FloeError).code).toBe("INVALID_CONFIG");
          return;
        }
        for (const r of rs) expect(typeof filter!({ ...record(null), ...r })).toBe("boolean");
      }),
      { numRuns: 300 },
    );
  });
});

describe("compileFilters: properties", () => {
  const text = fc.string({ maxLength: 6, unit: fc.constantFrom("a", "b", "A", "*", "é", "\\") });

  it("anything-but [x] is the complement of [x] on strings where the field exists", () => {
    fc.assert(
      fc.property(fc.array(text, { minLength: 1, maxLength: 3 }), text, (xs, s) => {
        const [is] = onField(xs, s);
        const [isNot] = onField([{ "anything-but": xs }], s);
        expect(isNot).toBe(!is);
        expect(is).toBe(xs.includes(s));
      }),
    );
  });

  it("anything-but of a string matcher is its complement on strings", () => {
    fc.assert(
      fc.property(fc.constantFrom("prefix", "suffix", "equals-ignore-case"), text, text, (op, arg, s) => {
        const [is] = onField([{ [op]: arg }], s);
        const [isNot] = onField([{ "anything-but": { [op]: arg } }], s);
        expect(isNot).toBe(!is);
      }),
    );
  });

  it("a value that is JSON, blanks around it or not, is matched as its parse", () => {
    const blanks = fc.string({ maxLength: 3, unit: fc.constantFrom(" ", "\n", "\r", "\t") });
    const primitive = fc.oneof(
      fc.string({ maxLength: 8 }),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.integer(),
      fc.boolean(),
      fc.constant(null),
    );
    fc.assert(
      fc.property(primitive, blanks, blanks, fc.boolean(), (v, before, after, nested) => {
        const text = before + JSON.stringify(nested ? { a: [0, v] } : v) + after;
        const pattern = nested ? { value: { a: [v] } } : { value: [v] };
        expect(passes(pattern, record(text))).toEqual([true]);
      }),
      { numRuns: 300 },
    );
  });

  it("numeric ranges agree with plain comparisons", () => {
    const lower = fc.option(fc.tuple(fc.constantFrom(">", ">="), fc.integer({ min: -20, max: 20 })));
    const upper = fc.option(fc.tuple(fc.constantFrom("<", "<="), fc.integer({ min: -20, max: 20 })));
    const value = fc.oneof(fc.integer({ min: -25, max: 25 }), fc.double({ min: -25, max: 25, noNaN: true }));
    fc.assert(
      fc.property(lower, upper, fc.array(value, { maxLength: 8 }), (lo, hi, values) => {
        fc.pre(lo !== null || hi !== null);
        fc.pre(!(lo && hi && (lo[1] > hi[1] || (lo[1] === hi[1] && (lo[0] === ">" || hi[0] === "<")))));
        const clause = [...(lo ?? []), ...(hi ?? [])];
        const inRange = (v: number) =>
          (lo === null || (lo[0] === ">" ? v > lo[1] : v >= lo[1])) &&
          (hi === null || (hi[0] === "<" ? v < hi[1] : v <= hi[1]));
        expect(onField([{ numeric: clause }], ...values)).toEqual(values.map(inRange));
        // An array of numbers matches when any element is in range.
        expect(onField([{ numeric: clause }], values)).toEqual([values.some(inRange)]);
      }),
    );
  });
});
