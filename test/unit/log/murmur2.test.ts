import { createRequire } from "node:module";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { murmur2, toPositive } from "../../../src/log/murmur2.js";

const require = createRequire(import.meta.url);
/** KafkaJS's Java-compatible murmur2 (its DefaultPartitioner's hash), an independent implementation. */
const kafkaJsMurmur2 = require("kafkajs/src/producer/partitioners/default/murmur2") as (
  key: Buffer,
) => number;

const utf8 = (s: string) => new TextEncoder().encode(s);

describe("murmur2", () => {
  it("matches Kafka's UtilsTest.testMurmur2 vectors", () => {
    // org.apache.kafka.common.utils.UtilsTest#testMurmur2 (Java's signed int results).
    expect(murmur2(utf8("21"))).toBe(-973932308);
    expect(murmur2(utf8("foobar"))).toBe(-790332482);
    expect(murmur2(utf8("a-little-bit-long-string"))).toBe(-985981536);
    expect(murmur2(utf8("a-little-bit-longer-string"))).toBe(-1486304829);
    expect(murmur2(utf8("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8"))).toBe(-58897971);
    expect(murmur2(Uint8Array.of(0x61, 0x62, 0x63))).toBe(479470107); // new byte[] {'a', 'b', 'c'}
  });

  it("matches further vectors generated with the Java client", () => {
    // Published in other clients' test suites (a Go client's, generated offline with the JVM Kafka
    // client 1.0.0; Akka's Murmur2Spec, from Kafka's Utils.murmur2): every tail length 0-3.
    expect(murmur2(Uint8Array.of(12, 42, 56, 24, 109, 111))).toBe(274204207);
    expect(murmur2(utf8("1"))).toBe(-1993445489);
    expect(murmur2(utf8("12"))).toBe(126087238);
    expect(murmur2(utf8("123"))).toBe(-267702483);
    expect(murmur2(utf8("1234"))).toBe(-1614185708);
    expect(murmur2(utf8("12345"))).toBe(-1188365604);
  });

  it("agrees with KafkaJS's Java-compatible murmur2 on random keys", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (key) => {
        expect(murmur2(key)).toBe(kafkaJsMurmur2(Buffer.from(key)));
      }),
      { numRuns: 5000 },
    );
    for (let n = 0; n < 64; n++) {
      const key = Uint8Array.from({ length: n }, (_, i) => 255 - i * 3);
      expect(murmur2(key)).toBe(kafkaJsMurmur2(Buffer.from(key)));
    }
  });

  it("returns a signed 32-bit integer, and toPositive clears the sign bit like Java's", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (key) => {
        const h = murmur2(key);
        expect(h).toBe(h | 0);
        expect(toPositive(h)).toBeGreaterThanOrEqual(0);
        expect(toPositive(h)).toBe(h >= 0 ? h : h + 2 ** 31);
      }),
    );
    expect(toPositive(-1)).toBe(0x7fffffff);
    expect(toPositive(-2147483648)).toBe(0);
    expect(toPositive(-973932308)).toBe(1173551340);
  });
});
