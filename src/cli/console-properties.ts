import { readFileSync } from "node:fs";
import { UsageError } from "./args.js";
import type { RecordFormat } from "./record-format.js";
import type { OffsetReset } from "../client/consumer-types.js";
import type { ProducerOptions } from "../client/producer.js";
import type { RetryOptions } from "../client/retry.js";

/**
 * Kafka's console tools take their settings as `k=v` properties: `--property` for the line reader
 * (producer) or the message formatter (consumer), `--producer-property` / `--consumer-property` and
 * a `--command-config` file for the client. This module turns those into Floe's settings, pure and
 * without I/O (files aside), so every rule is unit-tested. Settings that mean nothing here are
 * accepted with a one-line note, as Kafka's clients warn about a config they do not know.
 */

/** `k=v` pairs in order, later ones winning; `--name` names the option in errors. */
export function parsePairs(pairs: readonly string[], option: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new UsageError(`--${option} expects key=value, got "${pair}"`);
    out.set(pair.slice(0, eq).trim(), pair.slice(eq + 1));
  }
  return out;
}

/**
 * A Java .properties file, the common subset: `key=value`, `key: value` or `key value` lines,
 * `#` and `!` comments, blank lines, and a trailing backslash continuing a line.
 */
export function parsePropertiesText(text: string): Map<string, string> {
  const out = new Map<string, string>();
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i].replace(/^\s+/, "");
    if (line === "" || line.startsWith("#") || line.startsWith("!")) continue;
    while (/(^|[^\\])(\\\\)*\\$/.test(line) && i + 1 < lines.length) {
      line = line.slice(0, -1) + lines[++i].replace(/^\s+/, "");
    }
    const match = /^((?:\\.|[^=:\s\\])+)\s*[=:\s]\s*(.*)$/.exec(line);
    const key = unescapeProperty(match ? match[1] : line);
    out.set(key, match ? unescapeProperty(match[2]) : "");
  }
  return out;
}

function unescapeProperty(text: string): string {
  return text.replace(/\\(u[0-9a-fA-F]{4}|.)/g, (_, c: string) => {
    if (c.length === 5) return String.fromCharCode(Number.parseInt(c.slice(1), 16));
    return c === "t" ? "\t" : c === "n" ? "\n" : c === "r" ? "\r" : c === "f" ? "\f" : c;
  });
}

export function readPropertiesFile(path: string, option: string): Map<string, string> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new UsageError(`--${option}: cannot read ${path} (${reason})`);
  }
  return parsePropertiesText(text);
}

/** Kafka reads its console tools' boolean properties as `trim().equalsIgnoreCase("true")`. */
export function isTrue(value: string | undefined): boolean {
  return value !== undefined && value.trim().toLowerCase() === "true";
}

function integerSetting(key: string, value: string, min: number): number {
  const n = /^\s*-?\d+\s*$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min) {
    throw new UsageError(`${key} must be an integer >= ${min}, got "${value}"`);
  }
  return n;
}

function booleanSetting(key: string, value: string): boolean {
  const v = value.trim().toLowerCase();
  if (v === "true" || v === "false") return v === "true";
  throw new UsageError(`${key} must be true or false, got "${value}"`);
}

const TRANSPORT_NOTE = "Floe speaks HTTP(S): give an https:// --url, and --aws-sigv4 for a deployed stack";

