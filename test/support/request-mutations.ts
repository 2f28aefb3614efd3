/**
 * What a hostile or broken client does to a well-formed request: wrong types, out-of-range and
 * unrepresentable numbers, odd strings (`.`, `..`, `__proto__`, lone surrogates, 100,000
 * characters), prototype-named keys, missing and extra fields, nesting 100,000 deep, 20,000 items,
 * invalid UTF-8, odd path segments and query values, other methods and content types, malformed,
 * truncated, bit-flipped, empty and oversized bodies. Each mutation is data (a kind and two
 * numbers that choose where and what), so fast-check can generate, replay and shrink it.
 */
import fc from "fast-check";
import { MAX_BODY_BYTES } from "../../src/api/schemas.js";
import type { Draft, Operation } from "./api-request-arbitrary.js";
import {
  BadBytesString,
  cloneValue,
  deeplyNested,
  hostileJsonBytes,
  RawJson,
  setOwn,
} from "./hostile-json.js";
import type { RawRequest } from "./raw-http.js";

const BODY_KINDS = [
  "wrong-type",
  "out-of-range",
  "odd-string",
  "odd-key",
  "missing-field",
  "extra-field",
  "deep",
  "wide",
  "invalid-utf8",
  "malformed-json",
] as const;
const REQUEST_KINDS = [
  "path-param",
  "path-shape",
  "method",
  "content-type",
  "accept",
  "chunked",
  "empty-body",
  "oversized",
] as const;
const QUERY_KINDS = ["query-value", "query-extra", "query-missing"] as const;
const BYTES_KINDS = ["truncate", "flip-bytes"] as const;

export type MutationKind =
  | (typeof BODY_KINDS)[number]
  | (typeof REQUEST_KINDS)[number]
  | (typeof QUERY_KINDS)[number]
  | (typeof BYTES_KINDS)[number];

export interface Mutation {
  kind: MutationKind;
  /** Chooses where: a node of the body, a parameter, a byte. */
  at: number;
  /** Chooses what: an entry of the kind's list of values. */
  pick: number;
}

/** Mutations that cost the server (and the tier) most: megabytes, 100,000 levels, 20,000 items. */
const COSTLY_KINDS = new Set<MutationKind>(["oversized", "deep", "wide"]);

/** The mutations that apply to an operation (body mutations only where there is a JSON body, and so on). */
export function mutationFor(operation: Operation): fc.Arbitrary<Mutation> {
  const kinds: MutationKind[] = [...REQUEST_KINDS, ...QUERY_KINDS];
  if (operation.jsonBody) kinds.push(...BODY_KINDS, ...BYTES_KINDS, ...BODY_KINDS);
  if (operation.binaryMediaType) kinds.push(...BYTES_KINDS, ...BYTES_KINDS);
  if (operation.pathParams.length > 0) kinds.push("path-param", "path-param");
  if (operation.queryParams.length > 0) kinds.push(...QUERY_KINDS);
  const cheap = kinds.filter((k) => !COSTLY_KINDS.has(k));
  const costly = [...new Set(kinds.filter((k) => COSTLY_KINDS.has(k)))];
  return fc.record({
    kind: fc.oneof(
      { weight: 12, arbitrary: fc.constantFrom(...cheap) },
      { weight: 1, arbitrary: fc.constantFrom(...costly) },
    ),
    at: fc.nat({ max: 1_000_000 }),
    pick: fc.nat({ max: 1_000_000 }),
  });
}

const WRONG_TYPES: unknown[] = [0, -1, 1.5, "", "x", "1", true, false, null, [], {}, [1], { a: 1 }];

const OUT_OF_RANGE: unknown[] = [
  -1,
  -2,
  -(2 ** 31) - 1,
  2 ** 31,
  2 ** 32,
  2 ** 53,
  2 ** 53 + 2,
  -(2 ** 53) - 2,
  1e308,
  -1e308,
  0.5,
  -0.0,
  10_001,
  new RawJson("1e400"),
  new RawJson("-1e400"),
  new RawJson("123456789012345678901234567890"),
  new RawJson("1E2"),
  new RawJson("1.0"),
  new RawJson("-0"),
  new RawJson("0.1e-400"),
];

