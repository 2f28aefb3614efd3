import { CorruptDataError } from "../../errors.js";
import { ByteReader } from "../../log/byte-reader.js";
import { ByteWriter, utf8Length } from "../../log/byte-writer.js";
import { readUuid, writeUuid } from "../../log/uuid.js";
import {
  type FieldSpec,
  inVersions,
  type MessageInput,
  type MessageSpec,
  type MessageValue,
  parseVersions,
  type ScalarType,
} from "./spec.js";

/**
 * Encoders and decoders derived from a MessageSpec (spec.ts), compiled once per version into
 * closures so a hot message (Produce, Fetch) walks no description at run time.
 *
 * Decoding is bounds-checked: a truncated or hostile frame throws CorruptDataError, never a
 * RangeError, and no length or count can make it allocate more than the frame holds.
 */

const NULL_UUID = "00000000-0000-0000-0000-000000000000";
/** Byte fields at least this long go out as their own chunk instead of being copied. */
const ZERO_COPY_BYTES = 4096;

/**
 * Collects an encoded message as chunks: small fields in a growable buffer, large byte fields
 * (stored record batches) by reference, so a fetch answer is written to the socket without a copy.
 */
export class ChunkWriter {
  readonly chunks: Uint8Array[] = [];
  w = new ByteWriter(512);
  private flushedBytes = 0;

  get length(): number {
    return this.flushedBytes + this.w.position;
  }

  bigBytes(b: Uint8Array): void {
    if (b.length < ZERO_COPY_BYTES) {
      this.w.bytes(b);
      return;
    }
    this.flush();
    this.chunks.push(b);
    this.flushedBytes += b.length;
  }

  private flush(): void {
    if (this.w.position === 0) return;
    const done = this.w.finish();
    this.chunks.push(done);
    this.flushedBytes += done.length;
    this.w = new ByteWriter(512);
  }

  finish(): Uint8Array[] {
    this.flush();
    return this.chunks;
  }
}

type Decode = (r: ByteReader) => unknown;
type Encode = (out: ChunkWriter, value: unknown) => void;

interface CompiledField {
  name: string;
  decode: Decode;
  encode: Encode;
  defaultValue: () => unknown;
  tag: number | undefined;
}

function corrupt(message: string): CorruptDataError {
  return new CorruptDataError(message);
}

function unsignedVarint(r: ByteReader, what: string): number {
  // An unsigned varint of up to 5 bytes (lengths and counts, tags): zigzag is not used.
  let value = 0;
  for (let shift = 0; shift <= 28; shift += 7) {
    const b = r.uint8(what);
    value += (b & 0x7f) * 2 ** shift;
    if (!(b & 0x80)) {
      if (value > 0x7fffffff) throw corrupt(`${what} ${value} is out of range`);
      return value;
    }
  }
  throw corrupt(`malformed ${what}: unsigned varint too long`);
}

/** A length or count: compact (varint of n+1, 0 for null) in flexible versions, else int16/int32. */
function readLength(r: ByteReader, flexible: boolean, wide: boolean, what: string): number {
  if (flexible) return unsignedVarint(r, what) - 1;
  return wide ? r.int32(what) : r.int16(what);
}

/** A string's or bytes' length, -1 for null (refused where the field is not nullable). */
function readNullableLength(
  r: ByteReader,
  flexible: boolean,
  wide: boolean,
  what: string,
  nullable: boolean,
  version: number,
): number {
  const n = readLength(r, flexible, wide, `${what} length`);
  if (n === -1 && !nullable) throw corrupt(`${what} is null but not nullable in version ${version}`);
  if (n < -1) throw corrupt(`invalid ${what} length ${n}`);
  return n;
}

function writeLength(out: ChunkWriter, flexible: boolean, wide: boolean, n: number): void {
  if (flexible) out.w.unsignedVarint(n + 1);
  else if (wide) out.w.int32(n);
  else out.w.int16(n);
}

