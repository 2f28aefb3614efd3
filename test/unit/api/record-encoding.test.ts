import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MAX_JSON_DEPTH } from "../../../src/api/json-text.js";
import {
  type Encoding,
  ENCODINGS,
  encodeHeaders,
  encodeKey,
  encodeValue,
  escapedIn,
  renderRecord,
} from "../../../src/api/record-encoding.js";
import type { FetchedRecord } from "../../../src/broker/types.js";
import type { RecordHeader } from "../../../src/log/record-batch.js";

const stored = (value: Uint8Array | null, more: Partial<FetchedRecord> = {}): FetchedRecord => ({
  offset: 7,
  timestamp: 1,
  key: null,
  value,
  headers: [],
  ...more,
});
/** A record as a fetch answers it, parsed. */
const read = (record: FetchedRecord, encoding: Encoding) => {
  const rendered = renderRecord(record, encoding);
  const text = rendered.text;
  const bytes = rendered.bytes;
  expect(bytes).toBe(Buffer.byteLength(text));
  expect(rendered.escapes ?? escapedIn(text)).toBe(escapedIn(text));
  return JSON.parse(text);
};
const decodeValue = (value: Uint8Array | null, encoding: Encoding) => read(stored(value), encoding).value;
const decodeKey = (key: Uint8Array | null, encoding: Encoding) => read(stored(null, { key }), encoding).key;
const decodeHeaders = (headers: RecordHeader[], encoding: Encoding) =>
  read(stored(null, { headers }), encoding).headers;
const utf8 = (text: string) => new TextEncoder().encode(text);

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64");

describe("record encodings", () => {
  it("base64 round-trips any bytes exactly", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const text = b64(bytes);
        const stored = encodeValue(text, "base64")!;
        expect(stored).toEqual(bytes);
        expect(decodeValue(stored, "base64")).toBe(text);
      }),
    );
  });

  it("string round-trips any text, keeping a leading BOM", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme" }), (text) => {
        expect(decodeValue(encodeValue(text, "string"), "string")).toBe(text);
        const withBom = `\uFEFF${text}`;
        expect(decodeKey(encodeKey(withBom, "string"), "string")).toBe(withBom);
      }),
    );
  });

  it("json stores a value as its JSON text and returns it parsed", () => {
    fc.assert(
      fc.property(fc.jsonValue({ noUnicodeString: false }), (value) => {
        const stored = encodeValue(value, "json");
        if (value === null) {
          expect(stored).toBeNull();
        } else {
          expect(new TextDecoder().decode(stored!)).toBe(JSON.stringify(value));
          expect(decodeValue(stored, "json")).toEqual(JSON.parse(JSON.stringify(value)));
        }
      }),
    );
  });

  it("keeps null as a tombstone (no bytes at all) in every encoding", () => {
    for (const encoding of ENCODINGS) {
      expect(encodeValue(null, encoding)).toBeNull();
      expect(decodeValue(null, encoding)).toBeNull();
      expect(encodeKey(null, encoding)).toBeNull();
      expect(encodeKey(undefined, encoding)).toBeNull();
    }
  });

  it("carries headers as an object, null values included; a repeated name keeps its last value", () => {
    const headers = encodeHeaders({ a: "1", b: null }, "string");
    expect(headers).toEqual([
      { key: "a", value: new TextEncoder().encode("1") },
      { key: "b", value: null },
    ]);
    const repeated = [...headers, { key: "a", value: new TextEncoder().encode("2") }];
    expect(decodeHeaders(repeated, "string")).toEqual({ a: "2", b: null });
    expect(decodeHeaders([{ key: "__proto__", value: null }], "json")).toHaveProperty("__proto__", null);
    expect(encodeHeaders(null, "json")).toEqual([]);
  });

  it("answers bytes a text encoding cannot show in a readable form, saying which, instead of failing", () => {
    const notUtf8 = Uint8Array.of(0xc3, 0x28);
    for (const encoding of ["json", "string"] as const) {
      expect(read(stored(notUtf8), encoding)).toMatchObject({ value: "wyg=", valueEncoding: "base64" });
      expect(read(stored(null, { key: notUtf8 }), encoding)).toMatchObject({
        key: "wyg=",
        keyEncoding: "base64",
      });
      const headers = [
        { key: "ok", value: utf8("é") },
        { key: "bad", value: notUtf8 },
      ];
      expect(read(stored(null, { headers }), encoding)).toMatchObject({
        headers: { ok: "w6k=", bad: "wyg=" },
        headersEncoding: "base64",
      });
    }
    expect(read(stored(utf8("{oops")), "json")).toMatchObject({ value: "{oops", valueEncoding: "string" });
    expect(read(stored(notUtf8), "base64")).toEqual({
      offset: 7,
      timestamp: 1,
      key: null,
      value: "wyg=",
      headers: {},
    });
    expect(read(stored(utf8('"fine"')), "json")).not.toHaveProperty("valueEncoding");
  });

  it("counts each rendered record's bytes and escapes exactly, whatever its names and bytes", () => {
    const bytes = fc.option(fc.uint8Array({ maxLength: 40 }), { nil: null });
    fc.assert(
      fc.property(
        fc.nat(),
        fc.nat(),
        bytes,
        bytes,
        fc.array(fc.record({ key: fc.string({ unit: "grapheme" }), value: bytes }), { maxLength: 4 }),
        fc.constantFrom(...ENCODINGS),
        (offset, timestamp, key, value, headers, encoding) => {
          read({ offset, timestamp, key, value, headers }, encoding);
        },
      ),
    );
  });

  it("splices a stored JSON value into the answer as the text it is", () => {
    const text = '{"n" : 1e400, "big":123456789012345678901234567890}';
    expect(renderRecord(stored(utf8(text)), "json").text).toBe(
      `{"offset":7,"timestamp":1,"key":null,"value":${text},"headers":{}}`,
    );
  });

  it("answers a value nested past the limit as a string, without recursing (no stack overflow)", () => {
    for (const depth of [MAX_JSON_DEPTH + 1, 1_000_000]) {
      const text = `${"[".repeat(depth)}${"]".repeat(depth)}`;
      const record = renderRecord(stored(utf8(text)), "json").text;
      expect(record).toContain('"valueEncoding":"string"');
      expect(record.length).toBeGreaterThan(2 * depth);
    }
  });
});