export const ODD_STRINGS: string[] = [
  "",
  ".",
  "..",
  "...",
  "__proto__",
  "hasOwnProperty",
  "constructor",
  "prototype",
  "toString",
  "valueOf",
  "__lookupGetter__",
  "\u0000",
  "\ud800",
  "\udfff",
  "a\ud800b",
  "\udc00\ud800",
  "💥",
  "\u202e",
  "\ufeff",
  "../../etc/passwd",
  "%2e%2e",
  "a/b",
  " ",
  "\n",
  "x".repeat(250),
  "x".repeat(100_000),
  "é",
  "null",
  "0",
  "-1",
  "1e400",
  "(a+)+$",
  "[",
  "\\",
  // JSON text nested 10,000 deep: a string to a string-encoded produce, then JSON to every fetch.
  `${"[".repeat(10_000)}${"]".repeat(10_000)}`,
  '{"a":1e400,"b":123456789012345678901234567890}',
];

const ODD_KEYS = [
  "__proto__",
  "constructor",
  "prototype",
  "hasOwnProperty",
  "valueOf",
  "toString",
  "__lookupGetter__",
  "__defineSetter__",
  "isPrototypeOf",
  "propertyIsEnumerable",
  ".",
  "..",
  "",
  " ",
  "x".repeat(1000),
  "\ud800",
];

const BAD_BYTES: number[][] = [
  [0xff],
  [0x80],
  [0xc3, 0x28],
  [0xc0, 0xaf],
  [0xed, 0xa0, 0x80], // a lone high surrogate, as CESU-8 writes it
  [0xed, 0xbf, 0xbf],
  [0xf8, 0x88, 0x80, 0x80, 0x80],
  [0xf4, 0x90, 0x80, 0x80],
  [0xe2, 0x82],
];

const PATH_SEGMENTS = [
  ".",
  "..",
  "%2E",
  "%2e%2E",
  ".%2e",
  "%2F",
  "a%2Fb",
  "%00",
  "%FF",
  "%",
  "%zz",
  "%ED%A0%80",
  "%C3%A9",
  "__proto__",
  "hasOwnProperty",
  "constructor",
  "x".repeat(250),
  "x".repeat(5000),
  "-1",
  "1.5",
  "99999999999999999999",
  "0x10",
  "%20",
  "1e3",
  "%2B1",
  "",
];

const QUERY_VALUES = [
  "",
  "-1",
  "1.5",
  "abc",
  "1e3",
  "0x1f",
  "99999999999999999999",
  "9007199254740993",
  "2147483648",
  "%FF",
  "%",
  "%00",
  "true",
  "earliest",
  "latest",
  "-0",
  "+1",
  " 1",
  "x".repeat(5000),
  "__proto__",
];

const QUERY_NAMES = ["fuzz", "__proto__", "constructor", "hasOwnProperty", "toString"];

const METHODS = ["GET", "POST", "PATCH", "DELETE", "PUT", "OPTIONS", "HEAD"];

const CONTENT_TYPES: (string | undefined)[] = [
  undefined,
  "text/plain",
  "application/xml",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=x",
  "application/octet-stream",
  "application/json; charset=utf-16",
  "application/json; charset=latin1",
  "APPLICATION/JSON",
  "application/jsonx",
  "application/merge-patch+json",
  "application/vnd.kafka.record-batch.v2",
  "application/vnd.floe.partition-batches.v1",
  "",
  "json",
];

const ACCEPTS = [
  "application/vnd.kafka.record-batch.v2",
  "application/vnd.kafka.record-batch.v2;q=0",
  "application/vnd.kafka.record-batch.v2, application/json;q=0.5",
  "text/html",
  "*/*",
  "",
  "application/json;q=0",
];

const MALFORMED_JSON = [
  "",
  " ",
  "null",
  "[]",
  "0",
  '"x"',
  "NaN",
  "{",
  "}",
  "{'a':1}",
  '{"records":',
  "\ufeff{}",
  "[1,]",
];

// ---- The body as a tree of slots ----

interface Slot {
  get(): unknown;
  set(value: unknown): void;
}