function zeroOf(field: FieldSpec): unknown {
  if (field.default !== undefined) return field.default;
  if (field.type.startsWith("[]")) return [];
  switch (field.type) {
    case "bool":
      return false;
    case "string":
      return "";
    case "uuid":
      return NULL_UUID;
    case "bytes":
    case "records":
      return field.nullableVersions ? null : new Uint8Array(0);
    default:
      return 0;
  }
}

function scalarCodec(
  type: ScalarType,
  field: FieldSpec,
  version: number,
  flexible: boolean,
): { decode: Decode; encode: Encode } {
  const nullable = inVersions(field.nullableVersions, version);
  const what = field.name;
  switch (type) {
    case "bool":
      return {
        decode: (r) => r.int8(what) !== 0,
        encode: (out, v) => void out.w.int8(v ? 1 : 0),
      };
    case "int8":
      return { decode: (r) => r.int8(what), encode: (out, v) => void out.w.int8(v as number) };
    case "int16":
      return { decode: (r) => r.int16(what), encode: (out, v) => void out.w.int16(v as number) };
    case "uint16":
      return {
        decode: (r) => r.int16(what) & 0xffff,
        encode: (out, v) => void out.w.int16(((v as number) << 16) >> 16),
      };
    case "int32":
      return { decode: (r) => r.int32(what), encode: (out, v) => void out.w.int32(v as number) };
    case "int64":
      return { decode: (r) => r.int64(what), encode: (out, v) => void out.w.int64(v as number) };
    case "float64":
      return {
        decode: (r) => new DataView(r.bytes(8, what).slice().buffer).getFloat64(0),
        encode: (out, v) => {
          const b = new Uint8Array(8);
          new DataView(b.buffer).setFloat64(0, v as number);
          out.w.bytes(b);
        },
      };
    case "uuid":
      return {
        decode: (r) => readUuid(r.bytes(16, what), 0),
        encode: (out, v) => {
          const b = new Uint8Array(16);
          writeUuid((v as string) || NULL_UUID, b, 0);
          out.w.bytes(b);
        },
      };
    case "string":
      return {
        decode: (r) => {
          const n = readNullableLength(r, flexible, false, what, nullable, version);
          return n === -1 ? null : r.utf8(n, what);
        },
        encode: (out, v) => {
          if (v === null || v === undefined) {
            writeLength(out, flexible, false, nullable ? -1 : 0);
            return;
          }
          const s = v as string;
          const n = utf8Length(s);
          writeLength(out, flexible, false, n);
          out.w.utf8(s, n);
        },
      };
    case "bytes":
    case "records":
      return {
        decode: (r) => {
          const n = readNullableLength(r, flexible, true, what, nullable, version);
          return n === -1 ? null : r.bytes(n, what);
        },
        encode: (out, v) => {
          if (v === null || v === undefined) {
            writeLength(out, flexible, true, nullable ? -1 : 0);
            return;
          }
          const b = v as Uint8Array;
          writeLength(out, flexible, true, b.length);
          out.bigBytes(b);
        },
      };
  }
}

function arrayCodec(
  element: { decode: Decode; encode: Encode },
  field: FieldSpec,
  version: number,
  flexible: boolean,
): { decode: Decode; encode: Encode } {
  const nullable = inVersions(field.nullableVersions, version);
  const what = field.name;
  return {
    decode: (r) => {
      const n = readLength(r, flexible, true, `${what} count`);
      if (n === -1) {
        if (!nullable) throw corrupt(`${what} is null but not nullable in version ${version}`);
        return null;
      }
      // Every element takes at least one byte, so a count beyond what is left is a lie.
      if (n < -1 || n > r.remaining) throw corrupt(`invalid ${what} count ${n}`);
      const items = new Array(n);
      for (let i = 0; i < n; i++) items[i] = element.decode(r);
      return items;
    },
    encode: (out, v) => {
      if (v === null || v === undefined) {
        writeLength(out, flexible, true, nullable ? -1 : 0);
        return;
      }
      const items = v as unknown[];
      writeLength(out, flexible, true, items.length);
      for (const item of items) element.encode(out, item);
    },
  };
}

