import { CorruptDataError } from "../errors.js";

const TWO_POW_32 = 0x100000000;
const TWO_POW_47 = 2 ** 47;

/** Fatal: invalid UTF-8 is corruption, never silently replaced with U+FFFD. */
const DECODER = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * A bounds-checked big-endian reader over `bytes[start, end)`. Every read that would pass `end`,
 * and every malformed varint, throws CorruptDataError: callers never see a RangeError or a
 * silently wrong value. int64 values are returned as numbers and must be safe integers.
 *
 * `bytes(n)` returns zero-copy `subarray` views of the input (plain Uint8Arrays, even over a Buffer).
 */
export class ByteReader {
  readonly source: Uint8Array;
  private readonly view: DataView;
  position: number;
  end: number;

  constructor(bytes: Uint8Array, start = 0, end = bytes.length) {
    if (!(start >= 0 && start <= end && end <= bytes.length)) {
      throw new CorruptDataError(`range [${start}, ${end}) is outside the ${bytes.length} available bytes`);
    }
    // A Buffer (or other subclass) is viewed as a plain Uint8Array, so every view handed out is
    // one too (and subarray stays the fast built-in); the memory is shared, not copied.
    this.source =
      bytes.constructor === Uint8Array ? bytes : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.position = start;
    this.end = end;
  }

  get remaining(): number {
    return this.end - this.position;
  }

  /** Throws unless `n` more bytes are available. */
  need(n: number, what = "data"): void {
    if (n > this.end - this.position || n < 0) {
      throw new CorruptDataError(
        `truncated ${what}: need ${n} bytes at position ${this.position}, only ${this.end - this.position} left`,
      );
    }
  }

  skip(n: number, what?: string): void {
    this.need(n, what);
    this.position += n;
  }

  int8(what = "int8"): number {
    this.need(1, what);
    return (this.source[this.position++] << 24) >> 24;
  }

  uint8(what = "uint8"): number {
    this.need(1, what);
    return this.source[this.position++];
  }

  int16(what = "int16"): number {
    this.need(2, what);
    const v = this.view.getInt16(this.position);
    this.position += 2;
    return v;
  }

  int32(what = "int32"): number {
    this.need(4, what);
    const v = this.view.getInt32(this.position);
    this.position += 4;
    return v;
  }

  uint32(what = "uint32"): number {
    this.need(4, what);
    const v = this.view.getUint32(this.position);
    this.position += 4;
    return v;
  }

  /** int64 as a number; values outside ±(2^53 - 1) are rejected as corrupt. */
  int64(what = "int64"): number {
    this.need(8, what);
    const hi = this.view.getInt32(this.position);
    const lo = this.view.getUint32(this.position + 4);
    if (hi > 0x1fffff || hi < -0x200000 || (hi === -0x200000 && lo === 0)) {
      throw new CorruptDataError(`${what} at position ${this.position} is not a safe integer`);
    }
    this.position += 8;
    return hi * TWO_POW_32 + lo;
  }

  /** Kafka `varint`: zigzag int32, at most 5 bytes, no bits beyond the 32nd. */
  varint(what = "varint"): number {
    const buf = this.source;
    const end = this.end;
    let p = this.position;
    if (p >= end) throw this.truncatedVarint(what);
    let b = buf[p++];
    let u = b & 0x7f;
    if (b & 0x80) {
      let shift = 7;
      for (;;) {
        if (p >= end) throw this.truncatedVarint(what);
        b = buf[p++];
        if (shift === 28) {
          if (b > 0x0f)
            throw new CorruptDataError(`malformed ${what} at position ${this.position}: too long`);
          u |= b << 28;
          break;
        }
        u |= (b & 0x7f) << shift;
        if (!(b & 0x80)) break;
        shift += 7;
      }
    }
    this.position = p;
    return (u >>> 1) ^ -(u & 1);
  }

  /** Kafka `varlong`: zigzag int64, at most 10 bytes; the value must be a safe integer. */
  varlong(what = "varlong"): number {
    const buf = this.source;
    const end = this.end;
    let p = this.position;
    if (p >= end) throw this.truncatedVarint(what);
    const b0 = buf[p++];
    if (!(b0 & 0x80)) {
      this.position = p;
      return (b0 >>> 1) ^ -(b0 & 1);
    }
    // zigzag = 2m + s: s is the low bit, m = (low 6 bits of the rest of b0) + 64 · (remaining groups).
    const s = b0 & 1;
    const low = (b0 & 0x7f) >>> 1;
    let rest = 0;
    let scale = 1;
    for (let i = 1; ; i++) {
      if (p >= end) throw this.truncatedVarint(what);
      if (i === 10) throw new CorruptDataError(`malformed ${what} at position ${this.position}: too long`);
      const b = buf[p++];
      rest += (b & 0x7f) * scale;
      if (!(b & 0x80)) break;
      scale *= 128;
    }
    const m = low + rest * 64;
    if (rest >= TWO_POW_47 || (s === 1 && m === Number.MAX_SAFE_INTEGER)) {
      throw new CorruptDataError(`${what} at position ${this.position} is not a safe integer`);
    }
    this.position = p;
    return s ? -m - 1 : m;
  }

  /** `n` bytes as a zero-copy view. */
  bytes(n: number, what = "bytes"): Uint8Array {
    this.need(n, what);
    const start = this.position;
    this.position += n;
    return this.source.subarray(start, start + n);
  }

  /** Kafka nullable bytes with a varint length: -1 is null; a zero-copy view otherwise. */
  varintBytes(what = "bytes"): Uint8Array | null {
    const n = this.varint(`${what} length`);
    if (n === -1) return null;
    if (n < -1) throw new CorruptDataError(`invalid ${what} length ${n} at position ${this.position}`);
    return this.bytes(n, what);
  }

  /** `n` bytes of UTF-8 as a string; malformed UTF-8 is corruption. */
  utf8(n: number, what = "string"): string {
    this.need(n, what);
    const start = this.position;
    this.position += n;
    const buf = this.source;
    // Short ASCII strings (typical header keys) decode faster by hand than through TextDecoder.
    if (n <= 32) {
      let s = "";
      let i = start;
      for (; i < start + n; i++) {
        const c = buf[i];
        if (c >= 0x80) break;
        s += String.fromCharCode(c);
      }
      if (i === start + n) return s;
    }
    try {
      return DECODER.decode(buf.subarray(start, start + n));
    } catch (cause) {
      throw new CorruptDataError(`invalid UTF-8 in ${what} at position ${start}`, { cause });
    }
  }

  private truncatedVarint(what: string): CorruptDataError {
    return new CorruptDataError(`truncated ${what} at position ${this.position}`);
  }
}
