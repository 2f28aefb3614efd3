import { createRequire } from "node:module";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { FloeError } from "../../../src/errors.js";
import { assignPartitions, partitionForKey, StickyPartitioner } from "../../../src/broker/partitioner.js";

const require = createRequire(import.meta.url);
type KafkaJsPartitioner = (args: {
  topic: string;
  partitionMetadata: { partitionId: number; leader: number }[];
  message: { key?: Buffer | null; partition?: number | null };
}) => number;
const { Partitioners } = require("kafkajs") as {
  Partitioners: { DefaultPartitioner: () => KafkaJsPartitioner };
};

const utf8 = (s: string) => new TextEncoder().encode(s);
const metadata = (n: number) => Array.from({ length: n }, (_, partitionId) => ({ partitionId, leader: 0 }));

/** A deterministic [0, 1) source for reproducible sticky choices. */
function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return e instanceof FloeError ? e.code : `not a FloeError: ${String(e)}`;
  }
  return undefined;
}

describe("partitionForKey", () => {
  it("puts keys where Kafka's default partitioner would (UtilsTest vectors)", () => {
    // toPositive(murmur2) of the UtilsTest keys, taken modulo a few partition counts.
    expect(partitionForKey(utf8("21"), 2 ** 31 - 1)).toBe(1173551340 % (2 ** 31 - 1));
    expect(partitionForKey(utf8("foobar"), 10)).toBe((-790332482 & 0x7fffffff) % 10);
    expect(partitionForKey(utf8("a-little-bit-long-string"), 7)).toBe((-985981536 & 0x7fffffff) % 7);
    expect(partitionForKey(utf8("abc"), 3)).toBe(479470107 % 3);
    expect(partitionForKey(new Uint8Array(0), 1)).toBe(0);
  });

  it("agrees with KafkaJS's DefaultPartitioner (Java-compatible) on random keys", () => {
    const kafkajs = Partitioners.DefaultPartitioner();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), fc.integer({ min: 1, max: 1000 }), (key, n) => {
        const theirs = kafkajs({
          topic: "t",
          partitionMetadata: metadata(n),
          message: { key: Buffer.from(key) },
        });
        expect(partitionForKey(key, n)).toBe(theirs);
      }),
      { numRuns: 5000 },
    );
  });

  it("rejects a partition count that is not a positive integer", () => {
    expect(codeOf(() => partitionForKey(utf8("k"), 0))).toBe("INVALID_PARTITIONS");
    expect(codeOf(() => partitionForKey(utf8("k"), 1.5))).toBe("INVALID_PARTITIONS");
  });
});

describe("StickyPartitioner", () => {
  it("never repeats the previous choice when there is a choice, and stays in range", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 50 }), fc.integer(), (n, seed) => {
        const sticky = new StickyPartitioner(seeded(seed));
        let previous = -1;
        for (let i = 0; i < 200; i++) {
          const p = sticky.partitionForBatch("t", n);
          expect(Number.isInteger(p) && p >= 0 && p < n).toBe(true);
          if (n > 1) expect(p).not.toBe(previous);
          previous = p;
        }
      }),
      { numRuns: 100 },
    );
  });

  it("spreads consecutive batches evenly", () => {
    const n = 6;
    const sticky = new StickyPartitioner(seeded(42));
    const counts = new Array<number>(n).fill(0);
    const draws = 60_000;
    for (let i = 0; i < draws; i++) counts[sticky.partitionForBatch("t", n)]++;
    for (const c of counts) expect(Math.abs(c - draws / n)).toBeLessThan(draws / n / 10);
  });

  it("keeps per-topic memory and copes with a changed partition count", () => {
    const sticky = new StickyPartitioner(() => 0.999999);
    expect(sticky.partitionForBatch("a", 4)).toBe(3);
    expect(sticky.partitionForBatch("b", 4)).toBe(3); // another topic: no memory of "a"
    expect(sticky.partitionForBatch("a", 4)).toBe(2); // skips its previous 3
    expect(sticky.partitionForBatch("a", 2)).toBe(1); // previous 2 is gone: any of the 2
    expect(sticky.partitionForBatch("a", 1)).toBe(0);
    const low = new StickyPartitioner(() => 0);
    expect([
      low.partitionForBatch("t", 3),
      low.partitionForBatch("t", 3),
      low.partitionForBatch("t", 3),
    ]).toEqual([0, 1, 0]);
  });
});

describe("assignPartitions", () => {
  it("explicit partition wins, keys hash, null keys share one sticky partition per call", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 32 }),
        fc.array(
          fc.record({
            key: fc.option(fc.uint8Array({ maxLength: 12 }), { nil: null }),
            partition: fc.option(fc.nat(), { nil: undefined }),
          }),
          { maxLength: 30 },
        ),
        fc.integer(),
        (n, raw, seed) => {
          const records: { key: Uint8Array | null; partition?: number }[] = raw.map((r) =>
            r.partition === undefined ? { key: r.key } : { ...r, partition: r.partition % n },
          );
          const sticky = new StickyPartitioner(seeded(seed));
          const out = assignPartitions(records, n, "t", sticky);
          expect(out).toHaveLength(records.length);
          const nullKeyed = new Set<number>();
          records.forEach((r, i) => {
            if (r.partition !== undefined) expect(out[i]).toBe(r.partition);
            else if (r.key !== null) expect(out[i]).toBe(partitionForKey(r.key, n));
            else nullKeyed.add(out[i]);
          });
          expect(nullKeyed.size).toBeLessThanOrEqual(1);
        },
      ),
    );
  });

  it("moves the sticky partition between calls, and only when a call has null keys", () => {
    const sticky = new StickyPartitioner(seeded(7));
    const first = assignPartitions([{ key: null }, { key: null }], 8, "t", sticky);
    assignPartitions([{ key: utf8("k") }, { key: null, partition: 1 }], 8, "t", sticky); // draws nothing
    const second = assignPartitions([{ key: null }], 8, "t", sticky);
    expect(first[0]).toBe(first[1]);
    expect(second[0]).not.toBe(first[0]);
  });

  it("answers UNKNOWN_TOPIC_OR_PARTITION for a partition that does not exist", () => {
    const sticky = new StickyPartitioner();
    for (const partition of [3, -1, 1.5, 100]) {
      expect(codeOf(() => assignPartitions([{ key: null, partition }], 3, "t", sticky))).toBe(
        "UNKNOWN_TOPIC_OR_PARTITION",
      );
    }
    expect(assignPartitions([{ key: null, partition: 2 }], 3, "t", sticky)).toEqual([2]);
    expect(assignPartitions([], 3, "t", sticky)).toEqual([]);
  });
});
