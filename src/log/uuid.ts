/** UUIDs (topic ids) as the 16 raw bytes a segment footer stores, and back. */

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const HEX: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

export function isUuid(value: unknown): value is string {
  return typeof value === "string" && UUID_RE.test(value);
}

/** Writes the canonical text form `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` into `out[offset..+16)`. */
export function writeUuid(uuid: string, out: Uint8Array, offset: number): void {
  if (!isUuid(uuid)) throw new TypeError(`not a UUID: ${uuid}`);
  const hex = uuid.replaceAll("-", "");
  for (let i = 0; i < 16; i++) out[offset + i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
}

/** The lowercase canonical text form of `bytes[offset..+16)`. */
export function readUuid(bytes: Uint8Array, offset: number): string {
  let s = "";
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) s += "-";
    s += HEX[bytes[offset + i]];
  }
  return s;
}
