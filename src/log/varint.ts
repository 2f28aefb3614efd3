/**
 * Sizes of Kafka's variable-length integers (protobuf-style base-128, little-endian groups of 7
 * bits, high bit = "more"). Signed `varint` (int32) and `varlong` (int64) are zigzag-encoded first,
 * so small negative numbers stay short: 0 → 0, -1 → 1, 1 → 2, -2 → 3, …
 *
 * The writer and reader live in byte-writer.ts and byte-reader.ts; these helpers let an encoder
 * size a buffer exactly before writing.
 */

/** Bytes taken by an unsigned varint of `u` (0 ≤ u < 2^53). */
export function sizeOfUnsignedVarint(u: number): number {
  if (u < 0x80) return 1;
  if (u < 0x4000) return 2;
  if (u < 0x200000) return 3;
  if (u < 0x10000000) return 4;
  let size = 4;
  let rest = Math.floor(u / 0x10000000);
  while (rest > 0) {
    size++;
    rest = Math.floor(rest / 128);
  }
  return size;
}

/** Zigzag of a signed 32-bit integer, as an unsigned 32-bit number. */
export function zigzag32(value: number): number {
  return ((value << 1) ^ (value >> 31)) >>> 0;
}

/** Zigzag of a safe integer as a (non-negative) number: exact for |value| ≤ 2^52. */
export function zigzag64(value: number): number {
  return value >= 0 ? value * 2 : -value * 2 - 1;
}

/** Bytes taken by a zigzag varint (int32). */
export function sizeOfVarint(value: number): number {
  return sizeOfUnsignedVarint(zigzag32(value));
}

/** Bytes taken by a zigzag varlong (int64) of a safe integer. */
export function sizeOfVarlong(value: number): number {
  if (value >= -0x8000000 && value < 0x8000000) return sizeOfUnsignedVarint(zigzag32(value));
  // Beyond 28 bits the zigzag may not be exact as a double; size it from the magnitude instead:
  // zigzag(v) is 2m (v ≥ 0, m = v) or 2m + 1 (v < 0, m = -v - 1), so it has bitLength(m) + 1 bits.
  const m = value >= 0 ? value : -value - 1;
  const hi = Math.floor(m / 0x100000000);
  const bits = hi > 0 ? 64 - Math.clz32(hi) : 32 - Math.clz32(m >>> 0);
  return Math.ceil((bits + 1) / 7);
}
