import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { FloeError } from "../../../src/errors.js";
import {
  compileFilters,
  MAX_FILTER_PATTERNS,
  MAX_PATTERN_BYTES,
  MAX_OR_COMBINATIONS,
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
    expect(refusal([{ value: { a: [{ contains: "x" }] } }])).toMatch(/unknown matcher "contains"/);
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

describe("compileFilters: anything-but over lists of string matchers", () => {
  it("a prefix, suffix or wildcard list: present values none of them matches", () => {
    expect(
      onField(
        [{ "anything-but": { prefix: ["us-", "eu-"] } }],
        "us-east-1",
        "eu-west-1",
        "ap-south-1",
        "US-x",
        3,
        null,
      ),
    ).toEqual([false, false, true, true, true, true]);
    expect(
      onField([{ "anything-but": { suffix: [".png", ".gif"] } }], "a.png", "b.gif", "c.jpg", "png"),
    ).toEqual([false, false, true, true]);
    expect(
      onField([{ "anything-but": { wildcard: ["*/lib/*", "*.tmp"] } }], "/usr/lib/x", "a.tmp", "/usr/bin/x"),
    ).toEqual([false, false, true]);
    // Absent fields and elements of arrays follow anything-but's usual rules.
    expect(
      onField([{ "anything-but": { prefix: ["a", "b"] } }], undefined, ["ax", "by"], ["ax", "cz"]),
    ).toEqual([false, false, true]);
  });

  it("an equals-ignore-case value or list: present values equal to none, in any case", () => {
    expect(
      onField(
        [{ "anything-but": { "equals-ignore-case": ["Stopped", "OVERLOADED"] } }],
        "stopped",
        "Overloaded",
        "running",
        1,
      ),
    ).toEqual([false, false, true, true]);
    expect(onField([{ "anything-but": { "equals-ignore-case": "Stopped" } }], "STOPPED", "running")).toEqual([
      false,
      true,
    ]);
  });

  it("refuses an empty list or one holding anything but strings, naming the element", () => {
    expect(refusal([{ value: { a: [{ "anything-but": { prefix: [] } }] } }])).toMatch(
      /a\[0\]\.anything-but\.prefix: .*may not be empty/,
    );
    expect(refusal([{ value: { a: [{ "anything-but": { suffix: ["x", 1] } }] } }])).toMatch(
      /a\[0\]\.anything-but\.suffix\[1\]: .*strings only/,
    );
    expect(refusal([{ value: { a: [{ "anything-but": { "equals-ignore-case": ["x", null] } }] } }])).toMatch(
      /a\[0\]\.anything-but\.equals-ignore-case\[1\]: /,
    );
    expect(refusal([{ value: { a: [{ "anything-but": { wildcard: ["ok", "a**b"] } }] } }])).toMatch(
      /a\[0\]\.anything-but\.wildcard\[1\]: .*consecutive/,
    );
    expect(
      refusal([{ value: { a: [{ "anything-but": { prefix: [{ "equals-ignore-case": "x" }] } }] } }]),
    ).toMatch(/a\[0\]\.anything-but\.prefix\[0\]: /);
    expect(refusal([{ value: { a: [{ "anything-but": { cidr: "10.0.0.0/8" } }] } }])).toMatch(
      /a\[0\]\.anything-but: /,
    );
  });

  it("anything-but of a list of string matchers is the complement of the list on strings", () => {
    const text = fc.string({ maxLength: 5, unit: fc.constantFrom("a", "b", "A", "é", "*") });
    const piece = fc.string({ maxLength: 3, unit: fc.constantFrom("a", "b", "A", "é") });
    const op = fc.constantFrom("prefix", "suffix", "equals-ignore-case", "wildcard");
    fc.assert(
      fc.property(op, fc.array(piece, { minLength: 1, maxLength: 3 }), text, (o, args, s) => {
        // A wildcard list gets stars between its pieces, so it is not only exact matches.
        const list = o === "wildcard" ? args.map((a) => `${a}*`) : args;
        const [isNot] = onField([{ "anything-but": { [o]: list } }], s);
        const [anyIs] = onField(
          list.map((a) => ({ [o]: a })),
          s,
        );
        expect(isNot).toBe(!anyIs);
      }),
      { numRuns: 300 },
    );
  });
});

describe("compileFilters: cidr", () => {
  it("matches IPv4 and IPv6 address strings within the network", () => {
    expect(
      onField([{ cidr: "10.0.0.0/24" }], "10.0.0.0", "10.0.0.255", "10.0.1.0", "9.255.255.255", "10.0.0.7"),
    ).toEqual([true, true, false, false, true]);
    expect(
      onField([{ cidr: "2001:db8::/32" }], "2001:db8::1", "2001:DB8:ffff::", "2001:db9::", "::1"),
    ).toEqual([true, true, false, false]);
    expect(onField([{ cidr: "192.168.1.7/32" }], "192.168.1.7", "192.168.1.8")).toEqual([true, false]);
    expect(onField([{ cidr: "0.0.0.0/0" }], "1.2.3.4", "255.255.255.255", "::1")).toEqual([
      true,
      true,
      false,
    ]);
    expect(onField([{ cidr: "::/0" }], "1.2.3.4", "::1", "ffff::")).toEqual([true, true, true]);
    // A prefix ending inside a byte.
    expect(onField([{ cidr: "172.16.0.0/12" }], "172.31.255.255", "172.32.0.0", "172.15.0.1")).toEqual([
      true,
      false,
      false,
    ]);
  });

  it("an IPv4 address and its IPv4-mapped IPv6 form are the same address", () => {
    expect(onField([{ cidr: "10.0.0.0/8" }], "::ffff:10.1.2.3", "::ffff:a01:203", "::10.1.2.3")).toEqual([
      true,
      true,
      false,
    ]);
    expect(onField([{ cidr: "::ffff:0:0/96" }], "8.8.8.8", "::8.8.8.8")).toEqual([true, false]);
  });

  it("a value that is not an address string does not match", () => {
    expect(
      onField(
        [{ cidr: "10.0.0.0/8" }],
        "10.0.0",
        "10.0.0.1 ",
        "010.0.0.1",
        "10.0.0.1/8",
        "host.example",
        167772161,
        null,
        true,
        undefined,
        "",
      ),
    ).toEqual([false, false, false, false, false, false, false, false, false, false]);
    expect(onField([{ cidr: "fe80::/10" }], "fe80::1%eth0", "fe80::1")).toEqual([false, true]);
    expect(passes({ key: [{ cidr: "10.0.0.0/8" }] }, record("v", "10.1.1.1"), record("v", NOT_UTF8))).toEqual(
      [true, false],
    );
    // An array matches when an element is in the network.
    expect(onField([{ cidr: "10.0.0.0/8" }], ["1.1.1.1", "10.9.9.9"], ["1.1.1.1"])).toEqual([true, false]);
    // anything-but does not take cidr, but an address is a string like any other for the rest.
    expect(onField([{ cidr: "10.0.0.0/8" }, { prefix: "192." }], "192.0.2.1")).toEqual([true]);
  });

  it("refuses a malformed network, naming the matcher", () => {
    const at = (c: unknown) => refusal([{ value: { ip: [{ cidr: c }] } }]);
    expect(at(10)).toMatch(/filters\[0\]\.value\.ip\[0\]\.cidr: cidr takes a string/);
    expect(at("10.0.0.0")).toMatch(/ip\[0\]\.cidr: .*slash/);
    expect(at("10.0.0.0/8/8")).toMatch(/ip\[0\]\.cidr: .*slash/);
    expect(at("10.0.0/8")).toMatch(/ip\[0\]\.cidr: "10\.0\.0" is not an IPv4 or IPv6 address/);
    expect(at("host/8")).toMatch(/ip\[0\]\.cidr: .*not an IPv4 or IPv6/);
    expect(at("fe80::%eth0/64")).toMatch(/ip\[0\]\.cidr: .*zone/);
    expect(at("10.0.0.0/33")).toMatch(/ip\[0\]\.cidr: an IPv4 prefix length is .* 0 to 32, got "33"/);
    expect(at("::/129")).toMatch(/ip\[0\]\.cidr: an IPv6 prefix length is .* 0 to 128/);
    expect(at("10.0.0.0/")).toMatch(/ip\[0\]\.cidr: .*prefix length/);
    expect(at("10.0.0.0/-1")).toMatch(/ip\[0\]\.cidr: .*prefix length/);
    expect(at("10.0.0.0/+8")).toMatch(/ip\[0\]\.cidr: .*prefix length/);
    expect(at("10.0.0.0/ 8")).toMatch(/ip\[0\]\.cidr: .*prefix length/);
    expect(at("10.0.0.1/8")).toMatch(
      /ip\[0\]\.cidr: 10\.0\.0\.1\/8 has bits set past .*the network is 10\.0\.0\.0\/8/,
    );
    expect(at("2001:db8::1/32")).toMatch(/cidr: .*the network is 2001:db8:0:0:0:0:0:0\/32/);
    expect(() =>
      compileFilters([{ value: { ip: [{ cidr: "10.0.0.0/32" }, { cidr: "::/128" }] } }]),
    ).not.toThrow();
  });

  it("agrees with a bit-by-bit comparison over random addresses, however they are written", () => {
    const bytesOf = (family: 4 | 6) =>
      fc.uint8Array({ minLength: family === 4 ? 4 : 16, maxLength: family === 4 ? 4 : 16 });
    /** Sixteen bytes as IPv6 text: groups maybe zero-padded or upper-cased, one zero run maybe `::`, maybe a dotted tail. */
    const ipv6Text = (b: Uint8Array) =>
      fc
        .record({ pad: fc.boolean(), upper: fc.boolean(), compress: fc.boolean(), dotted: fc.boolean() })
        .map((o) => {
          const words = Array.from({ length: 8 }, (_, i) => (b[2 * i] << 8) | b[2 * i + 1]);
          const hex = (w: number) => {
            const h = o.pad ? w.toString(16).padStart(4, "0") : w.toString(16);
            return o.upper ? h.toUpperCase() : h;
          };
          const tail = o.dotted ? [`${b[12]}.${b[13]}.${b[14]}.${b[15]}`] : [];
          const parts = (o.dotted ? words.slice(0, 6) : words).map(hex);
          if (o.compress) {
            // The longest run of zero groups becomes "::".
            let best = -1;
            let bestLength = 0;
            for (let i = 0; i < parts.length; i++) {
              let j = i;
              while (j < parts.length && (o.dotted ? words : words)[j] === 0) j++;
              if (j - i > bestLength) [best, bestLength] = [i, j - i];
            }
            if (best >= 0) {
              const before = parts.slice(0, best).join(":");
              const after = [...parts.slice(best + bestLength), ...tail].join(":");
              return `${before}::${after}`;
            }
          }
          return [...parts, ...tail].join(":");
        });
    /** The first `bits` bits of two byte arrays agree: the oracle, one bit at a time. */
    const agree = (a: Uint8Array, b: Uint8Array, bits: number) => {
      for (let i = 0; i < bits; i++) {
        const mask = 0x80 >> (i % 8);
        if ((a[i >> 3] & mask) !== (b[i >> 3] & mask)) return false;
      }
      return true;
    };
    const mapped = (v4: Uint8Array) => Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...v4]);
    const masked = (b: Uint8Array, bits: number) =>
      b.map((x, i) => x & ((0xff << (8 - Math.max(0, Math.min(8, bits - 8 * i)))) & 0xff));
    const case4 = fc.tuple(bytesOf(4), bytesOf(4), fc.integer({ min: 0, max: 32 }), fc.boolean());
    fc.assert(
      fc.property(case4, ([net, addr, length, near]) => {
        // Half the time the address shares the network's first bytes, so matches are common too.
        const address = near ? Uint8Array.from(addr.map((x, i) => (i < 3 ? net[i] : x))) : addr;
        const network = masked(net, length);
        const [is] = onField([{ cidr: `${network.join(".")}/${length}` }], address.join("."));
        expect(is).toBe(agree(address, network, length));
      }),
      { numRuns: 500 },
    );
    const case6 = fc
      .tuple(bytesOf(6), bytesOf(6), fc.integer({ min: 0, max: 128 }), fc.integer({ min: 0, max: 16 }))
      .chain(([net, addr, length, shared]) => {
        // Share the network's first bytes and zero some groups, so both matches and "::" show up.
        const address = Uint8Array.from(addr.map((x, i) => (i < shared ? net[i] : i >= 6 && i < 10 ? 0 : x)));
        const network = masked(net, length);
        return fc.tuple(ipv6Text(network), ipv6Text(address), fc.constant({ network, address, length }));
      });
    fc.assert(
      fc.property(case6, ([networkText, addressText, { network, address, length }]) => {
        const [is] = onField([{ cidr: `${networkText}/${length}` }], addressText);
        expect(is).toBe(agree(address, network, length));
      }),
      { numRuns: 500 },
    );
    // An IPv4 network matches the IPv4-mapped IPv6 text of the same address.
    fc.assert(
      fc.property(case4, ([net, addr, length]) => {
        const network = masked(net, length);
        const [is] = onField([{ cidr: `${network.join(".")}/${length}` }], `::ffff:${addr.join(".")}`);
        expect(is).toBe(agree(mapped(addr), mapped(network), 96 + length));
      }),
      { numRuns: 200 },
    );
  });
});

