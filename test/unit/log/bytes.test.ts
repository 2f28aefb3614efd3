import { createRequire } from "node:module";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CorruptDataError, FloeError } from "../../../src/errors.js";
import { ByteReader } from "../../../src/log/byte-reader.js";
import { ByteWriter, utf8Length } from "../../../src/log/byte-writer.js";
import { sizeOfUnsignedVarint, sizeOfVarint, sizeOfVarlong } from "../../../src/log/varint.js";

const require = createRequire(import.meta.url);
interface KafkaEncoder {
  writeVarInt(v: number): KafkaEncoder;
  writeVarLong(v: number): KafkaEncoder;
  buffer: Buffer;
}
interface KafkaDecoder {
  readVarInt(): number;
  readVarLong(): { toString(): string };
}
const KafkaJsEncoder: new () => KafkaEncoder = require("kafkajs/src/protocol/encoder");
const KafkaJsDecoder: new (b: Buffer) => KafkaDecoder = require("kafkajs/src/protocol/decoder");

const int32 = fc.integer({ min: -0x80000000, max: 0x7fffffff });
const safeInt = fc.oneof(
  fc.integer({ min: -1000, max: 1000 }),
  int32,
  fc.maxSafeInteger(),
  fc.constantFrom(
    Number.MAX_SAFE_INTEGER,
    Number.MIN_SAFE_INTEGER,
    2 ** 31,
    -(2 ** 31) - 1,
    2 ** 32,
    2 ** 52,
    -(2 ** 52),
    2 ** 52 + 1,
    -(2 ** 53) + 2,
  ),
);

function expectCorrupt(fn: () => unknown): void {
  let error: unknown;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(CorruptDataError);
}