function slotsOf(draft: Draft): Slot[] {
  if (draft.body.kind !== "json") return [];
  const body = draft.body;
  const slots: Slot[] = [{ get: () => body.value, set: (v) => (body.value = v) }];
  const visit = (value: unknown) => {
    if (Array.isArray(value)) {
      value.forEach((v, i) => {
        slots.push({ get: () => value[i], set: (x) => (value[i] = x) });
        visit(v);
      });
    } else if (isPlainObject(value)) {
      // Markers (RawJson, BadBytesString) are leaves: what they write is already decided.
      const object = value;
      for (const key of Object.keys(object)) {
        slots.push({ get: () => object[key], set: (x) => setOwn(object, key, x) });
        visit(object[key]);
      }
    }
  };
  visit(body.value);
  return slots;
}

function jsonType(v: unknown): string {
  return v === null ? "null" : Array.isArray(v) ? "array" : typeof v;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return (
    v !== null && typeof v === "object" && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype
  );
}

/** A slot whose value passes the test when there is one, else any slot. */
function choose(slots: Slot[], at: number, prefer: (v: unknown) => boolean): Slot | undefined {
  const preferred = slots.filter((s) => prefer(s.get()));
  const from = preferred.length > 0 ? preferred : slots;
  return from.length === 0 ? undefined : from[at % from.length];
}

function pickFrom<T>(list: readonly T[], pick: number): T {
  return list[pick % list.length];
}

/** Applies tree-level mutations to a copy of the draft; returns what each did, for the failure message. */
export function mutateDraft(
  original: Draft,
  mutations: readonly Mutation[],
): { draft: Draft; notes: string[] } {
  const draft: Draft = {
    ...original,
    segments: [...original.segments],
    query: [...original.query],
    headers: { ...original.headers },
    body:
      original.body.kind === "json"
        ? { kind: "json", value: cloneValue(original.body.value) }
        : original.body,
  };
  const notes: string[] = [];
  for (const m of mutations) {
    const note = applyToDraft(draft, m);
    if (note) notes.push(note);
  }
  return { draft, notes };
}

