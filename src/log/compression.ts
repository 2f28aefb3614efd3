import { gunzipSync, gzipSync } from "node:zlib";
import { CorruptDataError, FloeError } from "../errors.js";
import { tooLarge } from "./compression-errors.js";
import { lz4Compress, lz4Decompress } from "./compression-lz4.js";
import { snappyCompress, snappyDecompress } from "./compression-snappy.js";
import { canCompressZstd, zstdCompress, zstdDecompress } from "./compression-zstd.js";

/**
 * Kafka's record-batch codecs (attributes bits 0-2): what a batch's records region is compressed
 * with. Every codec is read on any Node: gzip by node:zlib, snappy by snappyjs (raw or
 * xerial-framed), lz4 frames by Floe's bounded block decoder, zstd by node:zlib where Node has it
 * (22.15+) and fzstd otherwise — all pure JS, so they bundle into a Lambda and need no build.
 * Every inflation is bounded by the caller's `maxBytes` (MESSAGE_TOO_LARGE past it), and bytes
 * that do not inflate are a CorruptDataError.
 */
export type CompressionCodec = "none" | "gzip" | "snappy" | "lz4" | "zstd";

/** Kafka's codec ids, in attribute order. */
export const CODECS: readonly CompressionCodec[] = ["none", "gzip", "snappy", "lz4", "zstd"];

function gunzip(input: Uint8Array, maxBytes: number): Uint8Array {
  try {
    return gunzipSync(input, { maxOutputLength: maxBytes });
  } catch (cause) {
    if ((cause as { code?: unknown }).code === "ERR_BUFFER_TOO_LARGE") throw tooLarge(maxBytes, cause);
    throw new CorruptDataError("gzip data does not inflate", { cause });
  }
}

/** Inflates `input`, compressed with `codec`, to at most `maxBytes` bytes. */
export function decompress(codec: CompressionCodec, input: Uint8Array, maxBytes: number): Uint8Array {
  switch (codec) {
    case "none":
      if (input.length > maxBytes) throw tooLarge(maxBytes);
      return input;
    case "gzip":
      return gunzip(input, maxBytes);
    case "snappy":
      return snappyDecompress(input, maxBytes);
    case "lz4":
      return lz4Decompress(input, maxBytes);
    case "zstd":
      return zstdDecompress(input, maxBytes);
    default:
      throw new FloeError("UNSUPPORTED_COMPRESSION_TYPE", `unknown compression codec ${String(codec)}`);
  }
}

/** Whether `compress` can write `codec` on this Node (zstd needs Node 22.15+). */
export function canCompress(codec: CompressionCodec): boolean {
  return codec === "zstd" ? canCompressZstd() : CODECS.includes(codec);
}

/**
 * Compresses `input` the way Kafka's Java producer frames each codec: gzip, xerial-framed snappy,
 * an lz4 frame of independent 64 KiB blocks, a zstd frame. Throws UNSUPPORTED_COMPRESSION_TYPE
 * for zstd on a Node without it.
 */
export function compress(codec: CompressionCodec, input: Uint8Array): Uint8Array {
  switch (codec) {
    case "none":
      return input;
    case "gzip":
      return gzipSync(input);
    case "snappy":
      return snappyCompress(input);
    case "lz4":
      return lz4Compress(input);
    case "zstd":
      return zstdCompress(input);
    default:
      throw new FloeError("UNSUPPORTED_COMPRESSION_TYPE", `unknown compression codec ${String(codec)}`);
  }
}
