import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import * as zstdWasm from "@bokuweb/zstd-wasm";
import fc from "fast-check";
import snappyjs from "snappyjs";
import { beforeAll, describe, expect, it } from "vitest";
import { thrown, expectThrownCode as expectCode } from "../../support/thrown.js";
import { CorruptDataError, FloeError } from "../../../src/errors.js";
import { type CompressionCodec, canCompress, compress, decompress } from "../../../src/log/compression.js";
import { nativeZstd, zstdDecompress } from "../../../src/log/compression-zstd.js";
import { xxh32 } from "../../../src/log/xxh32.js";

const MiB = 1024 * 1024;
const DEFAULT_LIMIT = 64 * MiB;
const fixtures = JSON.parse(
  readFileSync(new URL("./fixtures/reference-frames.json", import.meta.url), "utf8"),
) as { lz4: string; zstd: string };

beforeAll(async () => {
  await zstdWasm.init();
});

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

function u32le(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n >>> 0, true);
  return b;
}

function i32be(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setInt32(0, n);
  return b;
}

/** The text the reference lz4 and zstd commands compressed for reference-frames.json. */
function referenceText(): Uint8Array {
  const lines: string[] = [];
  for (let i = 0; i < 150; i++)
    lines.push(`line ${i}: the quick brown fox ${i % 7} jumps over the lazy dog ${i % 3}`);
  return new TextEncoder().encode(lines.join("\n"));
}

const hex = (s: string) => new Uint8Array(Buffer.from(s, "hex"));

/** Data that compresses like records do: runs of repeated fragments, with random bytes between. */
const compressible = fc
  .array(
    fc.oneof(
      fc.tuple(fc.uint8Array({ minLength: 1, maxLength: 24 }), fc.integer({ min: 1, max: 400 })),
      fc.tuple(fc.uint8Array({ maxLength: 300 }), fc.constant(1)),
    ),
    { maxLength: 40 },
  )
  .map((parts) =>
    concat(parts.flatMap(([fragment, times]) => Array.from({ length: times }, () => fragment))),
  );

const writable = (["gzip", "snappy", "lz4", "zstd"] as const).filter((c) => canCompress(c));

/** An LZ4 frame written by hand (lz4_Frame_format.md), so the decoder is not only fed its own encoder. */
function lz4Frame(
  blocks: { data: Uint8Array; stored: boolean }[],
  options: { flg?: number; bd?: number; contentSize?: number; trailer?: Uint8Array } = {},
): Uint8Array {
  const flg = options.flg ?? 0x60;
  const bd = options.bd ?? 0x40;
  const descriptor = [flg, bd];
  if (options.contentSize !== undefined) {
    const size = new Uint8Array(8);
    new DataView(size.buffer).setBigUint64(0, BigInt(options.contentSize), true);
    descriptor.push(...size);
  }
  const d = new Uint8Array(descriptor);
  const hc = (xxh32(d) >>> 8) & 0xff;
  return concat([
    u32le(0x184d2204),
    d,
    new Uint8Array([hc]),
    ...blocks.flatMap((b) => [u32le(b.data.length | (b.stored ? 0x80000000 : 0)), b.data]),
    u32le(0),
    options.trailer ?? new Uint8Array(0),
  ]);
}

/** A zstd frame of raw and RLE blocks, written by hand (RFC 8878), with no declared size. */
function zstdFrame(
  blocks: ({ raw: Uint8Array } | { rle: number; size: number })[],
  windowDescriptor = 0x58,
): Uint8Array {
  const parts: Uint8Array[] = [u32le(0xfd2fb528), new Uint8Array([0x00, windowDescriptor])];
  blocks.forEach((block, i) => {
    const last = i === blocks.length - 1 ? 1 : 0;
    const [type, size, body] =
      "raw" in block ? [0, block.raw.length, block.raw] : [1, block.size, new Uint8Array([block.rle])];
    const header = last | (type << 1) | (size << 3);
    parts.push(new Uint8Array([header & 0xff, (header >>> 8) & 0xff, (header >>> 16) & 0xff]), body);
  });
  return concat(parts);
}