function applyToDraft(draft: Draft, { kind, at, pick }: Mutation): string | undefined {
  const slots = slotsOf(draft);
  switch (kind) {
    case "wrong-type": {
      const slot = choose(slots, at, () => true);
      if (!slot) return undefined;
      const current = jsonType(slot.get());
      const value = pickFrom(
        WRONG_TYPES.filter((v) => jsonType(v) !== current),
        pick,
      );
      slot.set(cloneValue(value));
      return `wrong-type ${JSON.stringify(value)}`;
    }
    case "out-of-range": {
      const slot = choose(slots, at, (v) => typeof v === "number");
      if (!slot) return undefined;
      const value = pickFrom(OUT_OF_RANGE, pick);
      slot.set(value);
      return `out-of-range ${value instanceof RawJson ? value.text : String(value)}`;
    }
    case "odd-string": {
      const slot = choose(slots, at, (v) => typeof v === "string");
      if (!slot) return undefined;
      const value = pickFrom(ODD_STRINGS, pick);
      slot.set(value);
      return `odd-string ${describeString(value)}`;
    }
    case "odd-key": {
      const slot = choose(slots, at, isPlainObject);
      const target = slot?.get();
      if (!isPlainObject(target)) return undefined;
      const key = pickFrom(ODD_KEYS, pick);
      const existing = Object.keys(target);
      // A value like its siblings', so a config map gets a config-like value under the odd key.
      const value = existing.length > 0 ? cloneValue(target[existing[0]]) : "1";
      setOwn(target, key, value);
      return `odd-key ${describeString(key)}`;
    }
    case "missing-field": {
      const slot = choose(slots, at, (v) => isPlainObject(v) && Object.keys(v).length > 0);
      const target = slot?.get();
      if (!isPlainObject(target) || Object.keys(target).length === 0) return undefined;
      const key = pickFrom(Object.keys(target), pick);
      delete target[key];
      return `missing-field ${key}`;
    }
    case "extra-field": {
      const slot = choose(slots, at, isPlainObject);
      const target = slot?.get();
      if (!isPlainObject(target)) return undefined;
      setOwn(target, `fuzzExtra${pick % 3}`, pickFrom(WRONG_TYPES, pick));
      return "extra-field";
    }
    case "deep": {
      const slot = choose(slots, at, () => true);
      if (!slot) return undefined;
      const depth = pickFrom([1_000, 10_000, 100_000], pick);
      const shape = pick % 2 === 0 ? "array" : "object";
      slot.set(deeplyNested(depth, shape));
      return `deep ${depth} ${shape}s`;
    }
    case "wide": {
      const slot = choose(slots, at, (v) => Array.isArray(v) || isPlainObject(v));
      const target = slot?.get();
      if (!slot || !(Array.isArray(target) || isPlainObject(target))) return undefined;
      const count = pickFrom([1_000, 20_000], pick);
      if (Array.isArray(target)) {
        const item = target.length > 0 ? target[0] : 1;
        slot.set(Array.from({ length: count }, () => cloneValue(item)));
      } else {
        const wide: Record<string, unknown> = {};
        for (let i = 0; i < count; i++) wide[`k${i}`] = "v";
        slot.set(wide);
      }
      return `wide ${count}`;
    }
    case "invalid-utf8": {
      const slot = choose(slots, at, (v) => typeof v === "string");
      if (!slot) return undefined;
      const bytes = pickFrom(BAD_BYTES, pick);
      const current = slot.get();
      const text = typeof current === "string" ? current : "";
      const cut = text.length === 0 ? 0 : at % (text.length + 1);
      slot.set(new BadBytesString(text.slice(0, cut), bytes, text.slice(cut)));
      return `invalid-utf8 ${bytes.map((b) => b.toString(16)).join(" ")}`;
    }
    case "path-param": {
      const params = draft.segments
        .map((_, i) => i)
        .filter((i) => draft.operation.template.split("/")[i + 1]?.startsWith("{"));
      if (params.length === 0) return undefined;
      const index = params[at % params.length];
      const segment = pickFrom(PATH_SEGMENTS, pick);
      draft.segments[index] = segment;
      return `path-param ${describeString(segment)}`;
    }
    case "path-shape": {
      const shapes = [
        "trailing-slash",
        "double-slash",
        "extra-segment",
        "drop-segment",
        "upper-case",
        "dot-segment",
      ];
      const shape = pickFrom(shapes, pick);
      const i = at % Math.max(1, draft.segments.length);
      if (shape === "trailing-slash") draft.segments.push("");
      else if (shape === "double-slash") draft.segments.splice(i, 0, "");
      else if (shape === "extra-segment") draft.segments.push("extra");
      else if (shape === "drop-segment") draft.segments.pop();
      else if (shape === "upper-case") draft.segments[i] = draft.segments[i].toUpperCase();
      else draft.segments.splice(i, 0, pick % 4 === 1 ? ".." : ".");
      return `path-shape ${shape}`;
    }
    case "method": {
      const method = pickFrom(
        METHODS.filter((m) => m !== draft.method),
        pick,
      );
      draft.method = method;
      return `method ${method}`;
    }
    case "query-value": {
      if (draft.query.length === 0) return applyToDraft(draft, { kind: "query-extra", at, pick });
      const i = at % draft.query.length;
      const name = draft.query[i].split("=")[0];
      const value = pickFrom(QUERY_VALUES, pick);
      draft.query[i] = `${name}=${onTheWire(value)}`;
      return `query-value ${name}=${describeString(value)}`;
    }
    case "query-extra": {
      const names = [...draft.operation.queryParams.map((p) => p.name), ...QUERY_NAMES];
      const name = names[at % names.length];
      const value = pickFrom(QUERY_VALUES, pick);
      draft.query.push(`${name}=${onTheWire(value)}`);
      return `query-extra ${name}=${describeString(value)}`;
    }
    case "query-missing": {
      if (draft.query.length === 0) return undefined;
      const [removed] = draft.query.splice(at % draft.query.length, 1);
      return `query-missing ${removed.split("=")[0]}`;
    }
    default:
      // The rest apply to the written request.
      return undefined;
  }
}

