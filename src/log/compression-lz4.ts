import { CorruptDataError } from "../errors.js";
import { tooLarge } from "./compression-errors.js";
import { xxh32 } from "./xxh32.js";

/**
 * Kafka's lz4: one LZ4 frame (https://github.com/lz4/lz4/blob/dev/doc/lz4_Frame_format.md) as
 * Kafka's own Lz4BlockInputStream/Lz4BlockOutputStream read and write it for RecordBatch v2:
 *
 * ```
 *  magic 0x184D2204 (LE) | FLG | BD | [content size u64 LE] | HC
 *  blocks: size u32 LE (high bit set = stored uncompressed) | data | [xxh32 of data]
 *  end mark 0 u32 | [xxh32 of the content]
 * ```
 *
 * FLG: version 01, block independence 1 (Kafka refuses linked blocks), block checksum, content
 * size, content checksum, reserved bits 0 (a dictionary id is not allowed either). BD: block
 * maximum size 64 KiB, 256 KiB, 1 MiB or 4 MiB. HC: second byte of xxh32 over FLG..content size
 * (magic-0/1 messages had it wrong; magic 2 has it right, and Kafka checks it).
 *
 * The codec is Floe's own, not an npm package's: lz4js, the pure-JS candidate, has a decoder with
 * no bounds checks (typed arrays silently ignore reads and writes past their end, so corrupt input
 * inflates to garbage instead of failing, and a 1 MiB block of length bytes spins ~270 million
 * iterations: 1.6 s measured) and an encoder whose full 64 KiB blocks the reference decoder, and so
 * Kafka's lz4-java and librdkafka, refuse (a match may start within the last 12 bytes); the WASM
 * ones read a .wasm file next to them at load, which a bundled Lambda does not have, and bound no
 * output. The block format is small: this decoder refuses anything that reads or writes outside
 * its block, costs one step per input byte plus the bytes it writes, and never writes past the
 * caller's limit; the encoder follows the reference's end-of-block rules.
 */

const MAGIC = 0x184d2204;
const VERSION = 1;
const FLG_BLOCK_INDEPENDENCE = 0x20;
const FLG_BLOCK_CHECKSUM = 0x10;
const FLG_CONTENT_SIZE = 0x08;
const FLG_CONTENT_CHECKSUM = 0x04;
const FLG_RESERVED = 0x03; // bit 0 is the dictionary-id flag, which Kafka's reader treats as reserved
const BD_RESERVED = 0x8f;
const UNCOMPRESSED_BIT = 0x80000000;
const MIN_MATCH = 4;
/** Kafka's producers write 64 KiB blocks; so does Floe. */
const ENCODE_BLOCK_SIZE_ID = 4;

function corrupt(why: string): CorruptDataError {
  return new CorruptDataError(`lz4 frame ${why}`);
}

function u32(bytes: Uint8Array, at: number): number {
  return (bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16) | (bytes[at + 3] << 24)) >>> 0;
}

function writeU32(bytes: Uint8Array, at: number, value: number): void {
  bytes[at] = value & 0xff;
  bytes[at + 1] = (value >>> 8) & 0xff;
  bytes[at + 2] = (value >>> 16) & 0xff;
  bytes[at + 3] = (value >>> 24) & 0xff;
}

interface Block {
  start: number;
  size: number;
  compressed: boolean;
}

