import { FloeClientError } from "./client-error.js";

/** What a caller may pass as a key, value or header value: text is sent as its UTF-8 bytes. */
export type BytesLike = string | Uint8Array;

export function toBytes(value: BytesLike): Buffer {
  if (typeof value === "string") return Buffer.from(value, "utf8");
  return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}

/** Base64 on the wire (`encoding=base64`) because it is the one JSON encoding that carries any bytes unchanged. */
export function toWire(value: BytesLike | null, what: string): string | null {
  if (value === null) return null;
  if (typeof value !== "string" && !(value instanceof Uint8Array)) {
    throw new FloeClientError(
      "INVALID_RECORD",
      `${what} must be a string, Buffer, Uint8Array or null, got ${describe(value)}`,
    );
  }
  return toBytes(value).toString("base64");
}

export function fromWire(value: unknown): Buffer | null {
  if (value === null || value === undefined) return null;
  if (typeof value !== "string") {
    throw new FloeClientError(
      "UNKNOWN_SERVER_ERROR",
      `expected base64 bytes from the server, got ${describe(value)}`,
    );
  }
  return Buffer.from(value, "base64");
}

function describe(value: unknown): string {
  if (value === undefined) return "undefined";
  if (Array.isArray(value)) return "an array";
  return typeof value;
}