function fieldCodec(
  field: FieldSpec,
  version: number,
  messageFlexible: boolean,
): { decode: Decode; encode: Encode } {
  const flexible =
    field.flexibleVersions === undefined ? messageFlexible : inVersions(field.flexibleVersions, version);
  if (field.type === "[]" || field.type === "{}") {
    if (!field.fields) throw new Error(`${field.name}: a struct needs fields`);
    const struct = structCodec(field.fields, version, flexible);
    if (field.type === "{}") {
      if (inVersions(field.nullableVersions, version)) {
        // A nullable struct (ConsumerGroupHeartbeat's assignment) is prefixed by an int8 as Kafka
        // writes it: -1 for null, 1 for present.
        const what = field.name;
        return {
          decode: (r) => (r.int8(`${what} presence`) < 0 ? null : struct.decode(r)),
          encode: (out, v) => {
            if (v === null || v === undefined) {
              out.w.int8(-1);
              return;
            }
            out.w.int8(1);
            struct.encode(out, v);
          },
        };
      }
      return {
        decode: struct.decode,
        encode: (out, v) => struct.encode(out, v ?? {}),
      };
    }
    return arrayCodec(struct, field, version, flexible);
  }
  if (field.type.startsWith("[]")) {
    const element = scalarCodec(field.type.slice(2) as ScalarType, field, version, flexible);
    return arrayCodec(element, field, version, flexible);
  }
  return scalarCodec(field.type as ScalarType, field, version, flexible);
}

function defaultFactory(field: FieldSpec, version: number, flexible: boolean): () => unknown {
  if (field.type === "{}" && field.fields) {
    if (field.default === null) return () => null;
    const struct = structCodec(field.fields, version, flexible);
    return () => struct.defaults();
  }
  const zero = zeroOf(field);
  return Array.isArray(zero) ? () => [] : () => zero;
}

interface StructCodec {
  decode: Decode;
  encode: Encode;
  defaults: () => Record<string, unknown>;
}

function structCodec(fields: readonly FieldSpec[], version: number, flexible: boolean): StructCodec {
  const present: CompiledField[] = [];
  const tagged: CompiledField[] = [];
  const absent: { name: string; defaultValue: () => unknown }[] = [];
  for (const field of fields) {
    const defaultValue = defaultFactory(field, version, flexible);
    const inVersion = inVersions(field.versions, version);
    const isTagged = flexible && inVersions(field.taggedVersions, version);
    if (!inVersion && !isTagged) {
      absent.push({ name: field.name, defaultValue });
      continue;
    }
    const codec = fieldCodec(field, version, flexible);
    const compiled = { name: field.name, ...codec, defaultValue, tag: isTagged ? field.tag : undefined };
    if (isTagged) {
      if (field.tag === undefined) throw new Error(`${field.name}: a tagged field needs a tag`);
      tagged.push(compiled);
    } else present.push(compiled);
  }
  tagged.sort((a, b) => (a.tag as number) - (b.tag as number));
  const byTag = new Map(tagged.map((f) => [f.tag as number, f]));

  const defaults = (): Record<string, unknown> => {
    const value: Record<string, unknown> = {};
    for (const f of absent) value[f.name] = f.defaultValue();
    for (const f of present) value[f.name] = f.defaultValue();
    for (const f of tagged) value[f.name] = f.defaultValue();
    return value;
  };

  const decode: Decode = (r) => {
    const value: Record<string, unknown> = {};
    for (const f of absent) value[f.name] = f.defaultValue();
    for (const f of present) value[f.name] = f.decode(r);
    if (flexible) {
      for (const f of tagged) value[f.name] = f.defaultValue();
      const count = unsignedVarint(r, "tagged field count");
      let last = -1;
      for (let i = 0; i < count; i++) {
        const tag = unsignedVarint(r, "tag");
        if (tag <= last) throw corrupt(`tagged fields out of order: ${tag} after ${last}`);
        last = tag;
        const size = unsignedVarint(r, "tagged field size");
        r.need(size, "tagged field");
        const end = r.position + size;
        const known = byTag.get(tag);
        if (known) {
          const sub = new ByteReader(r.source, r.position, end);
          value[known.name] = known.decode(sub);
        }
        // Unknown tags are skipped, as Kafka does: a newer client may send fields we do not know.
        r.position = end;
      }
    }
    return value;
  };

  const encode: Encode = (out, v) => {
    const value = (v ?? {}) as Record<string, unknown>;
    for (const f of present) {
      const x = value[f.name];
      f.encode(out, x === undefined ? f.defaultValue() : x);
    }
    if (!flexible) return;
    const toWrite: { tag: number; bytes: Uint8Array[] }[] = [];
    for (const f of tagged) {
      const x = value[f.name];
      if (x === undefined || isDefault(x, f.defaultValue())) continue;
      const sub = new ChunkWriter();
      f.encode(sub, x);
      toWrite.push({ tag: f.tag as number, bytes: sub.finish() });
    }
    out.w.unsignedVarint(toWrite.length);
    for (const t of toWrite) {
      out.w.unsignedVarint(t.tag);
      out.w.unsignedVarint(t.bytes.reduce((n, b) => n + b.length, 0));
      for (const b of t.bytes) out.w.bytes(b);
    }
  };

  return { decode, encode, defaults };
}

