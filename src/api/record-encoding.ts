import { FloeError } from "../errors.js";
import type { RecordHeader } from "../log/record-batch.js";

/**
 * How keys, values and header values travel in JSON (architecture §8): `json` (values are JSON, stored as
 * their UTF-8 text; keys and headers are UTF-8 strings), `string` (UTF-8 text) or `base64`
 * (arbitrary bytes). A null value is a tombstone in every encoding, never the text "null".
 */
export const ENCODINGS = ["json", "string", "base64"] as const;
export type Encoding = (typeof ENCODINGS)[number];

const utf8Encoder = new TextEncoder();
// fatal: bytes that are not UTF-8 must not silently turn into U+FFFD; ignoreBOM: a leading BOM is
// data the producer wrote and comes back unchanged.
const utf8Decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

function textToBytes(text: string, encoding: Encoding): Uint8Array {
  return encoding === "base64" ? new Uint8Array(Buffer.from(text, "base64")) : utf8Encoder.encode(text);
}

export function encodeKey(key: string | null | undefined, encoding: Encoding): Uint8Array | null {
  return key === undefined || key === null ? null : textToBytes(key, encoding);
}

/**
 * A produced record's `value` as the request body wrote it (json-body puts one in place of each
 * records[i].value): its exact UTF-8 bytes, already checked by the JSON scanner, and its parse,
 * which the string and base64 encodings validate as text.
 */
export class SourceJson {
  constructor(
    readonly bytes: Uint8Array,
    readonly parsed: unknown,
  ) {}
}

/** The parse behind a SourceJson, for the schemas that want the value itself (string, base64). */
export function parsedValue(value: unknown): unknown {
  return value instanceof SourceJson ? value.parsed : value;
}

/**
 * Under `json` a value is stored as the JSON text it was sent as, byte for byte (architecture §8):
 * numbers are never rounded and no nesting can overflow a stringify. The text `null` is a tombstone.
 */
export function encodeValue(value: unknown, encoding: Encoding): Uint8Array | null {
  if (value instanceof SourceJson) {
    if (value.parsed === null) return null;
    return encoding === "json" ? value.bytes : textToBytes(value.parsed as string, encoding);
  }
  if (value === null) return null;
  if (encoding !== "json") return textToBytes(value as string, encoding);
  // A value that did not come through an HTTP body (no source text): its canonical JSON.
  let text: string;
  try {
    text = JSON.stringify(value);
  } catch {
    throw new FloeError("INVALID_RECORD", "The value cannot be written as JSON (nested too deep or cyclic).");
  }
  return utf8Encoder.encode(text);
}

export function encodeHeaders(
  headers: Record<string, string | null> | null | undefined,
  encoding: Encoding,
): RecordHeader[] {
  if (!headers) return [];
  return Object.entries(headers).map(([key, value]) => ({
    key,
    value: value === null ? null : textToBytes(value, encoding),
  }));
}

/** Thrown while answering a fetch: the stored bytes cannot be shown in the encoding asked for. */
function notRepresentable(what: string, offset: number, encoding: Encoding, why: string): FloeError {
  return new FloeError(
    "UNSUPPORTED_ENCODING",
    `The ${what} of the record at offset ${offset} is ${why}, so it cannot be returned with encoding=${encoding}; fetch with encoding=base64 (or string) to read it.`,
  );
}

function bytesToText(bytes: Uint8Array, encoding: Encoding, what: string, offset: number): string {
  if (encoding === "base64")
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
  try {
    return utf8Decoder.decode(bytes);
  } catch {
    throw notRepresentable(what, offset, encoding, "not valid UTF-8");
  }
}

export function decodeKey(key: Uint8Array | null, encoding: Encoding, offset: number): string | null {
  return key === null ? null : bytesToText(key, encoding, "key", offset);
}

export function decodeValue(value: Uint8Array | null, encoding: Encoding, offset: number): unknown {
  if (value === null) return null;
  const text = bytesToText(value, encoding, "value", offset);
  if (encoding !== "json") return text;
  try {
    return JSON.parse(text);
  } catch {
    throw notRepresentable("value", offset, encoding, "not JSON");
  }
}

export function decodeHeaders(
  headers: readonly RecordHeader[],
  encoding: Encoding,
  offset: number,
): Record<string, string | null> {
  // Kafka allows a header name twice; the JSON object form keeps the last, as most Kafka clients'
  // lastHeader() does.
  const out: Record<string, string | null> = Object.create(null);
  for (const h of headers) {
    out[h.key] = h.value === null ? null : bytesToText(h.value, encoding, `header '${h.key}'`, offset);
  }
  return out;
}