describe("compress / decompress", () => {
  it.each(writable)("round-trips %s", (codec) => {
    fc.assert(
      fc.property(compressible, (data) => {
        const packed = compress(codec, data);
        expect(Buffer.from(decompress(codec, packed, DEFAULT_LIMIT)).equals(Buffer.from(data))).toBe(true);
      }),
      { numRuns: 60 },
    );
  });

  it("round-trips inputs that span many lz4 and xerial blocks, compressible or not", () => {
    const random = new Uint8Array(300_000).map((_, i) => (Math.imul(i, 2654435761) >>> 13) & 0xff);
    const text = new TextEncoder().encode("a record value, a record key; ".repeat(10_000));
    for (const codec of ["snappy", "lz4"] as const) {
      for (const data of [random, text, new Uint8Array(0)]) {
        expect(
          Buffer.from(decompress(codec, compress(codec, data), DEFAULT_LIMIT)).equals(Buffer.from(data)),
        ).toBe(true);
      }
    }
  });

  it("writes what Kafka's Java producer writes: xerial-framed snappy, lz4 frames of independent 64 KiB blocks", () => {
    const data = new TextEncoder().encode("kafka ".repeat(20_000));
    const snappy = compress("snappy", data);
    expect(Buffer.from(snappy.subarray(0, 16)).toString("hex")).toBe("82534e415050590000000001" + "00000001");
    const lz4 = compress("lz4", data);
    // magic, FLG (version 1, independent blocks), BD (64 KiB), header checksum: as Kafka's Lz4BlockOutputStream.
    expect(Buffer.from(lz4.subarray(0, 7)).toString("hex")).toBe("04224d18604082");
  });

  it("reads raw snappy as well as xerial frames of any block size", () => {
    fc.assert(
      fc.property(compressible, fc.integer({ min: 1, max: 5000 }), (data, blockSize) => {
        const raw = snappyjs.compress(data);
        expect(Buffer.from(decompress("snappy", raw, DEFAULT_LIMIT)).equals(Buffer.from(data))).toBe(true);
        const blocks: Uint8Array[] = [];
        for (let at = 0; at < data.length; at += blockSize) {
          const block = snappyjs.compress(data.subarray(at, at + blockSize));
          blocks.push(i32be(block.length), block);
        }
        const header = concat([hex("82534e4150505900"), i32be(1), i32be(1)]);
        const xerial = concat([header, ...blocks]);
        expect(Buffer.from(decompress("snappy", xerial, DEFAULT_LIMIT)).equals(Buffer.from(data))).toBe(true);
      }),
      { numRuns: 50 },
    );
  });

  it("reads the reference lz4 command's frames: content size, block and content checksums", () => {
    const frame = hex(fixtures.lz4);
    expect(frame[4]).toBe(0x7c); // every optional field present
    expect(Buffer.from(decompress("lz4", frame, DEFAULT_LIMIT)).equals(Buffer.from(referenceText()))).toBe(
      true,
    );
    // A flipped content byte fails the block checksum; a flipped content checksum fails that.
    const badBlock = frame.slice();
    badBlock[40] ^= 1;
    expect(thrown(() => decompress("lz4", badBlock, DEFAULT_LIMIT))).toBeInstanceOf(CorruptDataError);
    const badContent = frame.slice();
    badContent[badContent.length - 1] ^= 1;
    expect(thrown(() => decompress("lz4", badContent, DEFAULT_LIMIT))).toBeInstanceOf(CorruptDataError);
  });

  it("reads stored and compressed lz4 blocks written by hand, and refuses what Kafka refuses", () => {
    const text = new TextEncoder().encode("hello hello hello hello!");
    // "hello " as literals, then a match of 4 + 13 bytes at offset 6 (overlapping: it repeats
    // them), then the last sequence, literals only: "!".
    const block = new Uint8Array([0x6d, ...text.subarray(0, 6), 6, 0, 0x10, 0x21]);
    expect(new TextDecoder().decode(decompress("lz4", lz4Frame([{ data: block, stored: false }]), 100))).toBe(
      "hello hello hello hello!",
    );
    const stored = lz4Frame([
      { data: text.subarray(0, 10), stored: true },
      { data: text.subarray(10), stored: true },
    ]);
    expect(Buffer.from(decompress("lz4", stored, 100)).equals(Buffer.from(text))).toBe(true);
    const sized = lz4Frame([{ data: text, stored: true }], { flg: 0x68, contentSize: text.length });
    expect(Buffer.from(decompress("lz4", sized, 100)).equals(Buffer.from(text))).toBe(true);

    const corrupt = (frame: Uint8Array) =>
      expect(thrown(() => decompress("lz4", frame, 100))).toBeInstanceOf(CorruptDataError);
    corrupt(lz4Frame([{ data: text, stored: true }], { flg: 0x40 })); // linked blocks
    corrupt(lz4Frame([{ data: text, stored: true }], { flg: 0x61 })); // dictionary id / reserved bit
    corrupt(lz4Frame([{ data: text, stored: true }], { flg: 0xa0 })); // version 2
    corrupt(lz4Frame([{ data: text, stored: true }], { bd: 0x30 })); // block size id 3
    corrupt(lz4Frame([{ data: text, stored: true }], { trailer: new Uint8Array([0]) })); // bytes after the end mark
    corrupt(lz4Frame([{ data: text, stored: true }], { flg: 0x68, contentSize: text.length + 1 }));
    corrupt(lz4Frame([{ data: new Uint8Array([0x0f, 5, 0]), stored: false }])); // match before the block's start
    corrupt(lz4Frame([{ data: new Uint8Array([0x50, 1, 2]), stored: false }])); // literals past the block
    corrupt(lz4Frame([{ data: new Uint8Array([0x10, 1, 1]), stored: false }])); // ends inside an offset
    const badChecksum = lz4Frame([{ data: text, stored: true }]);
    badChecksum[6] ^= 1;
    corrupt(badChecksum);
    corrupt(new Uint8Array([4, 0x22, 0x4d, 0x18])); // truncated header
    corrupt(lz4Frame([{ data: text, stored: true }]).subarray(0, 20)); // truncated block
  });

  it("reads zstd frames written by libzstd, by the reference zstd command and by hand, on fzstd", () => {
    fc.assert(
      fc.property(compressible, fc.integer({ min: 1, max: 19 }), (data, level) => {
        const frame = zstdWasm.compress(data, level);
        expect(Buffer.from(zstdDecompress(frame, DEFAULT_LIMIT, false)).equals(Buffer.from(data))).toBe(true);
      }),
      { numRuns: 40 },
    );
    expect(
      Buffer.from(zstdDecompress(hex(fixtures.zstd), DEFAULT_LIMIT, false)).equals(
        Buffer.from(referenceText()),
      ),
    ).toBe(true);
    const text = new TextEncoder().encode("zstd by hand");
    const frame = zstdFrame([{ raw: text }, { rle: 0x21, size: 5 }]);
    expect(new TextDecoder().decode(zstdDecompress(frame, 100, false))).toBe("zstd by hand!!!!!");
    // Two frames and a skippable frame between them read as one stream, as zstd defines.
    const skippable = concat([u32le(0x184d2a5e), u32le(3), new Uint8Array([1, 2, 3])]);
    const two = concat([frame, skippable, zstdWasm.compress(text, 3)]);
    expect(new TextDecoder().decode(zstdDecompress(two, 100, false))).toBe("zstd by hand!!!!!zstd by hand");
  });

  it("restates a zstd window larger than its frame can fill, in a copy: the caller's bytes stay as sent", () => {
    const text = new TextEncoder().encode("a frame that states a 128 MiB window for 40 bytes");
    // A Buffer, as a request body is: its slice() is a view, not a copy.
    const frame = Buffer.from(zstdFrame([{ raw: text }], 0x88)); // 2^27
    const before = frame.toString("hex");
    expect(new TextDecoder().decode(zstdDecompress(frame, 1024, false))).toBe(new TextDecoder().decode(text));
    expect(frame.toString("hex")).toBe(before);
  });

  it.runIf(nativeZstd)("reads zstd through node:zlib where Node has it, the same as fzstd", () => {
    fc.assert(
      fc.property(compressible, (data) => {
        const frame = compress("zstd", data);
        expect(Buffer.from(decompress("zstd", frame, DEFAULT_LIMIT)).equals(Buffer.from(data))).toBe(true);
        expect(Buffer.from(zstdDecompress(frame, DEFAULT_LIMIT, false)).equals(Buffer.from(data))).toBe(true);
      }),
      { numRuns: 30 },
    );
  });

  it.skipIf(nativeZstd)(
    "refuses to write zstd on a Node without it, with UNSUPPORTED_COMPRESSION_TYPE",
    () => {
      expect(canCompress("zstd")).toBe(false);
      expectCode(() => compress("zstd", new Uint8Array(10)), "UNSUPPORTED_COMPRESSION_TYPE");
    },
  );

  it("refuses an unknown codec with UNSUPPORTED_COMPRESSION_TYPE", () => {
    expectCode(
      () => decompress("brotli" as CompressionCodec, new Uint8Array(1), 10),
      "UNSUPPORTED_COMPRESSION_TYPE",
    );
    expectCode(
      () => compress("brotli" as CompressionCodec, new Uint8Array(1)),
      "UNSUPPORTED_COMPRESSION_TYPE",
    );
  });
});