/** Settings common to both clients that have no effect here, with the reason. */
function commonIgnored(key: string): string | undefined {
  if (key === "bootstrap.servers") return "give the server with --bootstrap-server or --url";
  if (key === "security.protocol" || key.startsWith("sasl.") || key.startsWith("ssl.")) return TRANSPORT_NOTE;
  if (
    [
      "client.dns.lookup",
      "connections.max.idle.ms",
      "receive.buffer.bytes",
      "send.buffer.bytes",
      "reconnect.backoff.ms",
      "reconnect.backoff.max.ms",
      "request.timeout.ms",
      "socket.connection.setup.timeout.ms",
      "socket.connection.setup.timeout.max.ms",
      "metrics.recording.level",
      "metric.reporters",
      "metrics.num.samples",
      "metrics.sample.window.ms",
      "default.api.timeout.ms",
      "client.rack",
    ].includes(key)
  ) {
    return "it has no counterpart over HTTP";
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Console producer
// ---------------------------------------------------------------------------------------------

/** Kafka's LineMessageReader settings (`--property`), as bytes where they split bytes. */
export interface LineFormat {
  parseKey: boolean;
  keySeparator: Buffer;
  parseHeaders: boolean;
  headersDelimiter: Buffer;
  headersSeparator: Buffer;
  headersKeySeparator: Buffer;
  /** A key, value or header value equal to it is sent as null; a header key may not equal it. */
  nullMarker: Buffer | undefined;
  /** Instead of failing a line: no key (or no headers) when its separator is missing. */
  ignoreError: boolean;
}

const LINE_READER_KEYS = [
  "parse.key",
  "key.separator",
  "parse.headers",
  "headers.delimiter",
  "headers.separator",
  "headers.key.separator",
  "null.marker",
  "ignore.error",
];

export function lineFormat(props: ReadonlyMap<string, string>, notes: string[] = []): LineFormat {
  const bytes = (key: string, fallback: string) => Buffer.from(props.get(key) ?? fallback, "utf8");
  const format: LineFormat = {
    parseKey: isTrue(props.get("parse.key")),
    keySeparator: bytes("key.separator", "\t"),
    parseHeaders: isTrue(props.get("parse.headers")),
    headersDelimiter: bytes("headers.delimiter", "\t"),
    headersSeparator: bytes("headers.separator", ","),
    headersKeySeparator: bytes("headers.key.separator", ":"),
    nullMarker: props.has("null.marker") ? bytes("null.marker", "") : undefined,
    ignoreError: isTrue(props.get("ignore.error")),
  };
  for (const [name, value] of [
    ["key.separator", format.keySeparator],
    ["headers.delimiter", format.headersDelimiter],
    ["headers.separator", format.headersSeparator],
    ["headers.key.separator", format.headersKeySeparator],
  ] as const) {
    if (value.length === 0) throw new UsageError(`--property ${name} cannot be empty`);
  }
  // Kafka's own checks, with its wording.
  const distinct: [string, Buffer | undefined, string, Buffer | undefined][] = [
    ["headers.delimiter", format.headersDelimiter, "headers.separator", format.headersSeparator],
    ["headers.delimiter", format.headersDelimiter, "headers.key.separator", format.headersKeySeparator],
    ["headers.separator", format.headersSeparator, "headers.key.separator", format.headersKeySeparator],
    ["null.marker", format.nullMarker, "key.separator", format.keySeparator],
    ["null.marker", format.nullMarker, "headers.separator", format.headersSeparator],
    ["null.marker", format.nullMarker, "headers.delimiter", format.headersDelimiter],
    ["null.marker", format.nullMarker, "headers.key.separator", format.headersKeySeparator],
  ];
  for (const [a, x, b, y] of distinct) {
    if (x && y && x.equals(y)) throw new UsageError(`--property ${a} and ${b} may not be equal`);
  }
  for (const key of props.keys()) {
    if (!LINE_READER_KEYS.includes(key)) {
      notes.push(
        `--property ${key} is not a setting of the line reader (${LINE_READER_KEYS.join(", ")}); ignored`,
      );
    }
  }
  return format;
}

export interface ParsedLine {
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer | null> | undefined;
}

/** A line the reader cannot split: Kafka's KafkaException, one line. */
export class LineFormatError extends Error {}

/**
 * One stdin line as Kafka's LineMessageReader splits it: `headers<delimiter>key<separator>value`,
 * each part present only when parsed. Works on the line's bytes; only header keys are decoded
 * (UTF-8), since Kafka's header keys are strings.
 */
export function parseLine(line: Buffer, format: LineFormat, lineNumber: number): ParsedLine {
  const cut = (enabled: boolean, from: number, separator: Buffer, name: string) => {
    if (!enabled) return undefined;
    const at = line.indexOf(separator, from);
    if (at === -1) {
      if (format.ignoreError) return undefined;
      throw new LineFormatError(`No ${name} found on line number ${lineNumber}: '${line.toString("utf8")}'`);
    }
    return line.subarray(from, at);
  };
  const headerPart = cut(format.parseHeaders, 0, format.headersDelimiter, "headers delimiter");
  const keyFrom = headerPart === undefined ? 0 : headerPart.length + format.headersDelimiter.length;
  const keyPart = cut(format.parseKey, keyFrom, format.keySeparator, "key separator");
  const valueFrom = keyFrom + (keyPart === undefined ? 0 : keyPart.length + format.keySeparator.length);
  const value = line.subarray(valueFrom);
  const orNull = (bytes: Buffer) => (format.nullMarker?.equals(bytes) ? null : bytes);
  let headers: Record<string, Buffer | null> | undefined;
  if (headerPart !== undefined && !format.nullMarker?.equals(headerPart)) {
    headers = {};
    for (const pair of splitBytes(headerPart, format.headersSeparator)) {
      const at = pair.indexOf(format.headersKeySeparator);
      if (at === -1) {
        if (format.ignoreError) {
          headers[pair.toString("utf8")] = null;
          continue;
        }
        throw new LineFormatError(
          `No header key separator found in pair '${pair.toString("utf8")}' on line number ${lineNumber}`,
        );
      }
      const name = pair.subarray(0, at);
      if (format.nullMarker?.equals(name)) {
        throw new LineFormatError(
          `Header keys should not be equal to the null marker '${format.nullMarker.toString("utf8")}' as they can't be null`,
        );
      }
      headers[name.toString("utf8")] = orNull(pair.subarray(at + format.headersKeySeparator.length));
    }
  }
  return { key: keyPart === undefined ? null : orNull(keyPart), value: orNull(value), headers };
}

/** Splits at every occurrence of a literal separator (Kafka compiles headers.separator as a regex; a literal is what was meant). */
export function splitBytes(bytes: Buffer, separator: Buffer): Buffer[] {
  const parts: Buffer[] = [];
  let from = 0;
  for (let at = bytes.indexOf(separator, from); at !== -1; at = bytes.indexOf(separator, from)) {
    parts.push(bytes.subarray(from, at));
    from = at + separator.length;
  }
  parts.push(bytes.subarray(from));
  return parts;
}

/** `--producer-property` / `--command-config` keys onto the client's ProducerOptions. */
export function producerSettings(props: ReadonlyMap<string, string>, notes: string[] = []): ProducerOptions {
  const options: ProducerOptions = {};
  const retry: RetryOptions = {};
  for (const [key, value] of props) {
    switch (key) {
      case "linger.ms":
        options.lingerMs = integerSetting(key, value, 0);
        break;
      case "batch.size":
        options.batchBytes = integerSetting(key, value, 0);
        break;
      case "enable.idempotence":
        options.idempotent = booleanSetting(key, value);
        break;
      case "max.in.flight.requests.per.connection":
        options.maxInFlightRequests = integerSetting(key, value, 1);
        break;
      case "metadata.max.age.ms":
        options.metadataMaxAgeMs = integerSetting(key, value, 0);
        break;
      case "transactional.id":
        options.transactionalId = value;
        notes.push(
          "transactional.id only fences older producers with the same id here: Floe has no transactions",
        );
        break;
      case "retries":
        retry.retries = Math.min(integerSetting(key, value, 0), Number.MAX_SAFE_INTEGER);
        break;
      case "retry.backoff.ms":
        retry.initialRetryTime = integerSetting(key, value, 0);
        break;
      case "retry.backoff.max.ms":
        retry.maxRetryTime = integerSetting(key, value, 0);
        break;
      case "acks": {
        const acks = ackSetting(value, "acks");
        if (acks !== "all") notes.push(acksNote(`acks=${value}`));
        break;
      }
      case "compression.type":
        compressionSetting(value, "compression.type");
        break;
      case "key.serializer":
      case "value.serializer":
        notes.push(`${key} is ignored: each line's bytes are sent unchanged`);
        break;
      case "client.id":
      case "partitioner.class":
      case "partitioner.ignore.keys":
      case "partitioner.adaptive.partitioning.enable":
      case "delivery.timeout.ms":
      case "buffer.memory":
      case "max.block.ms":
      case "max.request.size":
        notes.push(`${key} has no effect on floe produce`);
        break;
      default: {
        const reason = commonIgnored(key);
        notes.push(
          reason ? `${key} is ignored: ${reason}` : `${key} is not a setting of Floe's producer; ignored`,
        );
      }
    }
  }
  if (Object.keys(retry).length > 0) options.retry = retry;
  return options;
}

/** Kafka's acks / --request-required-acks values; every one means acks=all here. */
export function ackSetting(value: string, name: string): "all" | "0" | "1" {
  const v = value.trim().toLowerCase();
  if (v === "all" || v === "-1") return "all";
  if (v === "0" || v === "1") return v;
  throw new UsageError(`${name} must be all, -1, 0 or 1, got "${value}"`);
}

export function acksNote(what: string): string {
  return `${what} has no effect: a record is acknowledged once it is durably committed, which is acks=all`;
}

/** Kafka's compression codecs: only "none" is possible, since the Floe client sends uncompressed batches. */
export function compressionSetting(value: string, name: string): void {
  const v = value.trim().toLowerCase();
  if (v === "none" || v === "") return;
  if (["gzip", "snappy", "lz4", "zstd", "producer"].includes(v)) {
    throw new UsageError(
      `${name} ${value} is not supported: floe produce sends uncompressed record batches (the server reads gzip batches from other clients); leave it out or give none`,
    );
  }
  throw new UsageError(`${name} must be none, gzip, snappy, lz4 or zstd, got "${value}"`);
}

// ---------------------------------------------------------------------------------------------
// Console consumer
// ---------------------------------------------------------------------------------------------

const FORMATTER_KEYS = [
  "print.timestamp",
  "print.key",
  "print.value",
  "print.partition",
  "print.offset",
  "print.headers",
  "print.delivery",
  "key.separator",
  "line.separator",
  "headers.separator",
  "null.literal",
];

const DESERIALIZERS = ["key.deserializer", "value.deserializer", "headers.deserializer"];

/** The flag aliases Floe had before `--property`: --print-key and friends. */
export interface FormatFlags {
  printKey?: boolean;
  printValue?: boolean;
  printOffset?: boolean;
  printPartition?: boolean;
  printTimestamp?: boolean;
  printHeaders?: boolean;
  keySeparator?: string;
}

/**
 * Kafka's DefaultMessageFormatter settings from `--property` (and the flag aliases). Booleans are
 * Kafka's: "true" in any case is true, anything else false; a flag turns its field on.
 */
export function recordFormat(
  props: ReadonlyMap<string, string>,
  flags: FormatFlags = {},
  notes: string[] = [],
): Omit<RecordFormat, "timestampType"> {
  const on = (key: string, flag: boolean | undefined, fallback: boolean) =>
    flag === true || (props.has(key) ? isTrue(props.get(key)) : fallback);
  const bytes = (key: string, fallback: string) => Buffer.from(props.get(key) ?? fallback, "utf8");
  for (const key of props.keys()) {
    if (
      DESERIALIZERS.includes(key) ||
      key.startsWith("key.deserializer.") ||
      key.startsWith("value.deserializer.")
    ) {
      notes.push(`--property ${key} is ignored: keys, values and headers are printed as their bytes`);
    } else if (!FORMATTER_KEYS.includes(key)) {
      notes.push(
        `--property ${key} is not a setting of the formatter (${FORMATTER_KEYS.join(", ")}); ignored`,
      );
    }
  }
  return {
    printTimestamp: on("print.timestamp", flags.printTimestamp, false),
    printKey: on("print.key", flags.printKey, false),
    printValue: on("print.value", flags.printValue, true),
    printPartition: on("print.partition", flags.printPartition, false),
    printOffset: on("print.offset", flags.printOffset, false),
    printHeaders: on("print.headers", flags.printHeaders, false),
    printDelivery: on("print.delivery", undefined, false),
    separator:
      flags.keySeparator !== undefined
        ? Buffer.from(flags.keySeparator, "utf8")
        : bytes("key.separator", "\t"),
    lineSeparator: bytes("line.separator", "\n"),
    headersSeparator: bytes("headers.separator", ","),
    nullLiteral: bytes("null.literal", "null"),
  };
}

export interface ConsumerSettings {
  groupId: string | undefined;
  autoOffsetReset: OffsetReset | "none" | undefined;
  /** fetch.max.wait.ms */
  maxWaitMs: number | undefined;
  /** max.poll.records */
  maxRecords: number | undefined;
  /** fetch.max.bytes */
  maxBytes: number | undefined;
  clientId: string | undefined;
  sessionTimeout: number | undefined;
  heartbeatInterval: number | undefined;
  rebalanceTimeout: number | undefined;
  autoCommit: boolean | undefined;
  autoCommitInterval: number | undefined;
}

/** `--consumer-property` / `--command-config` keys onto the consumer's settings. */
export function consumerSettings(props: ReadonlyMap<string, string>, notes: string[] = []): ConsumerSettings {
  const s: ConsumerSettings = {
    groupId: undefined,
    autoOffsetReset: undefined,
    maxWaitMs: undefined,
    maxRecords: undefined,
    maxBytes: undefined,
    clientId: undefined,
    sessionTimeout: undefined,
    heartbeatInterval: undefined,
    rebalanceTimeout: undefined,
    autoCommit: undefined,
    autoCommitInterval: undefined,
  };
  for (const [key, value] of props) {
    switch (key) {
      case "group.id":
        if (value.trim() === "") throw new UsageError("group.id cannot be empty");
        s.groupId = value;
        break;
      case "auto.offset.reset":
        s.autoOffsetReset = offsetResetSetting(value);
        break;
      case "isolation.level":
        isolationSetting(value);
        notes.push(isolationNote(value));
        break;
      case "fetch.max.wait.ms":
        s.maxWaitMs = integerSetting(key, value, 0);
        break;
      case "max.poll.records":
        s.maxRecords = integerSetting(key, value, 1);
        break;
      case "fetch.max.bytes":
        s.maxBytes = integerSetting(key, value, 1);
        break;
      case "client.id":
        s.clientId = value;
        break;
      case "session.timeout.ms":
        s.sessionTimeout = integerSetting(key, value, 1);
        break;
      case "heartbeat.interval.ms":
        s.heartbeatInterval = integerSetting(key, value, 1);
        break;
      case "max.poll.interval.ms":
        s.rebalanceTimeout = integerSetting(key, value, 1);
        break;
      case "enable.auto.commit":
        s.autoCommit = booleanSetting(key, value);
        break;
      case "auto.commit.interval.ms":
        s.autoCommitInterval = integerSetting(key, value, 0);
        break;
      case "group.protocol":
        if (value.trim().toLowerCase() !== "consumer") {
          notes.push(`group.protocol=${value} has no effect: Floe's groups use KIP-848's consumer protocol`);
        }
        break;
      case "key.deserializer":
      case "value.deserializer":
        notes.push(`${key} is ignored: keys and values are printed as their bytes`);
        break;
      case "fetch.min.bytes":
      case "max.partition.fetch.bytes":
      case "check.crcs":
      case "partition.assignment.strategy":
      case "group.remote.assignor":
      case "group.instance.id":
      case "allow.auto.create.topics":
      case "exclude.internal.topics":
        notes.push(`${key} has no effect on floe consume`);
        break;
      default: {
        const reason = commonIgnored(key);
        notes.push(
          reason ? `${key} is ignored: ${reason}` : `${key} is not a setting of Floe's consumer; ignored`,
        );
      }
    }
  }
  return s;
}

export function offsetResetSetting(value: string): OffsetReset | "none" {
  const v = value.trim().toLowerCase();
  if (v === "earliest" || v === "latest" || v === "none") return v;
  if (v === "by_duration" || v.startsWith("by_duration:")) {
    throw new UsageError(`auto.offset.reset=${value} is not supported: give earliest, latest or none`);
  }
  throw new UsageError(`auto.offset.reset must be earliest, latest or none, got "${value}"`);
}

export function isolationSetting(value: string): void {
  const v = value.trim().toLowerCase();
  if (v !== "read_committed" && v !== "read_uncommitted") {
    throw new UsageError(`isolation.level must be read_committed or read_uncommitted, got "${value}"`);
  }
}

export function isolationNote(value: string): string {
  return `isolation.level=${value.trim().toLowerCase()} has no effect: Floe has no transactions, so every record is committed`;
}

/** The longest --include pattern accepted, as the server's subscription regex. */
export const MAX_INCLUDE_LENGTH = 1000;

/**
 * Kafka's --include (IncludeList): commas mean "or", spaces and surrounding quotes are dropped, and
 * the pattern must match a whole topic name. JavaScript's RegExp stands in for Java's for the usual
 * syntax; the source is returned for the server's group subscription.
 */
export function includePattern(text: string): { source: string; regex: RegExp } {
  const source = text
    .trim()
    .replace(/,/g, "|")
    .replace(/ /g, "")
    .replace(/^["']+/, "")
    .replace(/["']+$/, "");
  if (source === "") throw new UsageError("--include needs a regular expression");
  if (source.length > MAX_INCLUDE_LENGTH) {
    throw new UsageError(`--include is longer than ${MAX_INCLUDE_LENGTH} characters`);
  }
  try {
    return { source, regex: new RegExp(`^(?:${source})$`) };
  } catch (error) {
    throw new UsageError(`--include is not a valid regular expression: ${(error as Error).message}`);
  }
}

/** `--topic a,b`: several topics, in order, without repeats. */
export function topicList(text: string | undefined): string[] {
  if (text === undefined) return [];
  return [
    ...new Set(
      text
        .split(",")
        .map((t) => t.trim())
        .filter((t) => t !== ""),
    ),
  ];
}
