import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  checkJsonText,
  isJsonText,
  JsonTextError,
  MAX_HEADERS_PER_RECORD,
  MAX_JSON_DEPTH,
  scanProduceBody,
} from "../../../src/api/json-text.js";
import { thrown } from "../../support/thrown.js";

const utf8 = (text: string) => new TextEncoder().encode(text);
const problem = (text: string | Uint8Array) => {
  const e = thrown(() => checkJsonText(typeof text === "string" ? utf8(text) : text));
  expect(e).toBeInstanceOf(JsonTextError);
  return e as JsonTextError;
};
const nested = (depth: number) => `${"[".repeat(depth)}${"]".repeat(depth)}`;

describe("checkJsonText", () => {
  it("accepts what JSON.parse accepts, for any JSON value however written", () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), fc.boolean(), (value, pretty) => {
        const text = JSON.stringify(value, null, pretty ? 2 : undefined);
        // JSON.stringify writes a lone surrogate as an escape, which Floe refuses (below).
        if (/\\ud[89a-f]/i.test(text)) return;
        expect(isJsonText(utf8(text))).toBe(true);
      }),
    );
  });

  it("refuses what JSON.parse refuses", () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 12, unit: fc.constantFrom(...'{}[]:,"\\ 0-1.eEtruefalsn') }),
        (text) => {
          let parses = true;
          try {
            JSON.parse(text);
          } catch {
            parses = false;
          }
          if (!parses) expect(isJsonText(utf8(text))).toBe(false);
          else if (!/\\u/.test(text)) expect(isJsonText(utf8(text))).toBe(true);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("keeps numbers out of any arithmetic: 1e400 and 30-digit integers are valid text", () => {
    expect(isJsonText(utf8("1e400"))).toBe(true);
    expect(isJsonText(utf8("123456789012345678901234567890"))).toBe(true);
    expect(isJsonText(utf8("-0.5E-07"))).toBe(true);
    for (const bad of ["01", "1.", ".5", "-", "1e", "+1", "0x10", "NaN", "Infinity"])
      expect(isJsonText(utf8(bad)), bad).toBe(false);
  });

  it("refuses invalid UTF-8 (overlong, surrogate, truncated, stray continuation) inside strings", () => {
    const wrap = (...bytes: number[]) => new Uint8Array([0x22, ...bytes, 0x22]);
    for (const bytes of [
      [0xff],
      [0xc0, 0xaf],
      [0xed, 0xa0, 0x80],
      [0xe2, 0x82],
      [0x80],
      [0xf4, 0x90, 0x80, 0x80],
    ])
      expect(problem(wrap(...bytes)).kind, bytes.join(",")).toBe("utf8");
    expect(isJsonText(utf8('"é€😀"'))).toBe(true);
  });

  it("refuses a lone surrogate, escaped, high or low; accepts an escaped pair", () => {
    expect(problem('"\\ud800"').kind).toBe("surrogate");
    expect(problem('"\\udc00"').kind).toBe("surrogate");
    expect(problem('"\\ud800\\u0041"').kind).toBe("surrogate");
    expect(problem('"\\ud800x"').kind).toBe("surrogate");
    expect(isJsonText(utf8('"\\ud83d\\ude00"'))).toBe(true);
  });

  it(`refuses nesting deeper than ${MAX_JSON_DEPTH} without recursing, however deep`, () => {
    expect(isJsonText(utf8(nested(MAX_JSON_DEPTH)))).toBe(true);
    expect(problem(nested(MAX_JSON_DEPTH + 1)).kind).toBe("depth");
    // 10^6 levels: a recursive scanner (or JSON.stringify) would overflow the stack.
    expect(problem(`${'{"a":'.repeat(1_000_000)}1${"}".repeat(1_000_000)}`).kind).toBe("depth");
  });

  it("refuses trailing text and an empty text", () => {
    expect(problem("1 2").kind).toBe("syntax");
    expect(problem("").kind).toBe("syntax");
    expect(problem("  ").kind).toBe("syntax");
    expect(isJsonText(utf8(" \n[1, 2]\t"))).toBe(true);
  });
});

describe("scanProduceBody", () => {
  const spans = (body: string) => {
    const bytes = utf8(body);
    return scanProduceBody(bytes).recordValues.map((s) =>
      s === undefined ? undefined : new TextDecoder().decode(bytes.subarray(s.start, s.end)),
    );
  };

  it("answers each records[i].value's exact source text", () => {
    expect(
      spans(
        '{"records":[{"value":1e400},{"key":"k","value":{ "a" : [1, 2.50] }},{"value":"x\\"y"},{"key":"only"},{"value":null}]}',
      ),
    ).toEqual(["1e400", '{ "a" : [1, 2.50] }', '"x\\"y"', undefined, "null"]);
  });

  it("keeps the last of duplicate keys, as JSON.parse does, escaped key names included", () => {
    expect(spans('{"records":[{"value":1}],"records":[{"value":2,"val\\u0075e":3}]}')).toEqual(["3"]);
  });

  it("ignores value members elsewhere", () => {
    expect(spans('{"value":1,"other":[{"value":2}],"records":[[{"value":3}]]}')).toEqual([]);
  });

  it(`refuses a record with more than ${MAX_HEADERS_PER_RECORD} headers, naming the record`, () => {
    const headers = (n: number) => `{${Array.from({ length: n }, (_, i) => `"h${i}":"v"`).join(",")}}`;
    expect(() => scanProduceBody(utf8(`{"records":[{"value":1,"headers":${headers(1000)}}]}`))).not.toThrow();
    const e = thrown(() =>
      scanProduceBody(utf8(`{"records":[{"value":1},{"value":1,"headers":${headers(1001)}}]}`)),
    ) as JsonTextError;
    expect(e).toBeInstanceOf(JsonTextError);
    expect(e.kind).toBe("headers");
    expect(e.path).toEqual(["records", 1, "headers"]);
  });

  it("names where a problem is, down to records[i].field", () => {
    const e = thrown(() =>
      scanProduceBody(utf8('{"records":[{"value":1},{"key":"\\udc00"}]}')),
    ) as JsonTextError;
    expect(e.kind).toBe("surrogate");
    expect(e.path).toEqual(["records", 1, "key"]);
  });
});
