import { createRequire } from "node:module";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { crc32c, crc32cUpdate } from "../../../src/log/crc32c.js";

const require = createRequire(import.meta.url);
/** KafkaJS's own CRC-32C (an independent implementation), unsigned. */
const kafkajsCrc32c: (b: Buffer) => number = require("kafkajs/src/protocol/recordBatch/crc32C");

/** Bit-at-a-time reference: slow, obviously right. */
function referenceCrc32c(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

describe("crc32c", () => {
  it("matches the published check value and RFC 3720 (iSCSI) vectors", () => {
    expect(crc32c(new TextEncoder().encode("123456789"))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
    expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i))).toBe(0x46dd794e);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => 31 - i))).toBe(0x113fdb5c);
    expect(crc32c(new Uint8Array(0))).toBe(0);
  });

  it("agrees with a bit-by-bit reference and with KafkaJS on random data and ranges", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(), fc.nat(), (bytes, a, b) => {
        const start = bytes.length === 0 ? 0 : a % (bytes.length + 1);
        const end = start + (bytes.length === 0 ? 0 : b % (bytes.length - start + 1));
        const expected = referenceCrc32c(bytes.subarray(start, end));
        expect(crc32c(bytes, start, end)).toBe(expected);
        expect(kafkajsCrc32c(Buffer.from(bytes.subarray(start, end)))).toBe(expected);
      }),
      { numRuns: 500 },
    );
  });

  it("works on a view with a non-zero byteOffset", () => {
    const backing = new Uint8Array(64).map((_, i) => i * 7);
    const view = backing.subarray(5, 50);
    expect(crc32c(view)).toBe(referenceCrc32c(backing.slice(5, 50)));
  });

  it("continues incrementally: crc(a ++ b) = update(crc(a), b)", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), fc.uint8Array({ maxLength: 100 }), (a, b) => {
        const ab = new Uint8Array(a.length + b.length);
        ab.set(a);
        ab.set(b, a.length);
        expect(crc32cUpdate(crc32c(a), b)).toBe(crc32c(ab));
      }),
    );
  });

  it("is unsigned", () => {
    expect(crc32c(new Uint8Array(32).fill(0xff))).toBeGreaterThan(0);
    fc.assert(
      fc.property(fc.uint8Array(), (bytes) => {
        const c = crc32c(bytes);
        expect(c >= 0 && c <= 0xffffffff && Number.isInteger(c)).toBe(true);
      }),
    );
  });
});
