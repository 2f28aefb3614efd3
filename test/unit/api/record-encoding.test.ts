import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  decodeHeaders,
  decodeKey,
  decodeValue,
  ENCODINGS,
  encodeHeaders,
  encodeKey,
  encodeValue,
} from "../../../src/api/record-encoding.js";
import { FloeError } from "../../../src/errors.js";

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64");

describe("record encodings", () => {
  it("base64 round-trips any bytes exactly", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const text = b64(bytes);
        const stored = encodeValue(text, "base64")!;
        expect(stored).toEqual(bytes);
        expect(decodeValue(stored, "base64", 0)).toBe(text);
      }),
    );
  });

  it("string round-trips any text, keeping a leading BOM", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme" }), (text) => {
        expect(decodeValue(encodeValue(text, "string"), "string", 0)).toBe(text);
        const withBom = `\uFEFF${text}`;
        expect(decodeKey(encodeKey(withBom, "string"), "string", 0)).toBe(withBom);
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
          expect(decodeValue(stored, "json", 0)).toEqual(JSON.parse(JSON.stringify(value)));
        }
      }),
    );
  });

  it("keeps null as a tombstone (no bytes at all) in every encoding", () => {
    for (const encoding of ENCODINGS) {
      expect(encodeValue(null, encoding)).toBeNull();
      expect(decodeValue(null, encoding, 0)).toBeNull();
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
    expect(decodeHeaders(repeated, "string", 0)).toEqual({ a: "2", b: null });
    expect(decodeHeaders([{ key: "__proto__", value: null }], "json", 0)).toHaveProperty("__proto__", null);
    expect(encodeHeaders(null, "json")).toEqual([]);
  });

  it("refuses bytes a text encoding cannot show, naming the offset", () => {
    const notUtf8 = Uint8Array.of(0xc3, 0x28);
    for (const encoding of ["json", "string"] as const) {
      const error = (() => {
        try {
          decodeValue(notUtf8, encoding, 41);
        } catch (e) {
          return e;
        }
      })();
      expect(error).toBeInstanceOf(FloeError);
      expect(error).toMatchObject({ code: "UNSUPPORTED_ENCODING" });
      expect((error as Error).message).toContain("offset 41");
    }
    expect(() => decodeValue(new TextEncoder().encode("{oops"), "json", 0)).toThrow(/not JSON/);
    expect(decodeValue(notUtf8, "base64", 0)).toBe("wyg=");
  });
});
