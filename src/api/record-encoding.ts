import { isUtf8 } from "node:buffer";
import type { FetchedRecord } from "../broker/types.js";
import { FloeError } from "../errors.js";
import type { RecordHeader } from "../log/record-batch.js";
import { isJsonText } from "./json-text.js";

/**
 * How keys, values and header values travel in JSON (architecture §8): `json` (values are JSON, stored as
 * their UTF-8 text; keys and headers are UTF-8 strings), `string` (UTF-8 text) or `base64`
 * (arbitrary bytes). A null value is a tombstone in every encoding, never the text "null".
 */
export const ENCODINGS = ["json", "string", "base64"] as const;
export type Encoding = (typeof ENCODINGS)[number];

const utf8Encoder = new TextEncoder();

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

/** Base64 of bytes, without copying them. */
function base64(bytes: Uint8Array): string {
  return view(bytes).toString("base64");
}

/** Bytes as a Buffer view, without copying them. */
function view(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * UTF-8 bytes beyond one per UTF-16 unit in the record being rendered: its byte length is its text's
 * length plus this, counted from the bytes each field came from instead of measuring the text again.
 */
let extraBytes = 0;

/** The UTF-8 text of bytes, or undefined when they are not UTF-8 (never a lossy U+FFFD). */
function utf8Text(bytes: Uint8Array): string | undefined {
  // isUtf8 validates natively; the decode that follows then cannot substitute anything.
  if (!isUtf8(bytes)) return undefined;
  const text = view(bytes).toString("utf8");
  // JSON.stringify adds only ASCII escapes, so the text's extra bytes are its JSON string's.
  extraBytes += bytes.byteLength - text.length;
  return text;
}

/**
 * A field's bytes as a JSON string in the encoding asked for, or, when the bytes are not UTF-8
 * (json, string), as base64 with `fallback` set so the caller can tell.
 */
function textField(bytes: Uint8Array, encoding: Encoding): { json: string; fallback: boolean } {
  if (encoding !== "base64") {
    const text = utf8Text(bytes);
    if (text !== undefined) return { json: JSON.stringify(text), fallback: false };
  }
  return { json: `"${base64(bytes)}"`, fallback: encoding !== "base64" };
}

/**
 * A value in a JSON answer. Under `json`, a stored value that is a JSON text Floe accepts (see
 * json-text.ts) is spliced in as it is, byte for byte, never parsed and re-stringified; one that is
 * not (written with encoding=string, by a Kafka client, or nested past MAX_JSON_DEPTH) comes back as
 * a string with `valueEncoding: "string"`, or as base64 with `valueEncoding: "base64"` when it is
 * not UTF-8 either. Under `string`, bytes that are not UTF-8 come back as base64 likewise.
 */
function valueField(bytes: Uint8Array, encoding: Encoding): { json: string; as?: "string" | "base64" } {
  if (encoding === "base64") return { json: `"${base64(bytes)}"` };
  // JSON text Floe accepts is UTF-8 (the scanner checks it), so it is decoded without a second check.
  if (encoding === "json" && isJsonText(bytes)) {
    const json = view(bytes).toString("utf8");
    extraBytes += bytes.byteLength - json.length;
    return { json };
  }
  const text = utf8Text(bytes);
  if (text === undefined) return { json: `"${base64(bytes)}"`, as: "base64" };
  return encoding === "string"
    ? { json: JSON.stringify(text) }
    : { json: JSON.stringify(text), as: "string" };
}

/** The headers as a JSON object in `encoding`, each name once (its last value), `last` naming which. */
function renderHeaders(
  headers: readonly RecordHeader[],
  last: Map<string, number> | undefined,
  encoding: Encoding,
): { json: string; fallback: boolean } {
  let out = "{";
  let fallback = false;
  for (let i = 0; i < headers.length; i++) {
    const h = headers[i];
    if (last && last.get(h.key) !== i) continue;
    let value = "null";
    if (h.value !== null) {
      const field = textField(h.value, encoding);
      fallback ||= field.fallback;
      value = field.json;
    }
    const name = JSON.stringify(h.key);
    extraBytes += Buffer.byteLength(name) - name.length;
    out += `${out.length > 1 ? "," : ""}${name}:${value}`;
  }
  return { json: `${out}}`, fallback };
}

/**
 * For each header name, the index of its last occurrence, which the JSON object keeps; undefined
 * for fewer than two headers, where there is nothing to choose.
 */
function lastIndexByName(headers: readonly RecordHeader[]): Map<string, number> | undefined {
  if (headers.length < 2) return undefined;
  const last = new Map<string, number>();
  for (let i = 0; i < headers.length; i++) last.set(headers[i].key, i);
  return last;
}

/** The headers object; Kafka allows a name twice, and the object keeps the last, as lastHeader() does. */
function headersField(
  headers: readonly RecordHeader[],
  encoding: Encoding,
): { json: string; fallback: boolean } {
  if (headers.length === 0) return { json: "{}", fallback: false };
  const last = lastIndexByName(headers);
  const before = extraBytes;
  const first = renderHeaders(headers, last, encoding);
  if (!first.fallback) return first;
  // One value that is not UTF-8 puts every value in base64, so the object reads one way.
  extraBytes = before;
  return { json: renderHeaders(headers, last, "base64").json, fallback: true };
}

export interface RenderedRecord {
  text: string;
  /** The text's UTF-8 length. */
  bytes: number;
  /** How many characters of the text a JSON string escapes (quotes, backslashes, controls), when known without looking. */
  escapes?: number;
}

/**
 * One fetched record as the JSON text of a FetchedRecord (architecture §8), built directly: values
 * are spliced, not re-serialised, so no stored record can fail or slow the answer by its shape. A
 * field whose bytes the encoding asked for cannot show says so beside it (`keyEncoding`,
 * `valueEncoding`, `headersEncoding`) instead of failing the fetch.
 */
export function renderRecord(record: FetchedRecord, encoding: Encoding): RenderedRecord {
  if (encoding === "base64") return renderBase64Record(record);
  extraBytes = 0;
  const key = record.key === null ? { json: "null", fallback: false } : textField(record.key, encoding);
  const value = record.value === null ? { json: "null" } : valueField(record.value, encoding);
  const headers = headersField(record.headers, encoding);
  let out = `{"offset":${record.offset},"timestamp":${record.timestamp},"key":${key.json},"value":${value.json},"headers":${headers.json}`;
  if (key.fallback) out += ',"keyEncoding":"base64"';
  if (value.as) out += `,"valueEncoding":"${value.as}"`;
  if (headers.fallback) out += ',"headersEncoding":"base64"';
  out += "}";
  return { text: out, bytes: out.length + extraBytes };
}

const NON_ASCII = /[\u0080-\uffff]/;

/**
 * renderRecord for base64, the encoding the TypeScript client reads: nothing can need a fallback,
 * and everything but a header name is ASCII with nothing to escape, so size and escapes are counted
 * from the parts.
 */
function renderBase64Record(record: FetchedRecord): RenderedRecord {
  let extra = 0;
  // The five field names' quotes, and the key's and value's.
  let escapes = 10 + (record.key === null ? 0 : 2) + (record.value === null ? 0 : 2);
  let headers = "{";
  const list = record.headers;
  const last = lastIndexByName(list);
  for (let i = 0; i < list.length; i++) {
    const h = list[i];
    if (last && last.get(h.key) !== i) continue;
    if (NON_ASCII.test(h.key)) extra += Buffer.byteLength(h.key) - h.key.length;
    const name = JSON.stringify(h.key);
    escapes += name.length === h.key.length + 2 ? 2 : escapedIn(name);
    if (h.value !== null) escapes += 2;
    headers += `${headers.length > 1 ? "," : ""}${name}:${h.value === null ? "null" : `"${base64(h.value)}"`}`;
  }
  const key = record.key === null ? "null" : `"${base64(record.key)}"`;
  const value = record.value === null ? "null" : `"${base64(record.value)}"`;
  const text = `{"offset":${record.offset},"timestamp":${record.timestamp},"key":${key},"value":${value},"headers":${headers}}}`;
  return { text, bytes: text.length + extra, escapes };
}

/**
 * Bytes a JSON text grows by when written inside a JSON string, as a Lambda runtime writes a
 * result's body: one per quote, backslash or whitespace control (the only raw controls a JSON text
 * holds), as `\"`, `\\`, `\n`.
 */
export function escapedIn(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 || c === 0x5c || c < 0x20) n++;
  }
  return n;
}