describe("compileFilters: $or", () => {
  it("matches a value object when its other fields do and any one alternative does", () => {
    const p = {
      value: {
        source: ["cloudwatch"],
        $or: [{ metric: ["CPU", "Latency"] }, { namespace: ["EC2"], kind: [{ prefix: "m" }] }],
      },
    };
    expect(
      passes(
        p,
        json({ source: "cloudwatch", metric: "CPU" }),
        json({ source: "cloudwatch", namespace: "EC2", kind: "metric" }),
        json({ source: "cloudwatch", namespace: "EC2", kind: "alarm" }),
        json({ source: "ec2", metric: "CPU" }),
        json({ source: "cloudwatch" }),
      ),
    ).toEqual([true, true, false, false, false]);
  });

  it("nests, at any level, and in parallel at different levels", () => {
    const nested = {
      value: {
        $or: [{ a: [1] }, { b: [2], $or: [{ c: [3] }, { d: { e: [4] } }] }],
      },
    };
    expect(
      passes(
        nested,
        json({ a: 1 }),
        json({ b: 2, c: 3 }),
        json({ b: 2, d: { e: 4 } }),
        json({ b: 2 }),
        json({ c: 3 }),
      ),
    ).toEqual([true, true, true, false, false]);
    const parallel = {
      value: {
        $or: [{ a: [1] }, { b: [1] }],
        detail: { $or: [{ c: [1] }, { d: [1] }] },
      },
    };
    expect(
      passes(
        parallel,
        json({ a: 1, detail: { d: 1 } }),
        json({ b: 1, detail: { c: 1 } }),
        json({ a: 1, detail: {} }),
      ),
    ).toEqual([true, true, false]);
  });

  it("at a pattern's top level, across key, value and headers, and among headers", () => {
    const top = { $or: [{ key: ["vip"] }, { value: { total: [{ numeric: [">", 100] }] } }] };
    expect(
      passes(top, record('{"total":5}', "vip"), record('{"total":500}', "k"), record('{"total":5}', "k")),
    ).toEqual([true, true, false]);
    const headers = { headers: { type: ["order"], $or: [{ region: ["eu"] }, { priority: ["high"] }] } };
    expect(
      passes(
        headers,
        record("v", null, [
          ["type", "order"],
          ["region", "eu"],
        ]),
        record("v", null, [
          ["type", "order"],
          ["priority", "high"],
        ]),
        record("v", null, [
          ["type", "order"],
          ["region", "us"],
        ]),
        record("v", null, [["region", "eu"]]),
      ),
    ).toEqual([true, true, false, false]);
    // Both $or at once: each needs one alternative.
    const both = { $or: [{ key: ["a"] }, { key: ["b"] }], headers: { $or: [{ x: ["1"] }, { y: ["1"] }] } };
    expect(
      passes(
        both,
        record("v", "a", [["y", "1"]]),
        record("v", "a", [["z", "1"]]),
        record("v", "c", [["x", "1"]]),
      ),
    ).toEqual([true, false, false]);
  });

  it("against an array of objects, one element must match the fields and one alternative whole", () => {
    const p = { value: { items: { sku: ["A"], $or: [{ qty: [{ numeric: [">", 1] }] }, { gift: [true] }] } } };
    const split = json({
      items: [
        { sku: "A", qty: 1 },
        { sku: "B", qty: 5, gift: true },
      ],
    });
    const whole = json({
      items: [
        { sku: "B", qty: 1 },
        { sku: "A", qty: 1, gift: true },
      ],
    });
    expect(passes(p, split, whole)).toEqual([false, true]);
  });

  it("an object absent from the record matches when its fields and one alternative match absence", () => {
    const p = { value: { a: { $or: [{ b: [{ exists: false }] }, { c: ["x"] }] } } };
    expect(
      passes(p, json({}), json({ a: "text" }), json({ a: { b: 1 } }), json({ a: { b: 1, c: "x" } })),
    ).toEqual([true, true, false, true]);
    // No alternative matches absence: an absent object does not match.
    const present = { value: { a: { $or: [{ b: ["1"] }, { c: ["x"] }] } } };
    expect(passes(present, json({}), json({ a: 5 }), json({ a: { c: "x" } }))).toEqual([false, false, true]);
  });

  it("refuses $or that is not an array of at least two non-empty objects, naming it", () => {
    expect(refusal([{ value: { $or: { a: [1] } } }])).toMatch(
      /filters\[0\]\.value\.\$or: \$or takes an array of at least 2/,
    );
    expect(refusal([{ value: { $or: [{ a: [1] }] } }])).toMatch(
      /value\.\$or: \$or takes an array of at least 2/,
    );
    expect(refusal([{ value: { $or: [{ a: [1] }, ["b"]] } }])).toMatch(
      /value\.\$or\[1\]: an \$or alternative is an object/,
    );
    expect(refusal([{ value: { $or: [{ a: [1] }, {}] } }])).toMatch(/value\.\$or\[1\]: .*at least one field/);
    expect(refusal([{ $or: [{ key: ["a"] }, { topic: ["b"] }] }])).toMatch(
      /filters\[0\]\.\$or\[1\]\.topic: unknown field/,
    );
    expect(refusal([{ $or: [{ key: ["a"] }, {}] }])).toMatch(
      /filters\[0\]\.\$or\[1\]: a pattern names at least one/,
    );
    expect(refusal([{ headers: { $or: [{ h: ["1"] }, { h: "1" }] } }])).toMatch(/headers\.\$or\[1\]\.h: /);
    expect(refusal([{ value: { a: [{ $or: [1, 2] }] } }])).toMatch(/value\.a\[0\]: unknown matcher "\$or"/);
  });

  it("refuses a matcher's name used as a field inside $or (a misplaced matcher), as EventBridge does", () => {
    expect(refusal([{ value: { $or: [{ numeric: [">", 1] }, { b: [1] }] } }])).toMatch(
      /value\.\$or\[0\]\.numeric: "numeric" is a matcher, not a field/,
    );
    expect(refusal([{ value: { $or: [{ a: { prefix: ["x"] } }, { b: [1] }] } }])).toMatch(
      /value\.\$or\[0\]\.a\.prefix: /,
    );
    expect(refusal([{ headers: { $or: [{ exists: ["x"] }, { b: ["1"] }] } }])).toMatch(
      /headers\.\$or\[0\]\.exists: /,
    );
    // Outside $or such a name is an ordinary field.
    expect(passes({ value: { prefix: ["x"] } }, json({ prefix: "x" }))).toEqual([true]);
  });

  it(`refuses a pattern whose $or expand past ${MAX_OR_COMBINATIONS} combinations, naming where`, () => {
    /** `n` parallel $or of `k` alternatives each, at fields f0..f(n-1): k^n combinations. */
    const parallel = (n: number, k: number) => ({
      value: Object.fromEntries(
        Array.from({ length: n }, (_, i) => [
          `f${i}`,
          { $or: Array.from({ length: k }, (_, j) => ({ [`g${j}`]: [j] })) },
        ]),
      ),
    });
    expect(() => compileFilters([parallel(3, 10)])).not.toThrow(); // 1000
    expect(refusal([parallel(4, 6)])).toMatch(
      /^Invalid filter at filters\[0\]\.value: its \$or alternatives expand to 1296 combinations; at most 1000/,
    );
    // Nested: the alternatives' own $or add up inside and multiply with their siblings.
    const nested = (depth: number): unknown =>
      depth === 0
        ? { x: [1] }
        : { $or: [nested(depth - 1), nested(depth - 1)], y: { $or: [{ a: [1] }, { b: [1] }] } };
    // Each level: (the two alternatives' sum) x 2 for y: 4, 16, 64, 256, 1024.
    expect(() => compileFilters([{ value: nested(4) as FilterPattern }])).not.toThrow();
    expect(refusal([{ value: nested(5) as FilterPattern }])).toMatch(
      /^Invalid filter at filters\[0\]\.value: .*expand to 1024 combinations/,
    );
    // Deeper, the alternative that first goes past the limit is named.
    expect(refusal([{ value: nested(6) as FilterPattern }])).toMatch(
      /at filters\[0\]\.value\.\$or\[0\]: .*1024/,
    );
  });

  it("$or of A and B matches exactly when A or B alone does", () => {
    const name = fc.constantFrom("a", "b", "c");
    const leaf = fc.constantFrom<unknown[]>(
      [1],
      [2],
      ["x"],
      [{ exists: false }],
      [{ exists: true }],
      [{ numeric: [">", 1] }],
    );
    const object = fc.dictionary(
      name,
      fc.oneof(leaf, fc.dictionary(name, leaf, { minKeys: 1, maxKeys: 2 })),
      {
        minKeys: 1,
        maxKeys: 3,
      },
    );
    const primitive = fc.constantFrom<unknown>(1, 2, 3, "x", null, true);
    const value = fc.dictionary(
      name,
      fc.oneof(primitive, fc.dictionary(name, primitive, { maxKeys: 3 }), fc.array(primitive)),
      {
        maxKeys: 3,
      },
    );
    fc.assert(
      fc.property(
        object,
        object,
        fc.option(object),
        fc.array(value, { minLength: 1, maxLength: 4 }),
        (a, b, rest, values) => {
          const records = values.map(json);
          const or = passes({ value: { ...(rest ?? {}), $or: [a, b] } }, ...records);
          const withA = passes({ value: { ...(rest ?? {}), ...a } } as FilterPattern, ...records);
          const withB = passes({ value: { ...(rest ?? {}), ...b } } as FilterPattern, ...records);
          // Fields the alternative and the rest share would merge above; keep to patterns where they do not.
          fc.pre(
            Object.keys(a).every((k) => !rest || !(k in rest)) &&
              Object.keys(b).every((k) => !rest || !(k in rest)),
          );
          expect(or).toEqual(withA.map((x, i) => x || withB[i]));
          // And several patterns in the list mean the same as one $or of them.
          expect(compileFilters([{ value: a }, { value: b }])(records[0])).toBe(
            passes({ value: { $or: [a, b] } }, records[0])[0],
          );
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("compileFilters: $or against its expansion", () => {
  /**
   * A pattern object with its `$or`s written out, as EventBridge's matcher (aws/event-ruler) reads
   * them: one `$or`-free object per combination. Undefined where a field would be named twice
   * (beside an `$or` and in an alternative), which that expansion merges differently.
   */
  function expand(spec: Record<string, unknown>): Record<string, unknown>[] | undefined {
    let out: Record<string, unknown>[] = [{}];
    const join = (parts: Record<string, unknown>[], more: Record<string, unknown>[]) => {
      const joined: Record<string, unknown>[] = [];
      for (const a of parts) {
        for (const b of more) {
          if (Object.keys(b).some((k) => k in a)) return undefined;
          joined.push({ ...a, ...b });
        }
      }
      return joined;
    };
    for (const [name, sub] of Object.entries(spec)) {
      let more: Record<string, unknown>[] | undefined;
      if (name === "$or") {
        more = [];
        for (const alternative of sub as Record<string, unknown>[]) {
          const expanded = expand(alternative);
          if (expanded === undefined) return undefined;
          more.push(...expanded);
        }
      } else if (Array.isArray(sub)) {
        more = [{ [name]: sub }];
      } else {
        more = expand(sub as Record<string, unknown>)?.map((s) => ({ [name]: s }));
      }
      const joined = more && join(out, more);
      if (joined === undefined) return undefined;
      out = joined;
    }
    return out;
  }

  const name = fc.constantFrom("a", "b", "c");
  const matchers = fc.array(
    fc.constantFrom<unknown>(
      1,
      "x",
      null,
      { exists: false },
      { exists: true },
      { numeric: [">", 1] },
      { prefix: "10." },
      { cidr: "10.0.0.0/8" },
      { cidr: "2001:db8::/32" },
      { "anything-but": { prefix: ["x", "10."] } },
      { "anything-but": { "equals-ignore-case": ["X", "y"] } },
      { "anything-but": { wildcard: ["*.1", "x*"] } },
    ),
    { minLength: 1, maxLength: 2 },
  );
  const { object } = fc.letrec<{ object: Record<string, unknown>; field: unknown }>((tie) => ({
    field: fc.oneof(
      { maxDepth: 3, depthIdentifier: "pattern", withCrossShrink: true },
      matchers,
      tie("object"),
    ),
    object: fc
      .tuple(
        fc.dictionary(name, tie("field"), { minKeys: 0, maxKeys: 2 }),
        fc.option(fc.array(tie("object"), { minLength: 2, maxLength: 2 }), {
          depthIdentifier: "pattern",
          maxDepth: 3,
        }),
      )
      .filter(([fields, or]) => Object.keys(fields).length > 0 || or !== null)
      .map(([fields, or]) => (or === null ? fields : { ...fields, $or: or })),
  }));
  const leaf = fc.constantFrom<unknown>(
    1,
    2,
    "x",
    "X",
    "y",
    "a.1",
    null,
    true,
    "10.1.2.3",
    "2001:db8::7",
    "::ffff:10.9.9.9",
    "11.0.0.1",
  );
  const { value } = fc.letrec<{ value: unknown }>((tie) => ({
    value: fc.oneof(
      { maxDepth: 3, withCrossShrink: true },
      leaf,
      fc.array(tie("value"), { maxLength: 3 }),
      fc.dictionary(name, tie("value"), { maxKeys: 3 }),
    ),
  }));

  it("a pattern with $or matches exactly what its written-out combinations match", () => {
    let compared = 0;
    fc.assert(
      fc.property(object, fc.array(value, { minLength: 1, maxLength: 6 }), (spec, values) => {
        const combinations = expand(spec);
        fc.pre(combinations !== undefined && combinations.length <= MAX_FILTER_PATTERNS);
        const records = values.map((v) => json(v));
        const filter = compileFilters([{ value: spec }]);
        const expanded = compileFilters(combinations!.map((c) => ({ value: c })));
        expect(records.map(filter)).toEqual(records.map(expanded));
        compared++;
      }),
      { numRuns: 400 },
    );
    // Most generated patterns are compared, not filtered out.
    expect(compared).toBeGreaterThan(200);
  });
});
