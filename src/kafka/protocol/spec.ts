/**
 * The declarative description of Kafka's messages (the shape of Kafka's own JSON message specs):
 * each request and response is a list of fields, each present in a range of versions, some
 * nullable or tagged in some versions. Encoders and decoders are derived from these descriptions
 * (codec.ts); no message is ever encoded by hand.
 *
 * Field names are the camelCase keys of the values handlers read and write. Types:
 * `bool int8 int16 uint16 int32 int64 float64 string bytes records uuid`, `[]T` for arrays of a
 * scalar T, and a struct (or `[]` of one) when `fields` is given, e.g. `{ type: "[]", fields }`.
 */

export type ScalarType =
  | "bool"
  | "int8"
  | "int16"
  | "uint16"
  | "int32"
  | "int64"
  | "float64"
  | "string"
  | "bytes"
  | "records"
  | "uuid";

export interface FieldSpec {
  readonly name: string;
  /** A scalar, `[]scalar`, `[]` with `fields` (array of structs) or `{}` with `fields` (one struct). */
  readonly type: ScalarType | `[]${ScalarType}` | "[]" | "{}";
  /** "0+", "3-5" or "none" (a field only ever tagged in flexible versions still names its versions). */
  readonly versions: string;
  readonly nullableVersions?: string;
  /** Written in the tagged-field section of flexible versions, under `tag`. */
  readonly taggedVersions?: string;
  readonly tag?: number;
  /** Overrides the message's flexible versions for this field (the request header's clientId is never compact). */
  readonly flexibleVersions?: string;
  /** The value when absent from a version or from the value being encoded; else the type's zero. */
  readonly default?: unknown;
  readonly fields?: readonly FieldSpec[];
}

export interface MessageSpec {
  readonly apiKey: number;
  readonly name: string;
  readonly type: "request" | "response" | "header" | "data";
  readonly validVersions: string;
  /** Versions using compact strings and arrays and tagged fields ("none" for none). */
  readonly flexibleVersions: string;
  readonly fields: readonly FieldSpec[];
}

/** A parsed version range; `none` is empty. */
export interface VersionRange {
  readonly low: number;
  readonly high: number;
}

const RANGE_RE = /^(\d+)(\+|-(\d+))?$/;

export function parseVersions(text: string): VersionRange {
  if (text === "none") return { low: 1, high: 0 };
  const m = RANGE_RE.exec(text);
  if (!m) throw new Error(`bad version range '${text}'`);
  const low = Number(m[1]);
  const high = m[2] === "+" ? Number.MAX_SAFE_INTEGER : m[3] === undefined ? low : Number(m[3]);
  return { low, high };
}

export function inVersions(text: string | undefined, version: number): boolean {
  if (text === undefined) return false;
  const r = parseVersions(text);
  return version >= r.low && version <= r.high;
}

// ---- Values derived from a description, for handlers' type checking ----

type ScalarValue<T> = T extends "bool"
  ? boolean
  : T extends "string" | "uuid"
    ? string
    : T extends "bytes" | "records"
      ? Uint8Array
      : number;

type Nullable<F> = F extends { readonly nullableVersions: string } ? null : never;

type FieldValue<F extends FieldSpec> = F extends { readonly type: "[]"; readonly fields: infer Fs }
  ? Fs extends readonly FieldSpec[]
    ? StructValue<Fs>[]
    : never
  : F extends { readonly type: "{}"; readonly fields: infer Fs }
    ? Fs extends readonly FieldSpec[]
      ? StructValue<Fs>
      : never
    : F["type"] extends `[]${infer E}`
      ? ScalarValue<E>[]
      : ScalarValue<F["type"]>;

/** A decoded struct: every field present (absent-in-this-version fields hold their default). */
export type StructValue<Fs extends readonly FieldSpec[]> = {
  -readonly [F in Fs[number] as F["name"]]: FieldValue<F> | Nullable<F>;
};

type FieldInput<F extends FieldSpec> = F extends { readonly type: "[]"; readonly fields: infer Fs }
  ? Fs extends readonly FieldSpec[]
    ? StructInput<Fs>[]
    : never
  : F extends { readonly type: "{}"; readonly fields: infer Fs }
    ? Fs extends readonly FieldSpec[]
      ? StructInput<Fs>
      : never
    : F["type"] extends `[]${infer E}`
      ? ScalarValue<E>[]
      : ScalarValue<F["type"]>;

/** A struct to encode: any field may be left out and gets its default. */
export type StructInput<Fs extends readonly FieldSpec[]> = {
  -readonly [F in Fs[number] as F["name"]]?: FieldInput<F> | Nullable<F>;
};

export type MessageValue<M extends MessageSpec> = StructValue<M["fields"]>;
export type MessageInput<M extends MessageSpec> = StructInput<M["fields"]>;
