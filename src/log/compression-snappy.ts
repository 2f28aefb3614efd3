import snappy from "snappyjs";
import { CorruptDataError } from "../errors.js";
import { tooLarge } from "./compression-errors.js";

/**
 * Kafka's snappy comes two ways, and a reader must take both (as Kafka's, librdkafka's and
 * KafkaJS's do):
 * - xerial-framed, as Kafka's Java producer (snappy-java's SnappyOutputStream), librdkafka and
 *   KafkaJS write it: the 16-byte header `\x82SNAPPY\0`, version int32 and compatible-version
 *   int32 (big-endian), then blocks of [int32 length][raw snappy block];
 * - raw snappy (one block), as some clients (@platformatic/kafka among them) write it.
 * Raw snappy starts with its inflated length as a varint, so the bound is checked on every block
 * before a byte is allocated; the blocks themselves are inflated by snappyjs.
 */

const XERIAL_MAGIC = [0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00];
const XERIAL_HEADER_BYTES = 16;
const XERIAL_VERSION = 1;
/** snappy-java's default block size, which Kafka's producer keeps. */
const XERIAL_BLOCK_BYTES = 32 * 1024;

function corrupt(why: string, cause?: unknown): CorruptDataError {
  return new CorruptDataError(`snappy data ${why}`, { cause });
}

function isXerial(input: Uint8Array): boolean {
  if (input.length < XERIAL_HEADER_BYTES) return false;
  for (let i = 0; i < XERIAL_MAGIC.length; i++) if (input[i] !== XERIAL_MAGIC[i]) return false;
  return true;
}

/** The inflated length a raw snappy block declares (its leading varint, at most 2^32 - 1). */
function declaredLength(block: Uint8Array): number {
  let length = 0;
  for (let i = 0; i < 5 && i < block.length; i++) {
    const b = block[i];
    length += (b & 0x7f) * 2 ** (7 * i);
    if (b < 0x80) return length;
  }
  throw corrupt("starts with no valid length");
}

function inflateBlock(block: Uint8Array, room: number, maxBytes: number): Uint8Array {
  if (declaredLength(block) > room) throw tooLarge(maxBytes);
  try {
    return snappy.uncompress(block);
  } catch (cause) {
    throw corrupt("does not inflate", cause);
  }
}

/** Inflates raw or xerial-framed snappy to at most `maxBytes` bytes. */
export function snappyDecompress(input: Uint8Array, maxBytes: number): Uint8Array {
  if (!isXerial(input)) return inflateBlock(input, maxBytes, maxBytes);
  const view = new DataView(input.buffer, input.byteOffset, input.byteLength);
  const blocks: Uint8Array[] = [];
  let total = 0;
  let pos = XERIAL_HEADER_BYTES;
  while (pos < input.length) {
    if (input.length - pos < 4) throw corrupt("ends inside a xerial block length");
    const length = view.getInt32(pos);
    pos += 4;
    if (length < 0 || length > input.length - pos)
      throw corrupt(`has a xerial block length ${length} past its end`);
    const declared = declaredLength(input.subarray(pos, pos + length));
    total += declared;
    if (total > maxBytes) throw tooLarge(maxBytes);
    blocks.push(input.subarray(pos, pos + length));
    pos += length;
  }
  if (blocks.length === 1) return inflateBlock(blocks[0], maxBytes, maxBytes);
  const out = new Uint8Array(total);
  let at = 0;
  for (const block of blocks) {
    const inflated = inflateBlock(block, total - at, maxBytes);
    out.set(inflated, at);
    at += inflated.length;
  }
  return out;
}

/** Encodes `input` xerial-framed in 32 KiB blocks, as Kafka's Java producer does. */
export function snappyCompress(input: Uint8Array): Uint8Array {
  const parts: Uint8Array[] = [];
  const header = new Uint8Array(XERIAL_HEADER_BYTES);
  header.set(XERIAL_MAGIC);
  const headerView = new DataView(header.buffer);
  headerView.setInt32(8, XERIAL_VERSION);
  headerView.setInt32(12, XERIAL_VERSION);
  parts.push(header);
  let size = XERIAL_HEADER_BYTES;
  for (let start = 0; start < input.length; start += XERIAL_BLOCK_BYTES) {
    const block = snappy.compress(input.subarray(start, Math.min(input.length, start + XERIAL_BLOCK_BYTES)));
    const length = new Uint8Array(4);
    new DataView(length.buffer).setInt32(0, block.length);
    parts.push(length, block);
    size += 4 + block.length;
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