describe("ByteWriter / ByteReader", () => {
  it("round-trip fixed-width big-endian integers", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -128, max: 127 }),
        fc.integer({ min: -32768, max: 32767 }),
        int32,
        fc.integer({ min: 0, max: 0xffffffff }),
        safeInt,
        (a, b, c, d, e) => {
          const w = new ByteWriter(1); // force growth
          w.int8(a).int16(b).int32(c).uint32(d).int64(e);
          const bytes = w.finish();
          expect(bytes.length).toBe(1 + 2 + 4 + 4 + 8);
          const r = new ByteReader(bytes);
          expect([r.int8(), r.int16(), r.int32(), r.uint32(), r.int64()]).toEqual([a, b, c, d, e]);
          expect(r.remaining).toBe(0);
        },
      ),
    );
  });

  it("writes int64 exactly as Java's big-endian two's complement", () => {
    const w = new ByteWriter();
    w.int64(-1)
      .int64(1)
      .int64(Number.MAX_SAFE_INTEGER)
      .int64(-(2 ** 32));
    expect(Buffer.from(w.finish()).toString("hex")).toBe(
      "ffffffffffffffff" + "0000000000000001" + "001fffffffffffff" + "ffffffff00000000",
    );
    const big = Buffer.alloc(8);
    big.writeBigInt64BE(123456789012345n);
    expect(new ByteReader(big).int64()).toBe(123456789012345);
  });

  it("rejects int64 values that are not safe integers on decode", () => {
    for (const v of [2n ** 53n, -(2n ** 53n), 2n ** 63n - 1n, -(2n ** 63n)]) {
      const b = Buffer.alloc(8);
      b.writeBigInt64BE(v);
      expectCorrupt(() => new ByteReader(b).int64());
    }
    for (const v of [2n ** 53n - 1n, -(2n ** 53n) + 1n]) {
      const b = Buffer.alloc(8);
      b.writeBigInt64BE(v);
      expect(new ByteReader(b).int64()).toBe(Number(v));
    }
  });

  it("round-trip zigzag varints and varlongs, sized exactly", () => {
    fc.assert(
      fc.property(int32, safeInt, (i, l) => {
        const w = new ByteWriter(2);
        w.varint(i);
        expect(w.position).toBe(sizeOfVarint(i));
        w.varlong(l);
        expect(w.position).toBe(sizeOfVarint(i) + sizeOfVarlong(l));
        const r = new ByteReader(w.finish());
        expect(r.varint()).toBe(i);
        expect(r.varlong()).toBe(l);
        expect(r.remaining).toBe(0);
      }),
      { numRuns: 1000 },
    );
  });

  it("encodes varints byte-for-byte like KafkaJS, and decodes KafkaJS's", () => {
    fc.assert(
      fc.property(int32, safeInt, (i, l) => {
        const theirs = new KafkaJsEncoder().writeVarInt(i).writeVarLong(l).buffer;
        const ours = new ByteWriter().varint(i).varlong(l).finish();
        expect(Buffer.from(ours).equals(theirs)).toBe(true);
        const d = new KafkaJsDecoder(Buffer.from(ours));
        expect(d.readVarInt()).toBe(i);
        expect(d.readVarLong().toString()).toBe(String(l));
      }),
      { numRuns: 1000 },
    );
  });

  it("knows the classic zigzag encodings", () => {
    const hex = (f: (w: ByteWriter) => void) => {
      const w = new ByteWriter();
      f(w);
      return Buffer.from(w.finish()).toString("hex");
    };
    expect(hex((w) => w.varint(0))).toBe("00");
    expect(hex((w) => w.varint(-1))).toBe("01");
    expect(hex((w) => w.varint(1))).toBe("02");
    expect(hex((w) => w.varint(63))).toBe("7e");
    expect(hex((w) => w.varint(-64))).toBe("7f");
    expect(hex((w) => w.varint(64))).toBe("8001");
    expect(hex((w) => w.varint(0x7fffffff))).toBe("feffffff0f");
    expect(hex((w) => w.varint(-0x80000000))).toBe("ffffffff0f");
    expect(hex((w) => w.varlong(Number.MAX_SAFE_INTEGER))).toBe("feffffffffffff1f");
    expect(hex((w) => w.varlong(Number.MIN_SAFE_INTEGER))).toBe("fdffffffffffff1f");
  });

  it("sizes unsigned varints", () => {
    expect(
      [0, 127, 128, 16383, 16384, 2 ** 28 - 1, 2 ** 28, 2 ** 35, 2 ** 53 - 1].map(sizeOfUnsignedVarint),
    ).toEqual([1, 1, 2, 2, 3, 4, 5, 6, 8]);
    fc.assert(
      fc.property(fc.maxSafeNat(), (u) => {
        const w = new ByteWriter().unsignedVarint(u);
        expect(w.position).toBe(sizeOfUnsignedVarint(u));
      }),
    );
  });

  it("rejects malformed varints with CorruptDataError", () => {
    // Too long: a sixth byte, or a fifth with bits beyond 32.
    expectCorrupt(() => new ByteReader(Uint8Array.of(0x80, 0x80, 0x80, 0x80, 0x80, 0x00)).varint());
    expectCorrupt(() => new ByteReader(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0x1f)).varint());
    // Truncated: the continuation bit runs off the end.
    expectCorrupt(() => new ByteReader(Uint8Array.of(0x80)).varint());
    expectCorrupt(() => new ByteReader(Uint8Array.of()).varint());
    expectCorrupt(() => new ByteReader(Uint8Array.of(0x80, 0x80)).varlong());
    // Eleven bytes, and values beyond ±(2^53 - 1).
    expectCorrupt(() => new ByteReader(new Uint8Array(11).fill(0x80)).varlong());
    expectCorrupt(() =>
      new ByteReader(Uint8Array.of(0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x40)).varlong(),
    );
    expectCorrupt(() =>
      new ByteReader(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x1f)).varlong(),
    );
    expectCorrupt(() =>
      new ByteReader(Uint8Array.of(0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01)).varlong(),
    );
    // A reader bounded to a sub-range cannot read past it.
    expectCorrupt(() => new ByteReader(Uint8Array.of(0x80, 0x01), 0, 1).varint());
  });

  it("throws CorruptDataError, never RangeError, on any read past the end", () => {
    const reads: ((r: ByteReader) => unknown)[] = [
      (r) => r.int8(),
      (r) => r.uint8(),
      (r) => r.int16(),
      (r) => r.int32(),
      (r) => r.uint32(),
      (r) => r.int64(),
      (r) => r.varint(),
      (r) => r.varlong(),
      (r) => r.bytes(9),
      (r) => r.utf8(9),
      (r) => r.skip(9),
      (r) => r.varintBytes(),
    ];
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 7 }), fc.constantFrom(...reads), (bytes, read) => {
        const r = new ByteReader(bytes);
        r.position = bytes.length; // nothing left
        expectCorrupt(() => read(r));
      }),
    );
    expectCorrupt(() => new ByteReader(new Uint8Array(4), 3, 9));
    expectCorrupt(() => new ByteReader(Uint8Array.of(0x07, 1, 2)).varintBytes()); // zigzag 7 = length -4: invalid
    expectCorrupt(() => new ByteReader(Uint8Array.of(0x06, 1, 2)).varintBytes()); // length 3, 2 present
  });

  it("reads nullable varint-length bytes as zero-copy views", () => {
    const bytes = Uint8Array.of(0x01, 0x04, 9, 8, 0x00);
    const r = new ByteReader(bytes);
    expect(r.varintBytes()).toBeNull();
    const v = r.varintBytes()!;
    expect([...v]).toEqual([9, 8]);
    expect(v.buffer).toBe(bytes.buffer);
    expect(r.varintBytes()!.length).toBe(0);
  });

  it("round-trips UTF-8 of any well-formed string, and rejects invalid UTF-8", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 40 }), (s) => {
        const n = utf8Length(s);
        expect(n).toBe(Buffer.byteLength(s));
        const w = new ByteWriter(1).utf8(s, n);
        expect(Buffer.from(w.finish()).equals(Buffer.from(s))).toBe(true);
        expect(new ByteReader(w.finish()).utf8(n)).toBe(s);
      }),
    );
    expectCorrupt(() => new ByteReader(Uint8Array.of(0xc3)).utf8(1));
    expectCorrupt(() => new ByteReader(Uint8Array.of(0x61, 0xff, 0x61)).utf8(3));
    expectCorrupt(() => new ByteReader(Uint8Array.of(0xed, 0xa0, 0x80)).utf8(3)); // an encoded surrogate
  });

  it("refuses to encode what it cannot represent", () => {
    const invalid = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        expect(e).toBeInstanceOf(FloeError);
        expect((e as FloeError).code).toBe("INVALID_RECORD");
        return;
      }
      throw new Error("expected a throw");
    };
    invalid(() => utf8Length("a\ud800b")); // lone surrogate
    invalid(() => utf8Length("\udc00"));
    invalid(() => new ByteWriter().int64(2 ** 53));
    invalid(() => new ByteWriter().int64(1.5));
    invalid(() => new ByteWriter().varlong(Number.NaN));
    invalid(() => new ByteWriter().varint(2 ** 31));
    invalid(() => new ByteWriter().int32(-(2 ** 31) - 1));
    invalid(() => new ByteWriter().int16(40000));
    invalid(() => new ByteWriter().int8(200));
    invalid(() => new ByteWriter().uint32(-1));
  });
});
