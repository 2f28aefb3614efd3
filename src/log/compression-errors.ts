import { FloeError } from "../errors.js";

/**
 * A compressed payload that would inflate past the caller's bound: refused before the memory is
 * spent (a few KiB of gzip, zstd or lz4 can claim gigabytes). MESSAGE_TOO_LARGE, as for a batch
 * that is too large as sent.
 */
export function tooLarge(maxBytes: number, cause?: unknown): FloeError {
  return new FloeError("MESSAGE_TOO_LARGE", `inflates beyond ${maxBytes} bytes`, { cause });
}