describe("compression bombs", () => {
  const zeros = new Uint8Array(MiB);

  it.each(["gzip", "snappy", "lz4"] as const)("bounds how far %s may inflate", (codec) => {
    const packed = compress(codec, zeros);
    expect(packed.length).toBeLessThan(MiB / 16);
    expectCode(() => decompress(codec, packed, 64 * 1024), "MESSAGE_TOO_LARGE");
    expectCode(() => decompress(codec, packed, MiB - 1), "MESSAGE_TOO_LARGE");
    expect(decompress(codec, packed, MiB).length).toBe(MiB);
  });

  it("bounds zstd, on fzstd and on node:zlib", () => {
    const packed = zstdWasm.compress(zeros, 3);
    expect(packed.length).toBeLessThan(1024);
    for (const useNative of nativeZstd ? [false, true] : [false]) {
      expectCode(() => zstdDecompress(packed, 64 * 1024, useNative), "MESSAGE_TOO_LARGE");
      expect(zstdDecompress(packed, MiB, useNative).length).toBe(MiB);
    }
  });

  it("refuses a snappy block that claims more than the bound before allocating it", () => {
    // Length varint 0xffffffff (4 GiB - 1), then a literal: 7 bytes in all.
    const claim = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f, 0x00, 0x41]);
    expectCode(() => decompress("snappy", claim, DEFAULT_LIMIT), "MESSAGE_TOO_LARGE");
    // Xerial blocks that each stay under the bound but add up past it.
    const block = snappyjs.compress(new Uint8Array(40 * 1024));
    const xerial = concat([
      hex("82534e4150505900"),
      i32be(1),
      i32be(1),
      i32be(block.length),
      block,
      i32be(block.length),
      block,
    ]);
    expectCode(() => decompress("snappy", xerial, 64 * 1024), "MESSAGE_TOO_LARGE");
    expect(decompress("snappy", xerial, 80 * 1024).length).toBe(80 * 1024);
  });

  it("refuses an lz4 frame that declares a huge content size, and a block of nothing but match length", () => {
    const text = new TextEncoder().encode("x");
    expectCode(
      () =>
        decompress(
          "lz4",
          lz4Frame([{ data: text, stored: true }], { flg: 0x68, contentSize: 2 ** 40 }),
          DEFAULT_LIMIT,
        ),
      "MESSAGE_TOO_LARGE",
    );
    // One literal, then a match at offset 1 whose length is spelled by 1 MiB of 255s: 267 million
    // bytes from a 1 MiB block of a 4 MiB-block frame. Refused as the block outgrows 4 MiB, or as
    // the output outgrows the bound, without writing past either.
    const block = new Uint8Array(MiB + 4);
    block.set([0x1f, 0x41, 1, 0]);
    block.fill(255, 4, MiB + 2);
    block[MiB + 2] = 0;
    block[MiB + 3] = 0x00; // a last token with no literals
    const frame = lz4Frame([{ data: block, stored: false }], { bd: 0x70 });
    expect(thrown(() => decompress("lz4", frame, DEFAULT_LIMIT))).toBeInstanceOf(CorruptDataError);
    expectCode(() => decompress("lz4", frame, MiB), "MESSAGE_TOO_LARGE");
  });

  it("refuses zstd frames that could inflate, or make fzstd work, past the bound", () => {
    // 600 RLE blocks of 128 KiB: 75 MiB from 2.4 KB, with no declared size.
    const rle = zstdFrame(
      Array.from({ length: 600 }, () => ({ rle: 0, size: 128 * 1024 })),
      0x58,
    );
    expect(rle.length).toBeLessThan(4096);
    expectCode(() => zstdDecompress(rle, DEFAULT_LIMIT, false), "MESSAGE_TOO_LARGE");
    // 200,000 one-byte RLE blocks under a 128 MiB window: 200 KB of output, but fzstd would slide
    // its window 200,000 times. Refused up front.
    const slide = zstdFrame(
      Array.from({ length: 200_000 }, () => ({ rle: 1, size: 1 })),
      0x88,
    );
    expectCode(() => zstdDecompress(slide, DEFAULT_LIMIT, false), "MESSAGE_TOO_LARGE");
    // A window of 2^31 bytes, and a declared size of 2^40.
    expectCode(
      () => zstdDecompress(zstdFrame([{ raw: new Uint8Array(1) }], 0xa8), DEFAULT_LIMIT, false),
      "MESSAGE_TOO_LARGE",
    );
    const declared = concat([
      u32le(0xfd2fb528),
      new Uint8Array([0xc0, 0x58]),
      new Uint8Array(8).fill(0x01),
      hex("010000"),
    ]);
    expectCode(() => zstdDecompress(declared, DEFAULT_LIMIT, false), "MESSAGE_TOO_LARGE");
  });
});

