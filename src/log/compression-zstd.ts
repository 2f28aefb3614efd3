import * as zlib from "node:zlib";
import { decompress as fzstdDecompress } from "fzstd";
import { CorruptDataError, FloeError } from "../errors.js";
import { tooLarge } from "./compression-errors.js";

/**
 * Kafka's zstd: standard zstd frames (RFC 8878), as zstd-jni, librdkafka and Node write them.
 * Node 22.15+ has zstd in node:zlib (native, with a bound on the output); older Node inflates with
 * fzstd, a pure-JS decoder. fzstd has no output bound of its own, so the frames are walked here
 * first — headers and block headers only, no decoding — and refused before fzstd runs if they
 * could inflate past the bound or make it do more work than the bound allows (see `walkFrames`).
 */

type ZstdSync = (input: Uint8Array, options?: { maxOutputLength?: number }) => Buffer;
const native = zlib as unknown as { zstdDecompressSync?: ZstdSync; zstdCompressSync?: ZstdSync };

/** Set when this Node has zstd built in (22.15+); tests may pass `false` to force the fallback. */
export const nativeZstd: boolean = typeof native.zstdDecompressSync === "function";

const ZSTD_MAGIC = 0xfd2fb528;
const SKIPPABLE_MASK = 0xfffffff0;
const SKIPPABLE_MAGIC = 0x184d2a50;
const MAX_BLOCK_BYTES = 128 * 1024;
/** zstd's own default decoder limit (ZSTD_WINDOWLOG_LIMIT_DEFAULT = 27): larger windows are refused. */
const MAX_WINDOW_BYTES = 2 ** 27;
/**
 * fzstd slides its whole window once per block when a frame does not declare its size, so a frame
 * of many tiny blocks costs (blocks × window) bytes of copying while inflating to almost nothing.
 * That product is held to this multiple of the output bound: a producer's frame (full 128 KiB
 * blocks; zstd-jni states a 2 MiB window at its default level, and larger windows are restated to
 * what the frame can produce) stays far inside it.
 */
const WORK_PER_OUTPUT_BYTE = 16;
/** ...and never held below 16 MiB of copying, which costs next to nothing, whatever the bound. */
const WORK_FLOOR_BYTES = 1024 * 1024;

function corrupt(why: string, cause?: unknown): CorruptDataError {
  return new CorruptDataError(`zstd data ${why}`, { cause });
}

function u32(bytes: Uint8Array, at: number): number {
  return (bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16) | (bytes[at + 3] << 24)) >>> 0;
}

function uintLE(bytes: Uint8Array, at: number, size: number): number {
  let value = 0;
  for (let i = size - 1; i >= 0; i--) value = value * 256 + bytes[at + i];
  return value;
}

/** The smallest window a frame header can state (2^(10+e) · (1 + m/8)) that is at least `bytes`. */
function windowDescriptorFor(bytes: number): { descriptor: number; window: number } {
  for (let e = 0; e < 32; e++) {
    const base = 2 ** (10 + e);
    for (let m = 0; m < 8; m++) {
      const window = base + (base / 8) * m;
      if (window >= bytes) return { descriptor: (e << 3) | m, window };
    }
  }
  throw new Error(`no zstd window holds ${bytes} bytes`);
}

/** A window descriptor to restate: its position in the input and the smaller window. */
interface WindowPatch {
  at: number;
  descriptor: number;
}

/**
 * Checks the frames of `input` without decoding them: every frame whole, no dictionary, windows
 * within zstd's default limit, and an upper bound of the output — exact for frames that declare
 * their size, raw and RLE blocks, 128 KiB or the window for a compressed block — within
 * `maxBytes`, as is the copying fzstd does for frames of unknown size. Such a frame's window is
 * restated (see the patches returned) when it is larger than everything the frame can produce: a
 * match never reaches before its frame's start, so the output is the same, and fzstd allocates and
 * slides that much less (zstd-jni at level 22 states 128 MiB for a batch of 1 MiB).
 */