/** Inflates one Kafka lz4 frame filling `input` exactly, to at most `maxBytes` bytes. */
export function lz4Decompress(input: Uint8Array, maxBytes: number): Uint8Array {
  if (input.length < 7) throw corrupt(`of ${input.length} bytes is too short for a header`);
  if (u32(input, 0) !== MAGIC) throw corrupt("does not start with the LZ4 frame magic number");
  const flg = input[4];
  const bd = input[5];
  if (flg >>> 6 !== VERSION) throw corrupt(`has version ${flg >>> 6}; only 1 exists`);
  if (flg & FLG_RESERVED) throw corrupt("sets reserved FLG bits (or a dictionary id)");
  if (!(flg & FLG_BLOCK_INDEPENDENCE)) {
    throw corrupt("has linked blocks; Kafka writes and reads only independent blocks");
  }
  const sizeId = (bd >>> 4) & 7;
  if (bd & BD_RESERVED || sizeId < 4) throw corrupt(`has an invalid block descriptor 0x${bd.toString(16)}`);
  const blockMax = 1 << (2 * sizeId + 8);
  let pos = 6;
  let contentSize = -1;
  if (flg & FLG_CONTENT_SIZE) {
    if (input.length < pos + 9) throw corrupt("is truncated in its content size");
    const high = u32(input, pos + 4);
    contentSize = high * 2 ** 32 + u32(input, pos);
    if (contentSize > maxBytes) throw tooLarge(maxBytes);
    pos += 8;
  }
  if (input[pos] !== ((xxh32(input, 4, pos) >>> 8) & 0xff)) {
    throw corrupt("has a header checksum that does not match");
  }
  pos++;

  // Walk the blocks first: their sizes bound the output before anything is allocated.
  const blockChecksum = (flg & FLG_BLOCK_CHECKSUM) !== 0;
  const blocks: Block[] = [];
  let bound = 0;
  for (;;) {
    if (input.length - pos < 4) throw corrupt("is truncated before its end mark");
    const word = u32(input, pos);
    pos += 4;
    if (word === 0) break;
    const size = word & ~UNCOMPRESSED_BIT & 0xffffffff;
    if (size > blockMax) throw corrupt(`has a block of ${size} bytes, more than its maximum ${blockMax}`);
    const end = pos + size + (blockChecksum ? 4 : 0);
    if (end > input.length) throw corrupt("is truncated inside a block");
    if (blockChecksum && xxh32(input, pos, pos + size) !== u32(input, pos + size)) {
      throw corrupt("has a block whose checksum does not match");
    }
    const compressed = (word & UNCOMPRESSED_BIT) === 0;
    blocks.push({ start: pos, size, compressed });
    bound += compressed ? blockMax : size;
    pos = end;
  }
  const contentChecksum = (flg & FLG_CONTENT_CHECKSUM) !== 0;
  if (contentChecksum) {
    if (input.length - pos < 4) throw corrupt("is truncated in its content checksum");
    pos += 4;
  }
  if (pos !== input.length) throw corrupt(`has ${input.length - pos} bytes after its end mark`);

  const capacity = contentSize >= 0 ? contentSize : Math.min(bound, maxBytes);
  const out = new Uint8Array(capacity);
  let d = 0;
  for (const block of blocks) {
    const limit = Math.min(d + blockMax, capacity);
    // Past `limit`: a block larger than its maximum, or content beyond the declared size, is
    // corrupt; otherwise the output has reached the caller's limit.
    const overflow = (): never => {
      if (d + blockMax <= capacity || contentSize >= 0) {
        throw corrupt(
          contentSize >= 0
            ? "holds more than its declared content size"
            : "has a block that inflates beyond its maximum",
        );
      }
      throw tooLarge(maxBytes);
    };
    if (!block.compressed) {
      if (block.size > limit - d) overflow();
      out.set(input.subarray(block.start, block.start + block.size), d);
      d += block.size;
    } else {
      d = decodeBlock(input, block.start, block.start + block.size, out, d, limit, overflow);
    }
  }
  if (contentSize >= 0 && d !== contentSize) {
    throw corrupt(`holds ${d} bytes, not its declared content size ${contentSize}`);
  }
  const content = d === capacity ? out : out.slice(0, d);
  if (contentChecksum && xxh32(content) !== u32(input, input.length - 4)) {
    throw corrupt("has a content checksum that does not match");
  }
  return content;
}

/**
 * One LZ4 block (https://github.com/lz4/lz4/blob/dev/doc/lz4_Block_format.md) from
 * `src[s, end)` into `out` at `d`, never past `limit`; matches may reach back only inside this
 * block (blocks are independent). Returns the output position after the block.
 */
function decodeBlock(
  src: Uint8Array,
  s: number,
  end: number,
  out: Uint8Array,
  d: number,
  limit: number,
  overflow: () => never,
): number {
  const blockStart = d;
  if (s >= end) throw corrupt("has an empty compressed block");
  for (;;) {
    const token = src[s++];
    let literals = token >>> 4;
    if (literals === 15) {
      let b: number;
      do {
        if (s >= end) throw corrupt("has a block that ends inside a literal length");
        b = src[s++];
        literals += b;
      } while (b === 255);
    }
    if (literals > end - s) throw corrupt("has literals that run past their block");
    if (literals > limit - d) overflow();
    if (literals < 32) {
      for (let i = 0; i < literals; i++) out[d + i] = src[s + i];
    } else {
      out.set(src.subarray(s, s + literals), d);
    }
    s += literals;
    d += literals;
    if (s === end) return d; // the last sequence is literals only
    if (end - s < 2) throw corrupt("has a block that ends inside a match offset");
    const offset = src[s] | (src[s + 1] << 8);
    s += 2;
    if (offset === 0 || offset > d - blockStart) {
      throw corrupt(`has a match offset ${offset} outside its block`);
    }
    let length = token & 15;
    if (length === 15) {
      let b: number;
      do {
        if (s >= end) throw corrupt("has a block that ends inside a match length");
        b = src[s++];
        length += b;
      } while (b === 255);
    }
    length += MIN_MATCH;
    if (length > limit - d) overflow();
    let m = d - offset;
    if (offset >= length && length >= 32) {
      out.copyWithin(d, m, m + length);
      d += length;
    } else {
      // Overlapping (offset < length) repeats the last `offset` bytes: byte by byte, in order.
      const stop = d + length;
      while (d < stop) out[d++] = out[m++];
    }
  }
}