/** A value as HTTP can carry it in a request line: spaces and controls escaped, `%` left as written. */
function onTheWire(value: string): string {
  return value.replace(/[^\x21-\x7e]/g, (c) => encodeURIComponent(c));
}

function describeString(s: string): string {
  if (s.length > 40) return `${JSON.stringify(s.slice(0, 10))}…(${s.length} chars)`;
  return JSON.stringify(s);
}

/** The draft written out as HTTP: path, query, headers and body bytes. */
export function writeDraft(draft: Draft): RawRequest {
  const query = draft.query.length > 0 ? `?${draft.query.join("&")}` : "";
  const body =
    draft.body.kind === "json"
      ? hostileJsonBytes(draft.body.value)
      : draft.body.kind === "bytes"
        ? draft.body.bytes
        : undefined;
  return {
    method: draft.method,
    path: `/${draft.segments.join("/")}${query}`,
    headers: { ...draft.headers },
    body,
  };
}

/** The largest binary body the record-batch routes take (they refuse more themselves, under the 6 MiB limit). */
const MAX_RECORD_BATCH_BODY_BYTES = 4 * 1024 * 1024;

/** Applies the request-level mutations to the written request. */
export function mutateRequest(
  request: RawRequest,
  draft: Draft,
  mutations: readonly Mutation[],
): { request: RawRequest; notes: string[] } {
  let out: RawRequest = { ...request, headers: { ...request.headers } };
  const notes: string[] = [];
  for (const { kind, at, pick } of mutations) {
    const body = out.body;
    switch (kind) {
      case "content-type": {
        const type = pickFrom(CONTENT_TYPES, pick);
        if (type === undefined) delete out.headers["content-type"];
        else out.headers["content-type"] = type;
        notes.push(`content-type ${type === undefined ? "none" : JSON.stringify(type)}`);
        break;
      }
      case "accept": {
        const accept = pickFrom(ACCEPTS, pick);
        out.headers.accept = accept;
        notes.push(`accept ${JSON.stringify(accept)}`);
        break;
      }
      case "chunked":
        // No Content-Length: the body arrives in chunks of unknown total, as a streaming client sends it.
        out.headers["transfer-encoding"] = "chunked";
        notes.push("chunked");
        break;
      case "empty-body":
        out = { ...out, body: pick % 2 === 0 ? undefined : new Uint8Array(0) };
        notes.push("empty-body");
        break;
      case "oversized": {
        const binary = draft.operation.binaryMediaType !== undefined && pick % 2 === 0;
        const limit = binary ? MAX_RECORD_BATCH_BODY_BYTES : MAX_BODY_BYTES;
        const size = limit + 1 + (at % 65_536);
        const bytes = Buffer.alloc(size, 0x61);
        // A JSON body that would parse, were it not too large: the limit must refuse it unread.
        if (!binary) {
          const head = Buffer.from('{"records":[{"value":"');
          const tail = Buffer.from('"}]}');
          head.copy(bytes, 0);
          tail.copy(bytes, size - tail.length);
        }
        out = { ...out, body: bytes };
        notes.push(`oversized ${size} bytes`);
        break;
      }
      case "malformed-json": {
        const text = pickFrom(MALFORMED_JSON, pick);
        const cut =
          body && body.length > 0 && pick % 3 === 0
            ? Buffer.from(body.subarray(0, at % body.length))
            : undefined;
        out = { ...out, body: cut ?? Buffer.from(text, "utf8") };
        notes.push(cut ? `malformed-json cut at ${cut.length}` : `malformed-json ${JSON.stringify(text)}`);
        break;
      }
      case "truncate": {
        if (!body || body.length === 0) break;
        const length = at % body.length;
        out = { ...out, body: Buffer.from(body.subarray(0, length)) };
        notes.push(`truncate to ${length}`);
        break;
      }
      case "flip-bytes": {
        if (!body || body.length === 0) break;
        const copy = Buffer.from(body);
        const i = at % copy.length;
        copy[i] ^= 1 + (pick % 255);
        out = { ...out, body: copy };
        notes.push(`flip byte ${i}`);
        break;
      }
      default:
        break;
    }
  }
  return { request: out, notes };
}