function walkFrames(input: Uint8Array, maxBytes: number): WindowPatch[] {
  const patches: WindowPatch[] = [];
  let pos = 0;
  let bound = 0;
  let work = 0;
  while (pos < input.length) {
    if (input.length - pos < 4) throw corrupt("ends inside a frame magic number");
    const magic = u32(input, pos);
    if ((magic & SKIPPABLE_MASK) >>> 0 === SKIPPABLE_MAGIC) {
      if (input.length - pos < 8) throw corrupt("ends inside a skippable frame");
      const size = u32(input, pos + 4);
      if (size > input.length - pos - 8) throw corrupt("has a skippable frame past its end");
      pos += 8 + size;
      continue;
    }
    if (magic !== ZSTD_MAGIC) throw corrupt("does not start with the zstd frame magic number");
    pos += 4;
    if (pos >= input.length) throw corrupt("ends inside a frame header");
    const descriptor = input[pos++];
    const sizeFlag = descriptor >>> 6;
    const singleSegment = (descriptor & 0x20) !== 0;
    const checksum = (descriptor & 0x04) !== 0;
    const dictionaryBytes = [0, 1, 2, 4][descriptor & 0x03];
    if (descriptor & 0x08) throw corrupt("sets the reserved frame header bit");
    let window = 0;
    let windowAt = -1;
    if (!singleSegment) {
      if (pos >= input.length) throw corrupt("ends inside a frame header");
      windowAt = pos;
      const w = input[pos++];
      const base = 2 ** (10 + (w >>> 3));
      window = base + (base / 8) * (w & 7);
    }
    const sizeBytes = [singleSegment ? 1 : 0, 2, 4, 8][sizeFlag];
    if (input.length - pos < dictionaryBytes + sizeBytes) throw corrupt("ends inside a frame header");
    if (uintLE(input, pos, dictionaryBytes) !== 0)
      throw corrupt("needs a dictionary; Kafka's zstd uses none");
    pos += dictionaryBytes;
    let contentSize = -1;
    if (sizeBytes > 0) {
      contentSize = uintLE(input, pos, sizeBytes) + (sizeBytes === 2 ? 256 : 0);
      pos += sizeBytes;
      if (singleSegment) window = contentSize;
    }
    if (window > MAX_WINDOW_BYTES) throw tooLarge(maxBytes);
    const blockMax = Math.min(window, MAX_BLOCK_BYTES);
    let frameBound = 0;
    let blocks = 0;
    for (let last = false; !last; ) {
      if (input.length - pos < 3) throw corrupt("ends inside a block header");
      const header = input[pos] | (input[pos + 1] << 8) | (input[pos + 2] << 16);
      pos += 3;
      last = (header & 1) === 1;
      const type = (header >>> 1) & 3;
      const size = header >>> 3;
      if (type === 3) throw corrupt("has a block of the reserved type");
      if (size > blockMax) throw corrupt(`has a block of ${size} bytes, more than its maximum ${blockMax}`);
      const stored = type === 1 ? 1 : size; // an RLE block stores one byte, repeated `size` times
      if (stored > input.length - pos) throw corrupt("ends inside a block");
      pos += stored;
      frameBound += type === 2 ? blockMax : size;
      blocks++;
    }
    if (checksum) {
      if (input.length - pos < 4) throw corrupt("ends inside a frame checksum");
      pos += 4;
    }
    // fzstd inflates a frame that declares a size (other than 0) into a buffer of exactly that size
    // and never past it; any other frame it grows block by block, sliding its window each time.
    const declared = contentSize > 0;
    bound += declared ? contentSize : frameBound;
    if (!declared) {
      let slid = window;
      // Every block fits in frameBound, so that window also keeps fzstd's block buffers whole.
      if (windowAt >= 0 && frameBound < window) {
        const smaller = windowDescriptorFor(frameBound);
        patches.push({ at: windowAt, descriptor: smaller.descriptor });
        slid = smaller.window;
      }
      work += blocks * slid;
    }
    if (bound > maxBytes || work > WORK_PER_OUTPUT_BYTE * Math.max(maxBytes, WORK_FLOOR_BYTES)) {
      throw tooLarge(maxBytes);
    }
  }
  return patches;
}

/** Inflates one or more zstd frames to at most `maxBytes` bytes. */
export function zstdDecompress(input: Uint8Array, maxBytes: number, useNative = nativeZstd): Uint8Array {
  if (useNative && native.zstdDecompressSync) {
    try {
      return native.zstdDecompressSync(input, { maxOutputLength: maxBytes });
    } catch (cause) {
      if ((cause as { code?: unknown }).code === "ERR_BUFFER_TOO_LARGE") throw tooLarge(maxBytes, cause);
      throw corrupt("does not inflate", cause);
    }
  }
  const patches = walkFrames(input, maxBytes);
  let frames = input;
  if (patches.length > 0) {
    // The caller's bytes are stored as sent: restate windows in a copy (not Buffer#slice, a view).
    frames = Uint8Array.prototype.slice.call(input);
    for (const patch of patches) frames[patch.at] = patch.descriptor;
  }
  let out: Uint8Array;
  try {
    out = fzstdDecompress(frames);
  } catch (cause) {
    throw corrupt("does not inflate", cause);
  }
  // The walk bounds what fzstd can produce; this is the belt to those braces.
  if (out.length > maxBytes) throw tooLarge(maxBytes);
  return out;
}

/** Whether this Node can write zstd (no pure-JS zstd encoder is fast and kept well enough). */
export function canCompressZstd(): boolean {
  return typeof native.zstdCompressSync === "function";
}

export function zstdCompress(input: Uint8Array): Uint8Array {
  if (!native.zstdCompressSync) {
    throw new FloeError(
      "UNSUPPORTED_COMPRESSION_TYPE",
      `Writing zstd needs Node 22.15 or later (node:zlib zstd); this is Node ${process.versions.node}. Floe reads zstd on any Node.`,
    );
  }
  return native.zstdCompressSync(input);
}