/** The reference's end-of-block rules: the last 5 bytes are literals, no match starts in the last 12. */
const LAST_LITERALS = 5;
const MF_LIMIT = 12;
const HASH_LOG = 16;
const MAX_OFFSET = 65535;

/** Writes a sequence's length beyond its 4-bit token field (255s, then the rest). */
function writeLength(out: Uint8Array, o: number, rest: number): number {
  let left = rest;
  while (left >= 255) {
    out[o++] = 255;
    left -= 255;
  }
  out[o++] = left;
  return o;
}

function writeLiterals(
  out: Uint8Array,
  o: number,
  src: Uint8Array,
  from: number,
  count: number,
  match: number,
): number {
  const token = o++;
  if (count >= 15) {
    out[token] = (15 << 4) | match;
    o = writeLength(out, o, count - 15);
  } else {
    out[token] = (count << 4) | match;
  }
  if (count < 32) {
    for (let i = 0; i < count; i++) out[o + i] = src[from + i];
  } else {
    out.set(src.subarray(from, from + count), o);
  }
  return o + count;
}

/**
 * LZ4's greedy fast compression of `src[start, end)` into `out` at 0 (sized for the worst case,
 * `end - start + (end - start) / 255 + 16`): a 4-byte hash of each position finds the last place
 * it occurred within 64 KiB. `table` holds positions + 1 and is cleared by the caller per block.
 * Returns the compressed size.
 */
function compressBlock(
  src: Uint8Array,
  start: number,
  end: number,
  out: Uint8Array,
  table: Int32Array,
): number {
  let o = 0;
  let anchor = start;
  const matchLimit = end - LAST_LITERALS;
  const mfLimit = end - MF_LIMIT;
  let s = start;
  while (s < mfLimit) {
    const sequence = u32(src, s);
    const h = Math.imul(sequence, 2654435761) >>> (32 - HASH_LOG);
    const ref = table[h] - 1;
    table[h] = s + 1;
    if (ref < start || s - ref > MAX_OFFSET || u32(src, ref) !== sequence) {
      s += 1 + ((s - anchor) >>> 6); // skip faster through data that does not compress
      continue;
    }
    let m = s;
    let r = ref;
    while (m > anchor && r > start && src[m - 1] === src[r - 1]) {
      m--;
      r--;
    }
    let e = s + MIN_MATCH;
    let re = ref + MIN_MATCH;
    while (e < matchLimit && src[e] === src[re]) {
      e++;
      re++;
    }
    const matchRest = e - m - MIN_MATCH;
    o = writeLiterals(out, o, src, anchor, m - anchor, Math.min(matchRest, 15));
    out[o++] = (m - r) & 0xff;
    out[o++] = (m - r) >>> 8;
    if (matchRest >= 15) o = writeLength(out, o, matchRest - 15);
    anchor = e;
    s = e;
  }
  return writeLiterals(out, o, src, anchor, end - anchor, 0);
}

/**
 * Encodes `input` as one Kafka lz4 frame: independent 64 KiB blocks (as Kafka's producer writes),
 * no checksums or content size, each block compressed or stored when that does not pay.
 */
export function lz4Compress(input: Uint8Array): Uint8Array {
  const blockMax = 1 << (2 * ENCODE_BLOCK_SIZE_ID + 8);
  const blocks = Math.ceil(input.length / blockMax);
  // Worst case: every block stored, plus header (7), block sizes and the end mark.
  const out = new Uint8Array(7 + blocks * (4 + blockMax) + 4);
  writeU32(out, 0, MAGIC);
  out[4] = (VERSION << 6) | FLG_BLOCK_INDEPENDENCE;
  out[5] = ENCODE_BLOCK_SIZE_ID << 4;
  out[6] = (xxh32(out, 4, 6) >>> 8) & 0xff;
  let pos = 7;
  const scratch = new Uint8Array(blockMax + Math.ceil(blockMax / 255) + 16);
  const table = new Int32Array(1 << HASH_LOG);
  for (let start = 0; start < input.length; start += blockMax) {
    const end = Math.min(start + blockMax, input.length);
    table.fill(0); // independent blocks: no match reaches into the previous one
    const compressedSize = compressBlock(input, start, end, scratch, table);
    if (compressedSize < end - start) {
      writeU32(out, pos, compressedSize);
      out.set(scratch.subarray(0, compressedSize), pos + 4);
      pos += 4 + compressedSize;
    } else {
      writeU32(out, pos, ((end - start) | UNCOMPRESSED_BIT) >>> 0);
      out.set(input.subarray(start, end), pos + 4);
      pos += 4 + end - start;
    }
  }
  writeU32(out, pos, 0);
  return out.slice(0, pos + 4);
}