describe("corrupt input", () => {
  it("refuses snappy and zstd that do not inflate as CORRUPT_MESSAGE", () => {
    const corrupt = (codec: CompressionCodec, bytes: Uint8Array) => {
      const e = thrown(() =>
        codec === "zstd"
          ? zstdDecompress(bytes, DEFAULT_LIMIT, false)
          : decompress(codec, bytes, DEFAULT_LIMIT),
      );
      expect(e).toBeInstanceOf(CorruptDataError);
      expect((e as FloeError).code).toBe("CORRUPT_MESSAGE");
    };
    corrupt("snappy", new Uint8Array([0x80, 0x80, 0x80, 0x80, 0x80, 0x80])); // a length that never ends
    corrupt("snappy", new Uint8Array([0x0a, 0x05, 0x03])); // a copy before any output
    corrupt("snappy", concat([hex("82534e4150505900"), i32be(1), i32be(1), i32be(100), new Uint8Array(3)]));
    corrupt("gzip", gzipSync(new Uint8Array(100)).subarray(0, 15));
    corrupt("zstd", new Uint8Array([1, 2, 3, 4, 5, 6]));
    corrupt("zstd", zstdFrame([{ raw: new Uint8Array(4) }]).subarray(0, 8));
    const reserved = zstdFrame([{ raw: new Uint8Array(4) }]);
    reserved[6] |= 0b110; // block type 3
    corrupt("zstd", reserved);
    corrupt("zstd", concat([u32le(0xfd2fb528), new Uint8Array([0x01, 0x58, 0x07]), hex("010000")])); // dictionary 7
  });

  it("never throws anything but a FloeError on damaged frames of any codec", () => {
    const samples = new Map<CompressionCodec, Uint8Array>();
    const data = new TextEncoder().encode(
      JSON.stringify(Array.from({ length: 400 }, (_, i) => ({ i, v: `value-${i % 37}` }))),
    );
    for (const codec of ["gzip", "snappy", "lz4"] as const) samples.set(codec, compress(codec, data));
    samples.set("zstd", zstdWasm.compress(data, 3));
    const damage = fc.oneof(
      fc.record({
        kind: fc.constant("flip" as const),
        at: fc.nat(),
        bits: fc.integer({ min: 1, max: 255 }),
        n: fc.integer({ min: 1, max: 4 }),
      }),
      fc.record({ kind: fc.constant("cut" as const), at: fc.nat() }),
      fc.record({
        kind: fc.constant("append" as const),
        extra: fc.uint8Array({ minLength: 1, maxLength: 8 }),
      }),
    );
    fc.assert(
      fc.property(fc.constantFrom(...samples.keys()), damage, fc.boolean(), (codec, d, xerial) => {
        let bytes: Uint8Array = Uint8Array.from(samples.get(codec)!);
        if (codec === "snappy" && !xerial) bytes = snappyjs.compress(data);
        if (d.kind === "flip")
          for (let k = 0; k < d.n; k++) bytes[(d.at + k * 7919) % bytes.length] ^= d.bits;
        else if (d.kind === "cut") bytes = bytes.subarray(0, d.at % bytes.length);
        else bytes = concat([bytes, d.extra]);
        const e = thrown(() =>
          codec === "zstd"
            ? zstdDecompress(bytes, DEFAULT_LIMIT, false)
            : decompress(codec, bytes, DEFAULT_LIMIT),
        );
        if (e !== undefined) {
          expect(e).toBeInstanceOf(FloeError);
          expect(["CORRUPT_MESSAGE", "MESSAGE_TOO_LARGE"]).toContain((e as FloeError).code);
        }
      }),
      { numRuns: 400 },
    );
  });
});

describe("xxh32", () => {
  it("matches the specification's known values", () => {
    const te = new TextEncoder();
    expect(xxh32(new Uint8Array(0))).toBe(0x02cc5d05);
    expect(xxh32(te.encode("abc"))).toBe(0x32d153ff);
    expect(xxh32(te.encode("Nobody inspects the spammish repetition"))).toBe(0xe2293b2f);
  });
});