function isDefault(value: unknown, defaultValue: unknown): boolean {
  if (value === defaultValue) return true;
  if (Array.isArray(value) && Array.isArray(defaultValue))
    return value.length === 0 && defaultValue.length === 0;
  return false;
}

/** One message at one version. */
export interface VersionCodec<M extends MessageSpec> {
  readonly version: number;
  readonly flexible: boolean;
  decode(r: ByteReader): MessageValue<M>;
  encode(out: ChunkWriter, value: MessageInput<M>): void;
}

/** A message's codecs for every valid version, compiled on first use. */
export class MessageCodec<M extends MessageSpec> {
  readonly low: number;
  readonly high: number;
  private readonly compiled = new Map<number, VersionCodec<M>>();

  constructor(readonly spec: M) {
    const range = parseVersions(spec.validVersions);
    this.low = range.low;
    this.high = range.high;
  }

  supports(version: number): boolean {
    return Number.isInteger(version) && version >= this.low && version <= this.high;
  }

  at(version: number): VersionCodec<M> {
    let codec = this.compiled.get(version);
    if (codec) return codec;
    if (!this.supports(version)) throw new Error(`${this.spec.name} has no version ${version}`);
    const flexible = inVersions(this.spec.flexibleVersions, version);
    const struct = structCodec(this.spec.fields, version, flexible);
    codec = {
      version,
      flexible,
      decode: (r) => struct.decode(r) as MessageValue<M>,
      encode: (out, value) => struct.encode(out, value),
    };
    this.compiled.set(version, codec);
    return codec;
  }

  /** Decodes a whole buffer; trailing bytes are corruption. */
  decode(version: number, bytes: Uint8Array): MessageValue<M> {
    const r = new ByteReader(bytes);
    const value = this.at(version).decode(r);
    if (r.remaining !== 0) throw corrupt(`${r.remaining} unexpected bytes after ${this.spec.name}`);
    return value;
  }

  /** Encodes to one buffer (tests and small messages; the listener writes chunks). */
  encode(version: number, value: MessageInput<M>): Uint8Array {
    const out = new ChunkWriter();
    this.at(version).encode(out, value);
    return Buffer.concat(out.finish());
  }
}

export function codecOf<M extends MessageSpec>(spec: M): MessageCodec<M> {
  return new MessageCodec(spec);
}
