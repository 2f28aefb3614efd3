import { FloeError } from "../errors.js";
import { zigzag32 } from "./varint.js";

const TWO_POW_32 = 0x100000000;

function invalid(message: string): FloeError {
  return new FloeError("INVALID_RECORD", message);
}

/**
 * A growable big-endian byte writer with Kafka's primitive types. Capacity doubles when needed;
 * an encoder that sizes its output exactly up front (see `sizeOfVarint`) never reallocates.
 *
 * Values out of range for their type throw FloeError INVALID_RECORD rather than wrapping silently.
 */
export class ByteWriter {
  private buf: Uint8Array;
  private view: DataView;
  /** Bytes written so far; also the position of the next write. */
  position = 0;

  constructor(initialCapacity = 256) {
    this.buf = new Uint8Array(Math.max(16, initialCapacity));
    this.view = new DataView(this.buf.buffer);
  }

  /** Makes room for `n` more bytes. */
  ensure(n: number): void {
    const needed = this.position + n;
    if (needed <= this.buf.length) return;
    let capacity = this.buf.length * 2;
    while (capacity < needed) capacity *= 2;
    const next = new Uint8Array(capacity);
    next.set(this.buf.subarray(0, this.position));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  int8(value: number): this {
    if (!Number.isInteger(value) || value < -0x80 || value > 0x7f)
      throw invalid(`int8 out of range: ${value}`);
    this.ensure(1);
    this.buf[this.position++] = value & 0xff;
    return this;
  }

  uint8(value: number): this {
    if (!Number.isInteger(value) || value < 0 || value > 0xff) throw invalid(`uint8 out of range: ${value}`);
    this.ensure(1);
    this.buf[this.position++] = value;
    return this;
  }

  int16(value: number): this {
    if (!Number.isInteger(value) || value < -0x8000 || value > 0x7fff) {
      throw invalid(`int16 out of range: ${value}`);
    }
    this.ensure(2);
    this.view.setInt16(this.position, value);
    this.position += 2;
    return this;
  }

  int32(value: number): this {
    this.ensure(4);
    this.setInt32At(this.position, value);
    this.position += 4;
    return this;
  }

  uint32(value: number): this {
    this.ensure(4);
    this.setUint32At(this.position, value);
    this.position += 4;
    return this;
  }

  /** int64 from a safe integer (|value| < 2^53); offsets and timestamps never need more. */
  int64(value: number): this {
    if (!Number.isSafeInteger(value)) throw invalid(`int64 is not a safe integer: ${value}`);
    this.ensure(8);
    const hi = Math.floor(value / TWO_POW_32);
    this.view.setInt32(this.position, hi);
    this.view.setUint32(this.position + 4, value - hi * TWO_POW_32);
    this.position += 8;
    return this;
  }

  /** Unsigned base-128 varint of 0 ≤ u < 2^53. */
  unsignedVarint(u: number): this {
    this.ensure(8);
    const buf = this.buf;
    let p = this.position;
    if (u < 0x80000000) {
      let v = u;
      while (v >= 0x80) {
        buf[p++] = (v & 0x7f) | 0x80;
        v >>>= 7;
      }
      buf[p++] = v;
    } else {
      let v = u;
      while (v >= 0x80) {
        buf[p++] = (v % 128) | 0x80;
        v = Math.floor(v / 128);
      }
      buf[p++] = v;
    }
    this.position = p;
    return this;
  }

  /** Kafka `varint`: zigzag-encoded int32. */
  varint(value: number): this {
    if (!Number.isInteger(value) || value < -0x80000000 || value > 0x7fffffff) {
      throw invalid(`varint out of int32 range: ${value}`);
    }
    this.ensure(5);
    const buf = this.buf;
    let p = this.position;
    let v = zigzag32(value);
    while (v >= 0x80) {
      buf[p++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[p++] = v;
    this.position = p;
    return this;
  }

  /** Kafka `varlong`: zigzag-encoded int64, from a safe integer. */
  varlong(value: number): this {
    // int32 values: the 32-bit zigzag equals the 64-bit one.
    if ((value | 0) === value) return this.varint(value);
    if (!Number.isSafeInteger(value)) throw invalid(`varlong is not a safe integer: ${value}`);
    // zigzag(v) = 2m + s with m = |v| (or -v - 1 when negative) and s the sign. Its low 7 bits are
    // ((m mod 64) << 1) | s and the rest is m / 64: no intermediate exceeds 2^53, so all is exact.
    const s = value < 0 ? 1 : 0;
    const m = s ? -value - 1 : value;
    this.ensure(10);
    this.buf[this.position++] = ((m % 64) << 1) | s | 0x80; // m ≥ 2^31 - 1: more groups follow
    return this.unsignedVarint(Math.floor(m / 64));
  }

  /** Raw bytes, copied. */
  bytes(src: Uint8Array): this {
    this.ensure(src.length);
    this.buf.set(src, this.position);
    this.position += src.length;
    return this;
  }

  /**
   * UTF-8 of `str`, whose encoded length the caller already knows (see `utf8Length`): writing the
   * length prefix first then the text avoids an intermediate buffer.
   */
  utf8(str: string, byteLength: number): this {
    this.ensure(byteLength);
    const buf = this.buf;
    let p = this.position;
    if (byteLength === str.length) {
      // All ASCII (one byte per UTF-16 unit iff every unit is < 0x80, given utf8Length's count).
      for (let i = 0; i < str.length; i++) buf[p++] = str.charCodeAt(i);
    } else {
      const { written } = ENCODER.encodeInto(str, buf.subarray(p, p + byteLength));
      if (written !== byteLength) throw invalid("string changed length while encoding");
      p += written;
    }
    this.position = p;
    return this;
  }

  /** Overwrites an int32 at an earlier position (for lengths known only after writing). */
  setInt32At(position: number, value: number): void {
    if (!Number.isInteger(value) || value < -0x80000000 || value > 0x7fffffff) {
      throw invalid(`int32 out of range: ${value}`);
    }
    this.view.setInt32(position, value);
  }

  setUint32At(position: number, value: number): void {
    if (!Number.isInteger(value) || value < 0 || value > 0xffffffff)
      throw invalid(`uint32 out of range: ${value}`);
    this.view.setUint32(position, value);
  }

  /** The underlying buffer so far (for checksumming a written range in place). */
  get buffer(): Uint8Array {
    return this.buf;
  }

  /**
   * The bytes written, as a view of the internal buffer (whole buffer when the capacity was exact).
   * The writer must not be used afterwards.
   */
  finish(): Uint8Array {
    return this.position === this.buf.length ? this.buf : this.buf.subarray(0, this.position);
  }
}

const ENCODER = new TextEncoder();

/**
 * UTF-8 byte length of a well-formed string. Throws INVALID_RECORD on a lone surrogate, which UTF-8
 * cannot represent (TextEncoder would silently substitute U+FFFD, changing the data).
 */
export function utf8Length(str: string): number {
  let n = str.length;
  for (let i = 0; i < str.length; i++) {
    const c = str.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) {
      n += 1;
    } else if (c >= 0xd800 && c <= 0xdfff) {
      const d = i + 1 < str.length ? str.charCodeAt(i + 1) : 0;
      if (c > 0xdbff || d < 0xdc00 || d > 0xdfff) throw invalid("string contains a lone surrogate");
      n += 2; // 4 bytes for 2 UTF-16 units
      i++;
    } else {
      n += 2;
    }
  }
  return n;
}
