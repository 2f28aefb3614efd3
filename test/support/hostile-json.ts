/**
 * JSON text no JSON.stringify writes: numbers as written (`1e400`, 30-digit integers), strings with
 * invalid UTF-8 bytes inside them, nesting 100,000 deep, and objects with own `__proto__` keys. A
 * value tree holds RawJson and BadBytesString where those go; hostileJsonBytes writes it out.
 */

/** JSON text written as is, in place of a value. */
export class RawJson {
  constructor(readonly text: string) {}
}

/** A string literal with bytes between its two halves that are not UTF-8 (or encode a lone surrogate). */
export class BadBytesString {
  constructor(
    readonly before: string,
    readonly bytes: readonly number[],
    readonly after: string,
  ) {}
}

/** Sets an own, enumerable property even for `__proto__`, which plain assignment would treat as the prototype. */
export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** A deep copy of a generated value (plain JSON with markers), keeping own `__proto__` keys. */
export function cloneValue<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v) => cloneValue(v)) as T;
  if (value !== null && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value))
      setOwn(out, key, cloneValue((value as Record<string, unknown>)[key]));
    return out as T;
  }
  return value;
}

/** `depth` nested arrays (or objects) around a value, as text: too deep for any recursive writer. */
export function deeplyNested(depth: number, kind: "array" | "object"): RawJson {
  const open = kind === "array" ? "[" : '{"a":';
  const close = kind === "array" ? "]" : "}";
  return new RawJson(`${open.repeat(depth)}1${close.repeat(depth)}`);
}

function write(value: unknown, out: (Buffer | string)[]): void {
  if (value instanceof RawJson) {
    out.push(value.text);
  } else if (value instanceof BadBytesString) {
    out.push(
      JSON.stringify(value.before).slice(0, -1),
      Buffer.from(value.bytes),
      JSON.stringify(value.after).slice(1),
    );
  } else if (Array.isArray(value)) {
    out.push("[");
    value.forEach((v, i) => {
      if (i > 0) out.push(",");
      write(v, out);
    });
    out.push("]");
  } else if (value !== null && typeof value === "object") {
    out.push("{");
    Object.keys(value).forEach((key, i) => {
      if (i > 0) out.push(",");
      out.push(JSON.stringify(key), ":");
      write((value as Record<string, unknown>)[key], out);
    });
    out.push("}");
  } else if (value === undefined) {
    out.push("null");
  } else {
    out.push(JSON.stringify(value));
  }
}

/** The value as JSON bytes, markers written as they say. */
export function hostileJsonBytes(value: unknown): Buffer {
  const parts: (Buffer | string)[] = [];
  write(value, parts);
  return Buffer.concat(parts.map((p) => (typeof p === "string" ? Buffer.from(p, "utf8") : p)));
}
