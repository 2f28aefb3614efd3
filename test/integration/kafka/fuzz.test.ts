/**
 * The Kafka listener under hostile input (issue 12: "a malformed frame never crashes the process").
 * Against a real startDevServer, every API the listener serves (whatever KAFKA_APIS holds when the
 * test runs) at every version it serves is sent:
 *   - well-formed requests with random contents, encoded by our own codecs from the API's request
 *     description (record batches real ones, from our RecordBatch encoder): each must be answered
 *     with its correlation id and a response that decodes, or not at all (acks=0, a long poll), and
 *     never by closing the connection;
 *   - the same frames truncated and bit-flipped, and random frames: anything may happen to that
 *     connection, nothing to the process;
 *   - unknown API keys and versions outside the served ranges: UNSUPPORTED_VERSION, and the
 *     connection stays usable;
 *   - frame lengths over socket.request.max.bytes (and negative): that connection closes, others
 *     go on.
 * Each frame goes on a fresh connection; after each batch a new connection must still get
 * ApiVersions and Metadata answered. The frames come from fast-check with a fixed seed, so every
 * run sends the same ones; a failure names the API, version and frame to replay.
 */
import { connect } from "node:net";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KAFKA_APIS } from "../../../src/kafka/apis/index.js";
import type { KafkaApi } from "../../../src/kafka/kafka-api.js";
import { MessageCodec } from "../../../src/kafka/protocol/codec.js";
import {
  ApiVersionsRequest,
  ApiVersionsResponse,
} from "../../../src/kafka/protocol/messages/api-versions.js";
import { RequestHeader } from "../../../src/kafka/protocol/messages/headers.js";
import { MetadataRequest, MetadataResponse } from "../../../src/kafka/protocol/messages/metadata.js";
import { type FieldSpec, inVersions, type ScalarType } from "../../../src/kafka/protocol/spec.js";
import { ByteReader } from "../../../src/log/byte-reader.js";
import { encodeRecordBatch } from "../../../src/log/record-batch.js";
import type { DevServer } from "../../../src/server/dev-server.js";
import { startKafkaDevServer } from "./data-path-harness.js";

/** Fixed, so every run sends the same frames; FLOE_FUZZ_SEED=<n> explores others. */
const SEED = Number(process.env.FLOE_FUZZ_SEED ?? 1_2_2025);
/** FLOE_FUZZ_SCALE=<n> sends n times as many frames (the default keeps the test to a few seconds). */
const SCALE = Math.max(1, Number(process.env.FLOE_FUZZ_SCALE ?? 1));
/** Well-formed requests, truncations and bit flips per API version. */
const PER_VERSION = { valid: 3 * SCALE, truncated: 2 * SCALE, flipped: 3 * SCALE };
const RANDOM_FRAMES = 300 * SCALE;
/** How long a connection is given to answer before the test moves on (a long poll may hold it). */
const PATIENCE_MS = 400;
const CONCURRENT_CONNECTIONS = 48;
const SOCKET_REQUEST_MAX_BYTES = 100 * 1024 * 1024;
const UNSUPPORTED_VERSION = 35;
const TOPIC = "fuzz";
const NULL_UUID = "00000000-0000-0000-0000-000000000000";

const requestHeader = new MessageCodec(RequestHeader);
let server: DevServer;
let port: number;
let topicId = NULL_UUID;

// ---- Values for a request description, at one version ----

function scalar(type: ScalarType, nullable: boolean): fc.Arbitrary<unknown> {
  const small = fc.integer({ min: -1, max: 4 });
  switch (type) {
    case "bool":
      return fc.boolean();
    case "int8":
      return fc.oneof(small, fc.integer({ min: -128, max: 127 }));
    case "int16":
      return fc.oneof(small, fc.integer({ min: -32768, max: 32767 }));
    case "uint16":
      return fc.integer({ min: 0, max: 65535 });
    case "int32":
      return fc.oneof(small, fc.integer({ min: 0, max: 60_000 }), fc.integer());
    case "int64":
      return fc.oneof(small, fc.constantFrom(-2, -3, Date.now()), fc.maxSafeInteger());
    case "float64":
      return fc.double();
    case "string":
      return fc.oneof(
        fc.constantFrom(TOPIC, "fuzz-group", "fuzz-member", "", "__consumer_offsets", "cleanup.policy"),
        fc.string({ maxLength: 12 }),
        fc.string({ maxLength: 6, unit: "binary" }),
      );
    case "uuid":
      return fc.oneof(fc.constantFrom(NULL_UUID, topicId), fc.uuid());
    case "bytes":
      return fc.uint8Array({ maxLength: 24 });
    case "records":
      return fc.oneof(
        { arbitrary: recordBatches(), weight: 3 },
        { arbitrary: fc.uint8Array({ maxLength: 80 }), weight: 1 },
        { arbitrary: fc.constant(nullable ? null : new Uint8Array(0)), weight: 1 },
      );
  }
}

/** One or two real RecordBatch v2s, as a producer sends them. */
function recordBatches(): fc.Arbitrary<Uint8Array> {
  const bytes = fc.option(fc.uint8Array({ maxLength: 16 }), { nil: null });
  const record = fc.record({
    key: bytes,
    value: bytes,
    headers: fc.array(fc.record({ key: fc.string({ maxLength: 4 }), value: bytes }), { maxLength: 2 }),
    timestamp: fc.integer({ min: 0, max: 2 ** 42 }),
  });
  const batch = fc
    .tuple(
      fc.array(record, { minLength: 1, maxLength: 3 }),
      fc.constantFrom("none", "gzip") as fc.Arbitrary<"none" | "gzip">,
    )
    .map(([records, compression]) => encodeRecordBatch(records, { compression }));
  return fc.array(batch, { minLength: 1, maxLength: 2 }).map((batches) => Buffer.concat(batches));
}

function fieldValue(field: FieldSpec, version: number, flexible: boolean): fc.Arbitrary<unknown> {
  const nullable = inVersions(field.nullableVersions, version);
  let value: fc.Arbitrary<unknown>;
  if (field.type === "[]" || field.type === "{}") {
    const struct = structValue(field.fields ?? [], version, flexible);
    value = field.type === "{}" ? struct : fc.array(struct, { maxLength: 3 });
  } else if (field.type.startsWith("[]")) {
    value = fc.array(scalar(field.type.slice(2) as ScalarType, false), { maxLength: 3 });
  } else {
    value = scalar(field.type as ScalarType, nullable);
  }
  return nullable && field.type !== "records" ? fc.option(value, { nil: null, freq: 6 }) : value;
}

function structValue(
  fields: readonly FieldSpec[],
  version: number,
  flexible: boolean,
): fc.Arbitrary<unknown> {
  const model: Record<string, fc.Arbitrary<unknown>> = {};
  const required: string[] = [];
  for (const field of fields) {
    const tagged = flexible && inVersions(field.taggedVersions, version);
    if (!inVersions(field.versions, version) && !tagged) continue;
    model[field.name] = fieldValue(field, version, flexible);
    if (!tagged) required.push(field.name);
  }
  return fc.record(model, { requiredKeys: required });
}

// ---- Frames ----

function frame(body: Uint8Array): Buffer {
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length);
  return Buffer.concat([size, body]);
}

function header(
  apiKey: number,
  apiVersion: number,
  correlationId: number,
  flexible: boolean,
  clientId: string | null,
) {
  return requestHeader.encode(flexible ? 2 : 1, {
    requestApiKey: apiKey,
    requestApiVersion: apiVersion,
    correlationId,
    clientId,
  });
}

interface Sent {
  what: string;
  bytes: Buffer;
  correlationId: number;
  api?: KafkaApi;
  version?: number;
}

/** A well-formed request of `api` at `version` with random contents. */
function wellFormed(api: KafkaApi, version: number): fc.Arbitrary<Sent> {
  const flexible = api.request.at(version).flexible;
  return fc
    .tuple(
      structValue(api.request.spec.fields, version, flexible),
      fc.integer({ min: 0, max: 2 ** 31 - 1 }),
      fc.option(fc.string({ maxLength: 10 }), { nil: null }),
    )
    .map(([value, correlationId, clientId]) => ({
      what: `${api.name} v${version}`,
      correlationId,
      api,
      version,
      bytes: frame(
        Buffer.concat([
          header(api.apiKey, version, correlationId, flexible, clientId),
          api.request.encode(version, value as never),
        ]),
      ),
    }));
}

/** The frame cut short, its length saying so (a request that ends too early). */
function truncated(sent: fc.Arbitrary<Sent>): fc.Arbitrary<Sent> {
  return fc.tuple(sent, fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true })).map(([s, at]) => {
    const body = s.bytes.subarray(4);
    const cut = Math.floor(at * body.length);
    return {
      what: `${s.what} truncated to ${cut} bytes`,
      correlationId: -1,
      bytes: frame(body.subarray(0, cut)),
    };
  });
}

/** The frame with a few bits flipped anywhere after its length (header included). */
function flipped(sent: fc.Arbitrary<Sent>): fc.Arbitrary<Sent> {
  return fc.tuple(sent, fc.array(fc.nat(), { minLength: 1, maxLength: 4 })).map(([s, flips]) => {
    const bytes = Buffer.from(s.bytes);
    const bits = (bytes.length - 4) * 8;
    if (bits === 0) return { ...s, what: `${s.what} (empty)`, correlationId: -1 };
    for (const f of flips) {
      const bit = f % bits;
      bytes[4 + (bit >> 3)] ^= 1 << (bit & 7);
    }
    return {
      what: `${s.what} with bits ${flips.map((f) => f % bits).join(",")} flipped`,
      correlationId: -1,
      bytes,
    };
  });
}

/** Random bytes after a served API key and version, or after nothing sensible at all. */
function randomFrame(): fc.Arbitrary<Sent> {
  const served = fc
    .constantFrom(...KAFKA_APIS)
    .chain((api) =>
      fc.tuple(fc.constant(api.apiKey), fc.integer({ min: api.request.low, max: api.request.high })),
    );
  const anyKey = fc.tuple(fc.integer({ min: -32768, max: 32767 }), fc.integer({ min: -32768, max: 32767 }));
  return fc
    .tuple(fc.oneof(served, anyKey), fc.uint8Array({ maxLength: 120 }), fc.boolean())
    .map(([[apiKey, version], rest, withHeader]) => {
      const head = Buffer.alloc(4);
      head.writeInt16BE(apiKey);
      head.writeInt16BE(version, 2);
      const body = withHeader ? Buffer.concat([head, rest]) : Buffer.from(rest);
      return {
        what: `random frame (${body.toString("hex").slice(0, 80)})`,
        correlationId: -1,
        bytes: frame(body),
      };
    });
}

// ---- One connection per frame ----

type Outcome =
  | { kind: "answered"; frames: Buffer[] }
  | { kind: "closed"; frames: Buffer[] }
  | { kind: "silent"; frames: Buffer[] };

/** Sends `bytes` on a fresh connection; resolves with the first `answers` frames, a close, or silence. */
function exchange(bytes: Buffer, answers = 1, patienceMs = PATIENCE_MS): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    let buffered = Buffer.alloc(0);
    const frames: Buffer[] = [];
    let settled = false;
    const settle = (outcome: Outcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(() => settle({ kind: "silent", frames }), patienceMs);
    socket.on("connect", () => socket.write(bytes));
    socket.on("data", (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 4 && buffered.length >= 4 + buffered.readInt32BE(0)) {
        const size = buffered.readInt32BE(0);
        frames.push(buffered.subarray(4, 4 + size));
        buffered = buffered.subarray(4 + size);
      }
      if (frames.length >= answers) settle({ kind: "answered", frames });
    });
    socket.on("error", (e: NodeJS.ErrnoException) => {
      // Refused means the listener is gone: that is the failure this test exists for.
      if (e.code === "ECONNREFUSED") {
        settled = true;
        clearTimeout(timer);
        reject(new Error("the Kafka listener refused a connection: it is down"));
      }
    });
    socket.on("close", () => settle({ kind: "closed", frames }));
  });
}

async function inBatches<T, R>(items: T[], run: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let i = 0; i < items.length; i += CONCURRENT_CONNECTIONS) {
    results.push(...(await Promise.all(items.slice(i, i + CONCURRENT_CONNECTIONS).map(run))));
    await expectHealthy();
  }
  return results;
}

/** A new connection gets ApiVersions and Metadata answered, in order. */
async function expectHealthy(): Promise<void> {
  const apiVersions = frame(
    Buffer.concat([
      header(18, 3, 101, true, "health"),
      new MessageCodec(ApiVersionsRequest).encode(3, {
        clientSoftwareName: "fuzz",
        clientSoftwareVersion: "1",
      }),
    ]),
  );
  const metadata = frame(
    Buffer.concat([
      header(3, 12, 102, true, "health"),
      new MessageCodec(MetadataRequest).encode(12, { topics: null }),
    ]),
  );
  const outcome = await exchange(Buffer.concat([apiVersions, metadata]), 2, 10_000);
  expect(outcome.kind, "the listener answers ApiVersions and Metadata on a new connection").toBe("answered");
  const [versions, meta] = outcome.frames;
  expect(versions.readInt32BE(0)).toBe(101);
  expect(new MessageCodec(ApiVersionsResponse).decode(3, versions.subarray(4)).errorCode).toBe(0);
  expect(meta.readInt32BE(0)).toBe(102);
  // Response header v1: the correlation id, then an empty tagged-field section.
  expect(new MessageCodec(MetadataResponse).decode(12, meta.subarray(5)).brokers).toHaveLength(1);
}

function sample<T>(arbitrary: fc.Arbitrary<T>, numRuns: number, salt: number): T[] {
  return fc.sample(arbitrary, { seed: SEED + salt, numRuns });
}

/** What a well-formed request got that it should not have; undefined when all is well. */
function wrongAnswer(sent: Sent, outcome: Outcome): string | undefined {
  if (outcome.kind === "silent") return undefined; // acks=0, or a long poll still waiting
  if (outcome.kind === "closed") return "the connection was closed instead of an answer";
  const [answer] = outcome.frames;
  if (answer.readInt32BE(0) !== sent.correlationId) return `answered correlation id ${answer.readInt32BE(0)}`;
  const api = sent.api as KafkaApi;
  const version = sent.version as number;
  // ApiVersions answers with response header v0 whatever its version.
  const flexibleHeader = api.response.at(version).flexible && api.apiKey !== 18;
  try {
    const r = new ByteReader(answer, 4);
    if (flexibleHeader) r.position += 1; // no tagged fields in our response headers
    api.response.at(version).decode(r);
    if (r.remaining !== 0) return `${r.remaining} bytes after the response`;
  } catch (e) {
    return `the response does not decode: ${(e as Error).message}`;
  }
  return undefined;
}

function hex(bytes: Buffer): string {
  const text = bytes.toString("hex");
  return text.length > 400 ? `${text.slice(0, 400)}…` : text;
}

/** The listener warns of every connection it closes: thousands here, expected ones. */
const logLevel = process.env.POWERTOOLS_LOG_LEVEL;

beforeAll(async () => {
  process.env.POWERTOOLS_LOG_LEVEL = "ERROR";
  server = await startKafkaDevServer();
  if (logLevel === undefined) delete process.env.POWERTOOLS_LOG_LEVEL;
  else process.env.POWERTOOLS_LOG_LEVEL = logLevel;
  port = server.kafka?.port as number;
  // A topic for the random requests to land on, so they reach past "unknown topic".
  const created = await fetch(`${server.url}/v1/topics`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name: TOPIC, partitions: 3 }),
  });
  topicId = ((await created.json()) as { topicId: string }).topicId;
});

afterAll(async () => {
  if (!server) return;
  // Every connection is closed by now: a handler that ignores its connection's end would hold this.
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve("hung"), 15_000);
  });
  const result = await Promise.race([server.close().then(() => "closed"), hung]);
  clearTimeout(timer);
  expect(result, "the server closes once its connections are gone (no handler outlives its connection)").toBe(
    "closed",
  );
});

describe("the Kafka listener under random, truncated and corrupted frames", () => {
  it("answers every well-formed request of every served API and version, and survives its truncations and bit flips", async () => {
    const frames: Sent[] = [];
    let salt = 0;
    for (const api of KAFKA_APIS) {
      for (let version = api.request.low; version <= api.request.high; version++) {
        const valid = wellFormed(api, version);
        frames.push(...sample(valid, PER_VERSION.valid, salt++));
        frames.push(...sample(truncated(valid), PER_VERSION.truncated, salt++));
        frames.push(...sample(flipped(valid), PER_VERSION.flipped, salt++));
      }
    }
    const outcomes = await inBatches(frames, (sent) => exchange(sent.bytes));
    const wrong = frames.flatMap((sent, i) => {
      if (!sent.api) return [];
      const problem = wrongAnswer(sent, outcomes[i]);
      return problem ? [`${sent.what}: ${problem}; frame ${hex(sent.bytes)}`] : [];
    });
    expect(wrong).toEqual([]);
  });

  it("survives random frames", async () => {
    await inBatches(sample(randomFrame(), RANDOM_FRAMES, 1_000_000), (sent) => exchange(sent.bytes));
  });

  it("answers an unknown API key or a version outside the served range with UNSUPPORTED_VERSION and keeps the connection", async () => {
    const served = new Map(KAFKA_APIS.map((api) => [api.apiKey, api]));
    const asks: { apiKey: number; version: number }[] = [];
    for (const api of KAFKA_APIS) {
      asks.push({ apiKey: api.apiKey, version: api.request.high + 1 }, { apiKey: api.apiKey, version: -1 });
      if (api.request.low > 0) asks.push({ apiKey: api.apiKey, version: api.request.low - 1 });
    }
    for (let apiKey = 0; apiKey <= 100; apiKey++) if (!served.has(apiKey)) asks.push({ apiKey, version: 0 });
    for (const apiKey of sample(fc.integer({ min: -32768, max: 32767 }), 40, 2_000_000)) {
      if (!served.has(apiKey)) asks.push({ apiKey, version: 0 });
    }
    const wrong = (
      await inBatches(asks, async ({ apiKey, version }) => {
        // The refused request (with a body it need not read), then an ApiVersions on the same connection.
        const refused = frame(
          Buffer.concat([header(apiKey, version, 7, false, "fuzz"), Buffer.from([1, 2, 3])]),
        );
        const after = frame(header(18, 0, 8, false, "fuzz"));
        const outcome = await exchange(Buffer.concat([refused, after]), 2);
        const [first, second] = outcome.frames;
        const ok =
          outcome.kind === "answered" &&
          first.readInt32BE(0) === 7 &&
          first.readInt16BE(4) === UNSUPPORTED_VERSION &&
          second.readInt32BE(0) === 8;
        return ok
          ? []
          : [`api key ${apiKey} v${version}: ${outcome.kind}, ${outcome.frames.map(hex).join(" ")}`];
      })
    ).flat();
    expect(wrong).toEqual([]);
  });

  it("reassembles pipelined frames however the stream cuts them", async () => {
    const apiVersions = new MessageCodec(ApiVersionsRequest);
    const metadata = new MessageCodec(MetadataRequest);
    const frames = Array.from({ length: 12 }, (_, i) =>
      i % 2 === 0
        ? frame(Buffer.concat([header(18, 3, i, true, "pieces"), apiVersions.encode(3, {})]))
        : frame(
            Buffer.concat([
              header(3, 12, i, true, "pieces"),
              metadata.encode(12, { topics: [{ name: TOPIC }] }),
            ]),
          ),
    );
    const stream = Buffer.concat(frames);
    const cuts = sample(
      fc.uniqueArray(fc.integer({ min: 1, max: stream.length - 1 }), { minLength: 1, maxLength: 40 }),
      8,
      3_000_000,
    );
    // A write per byte, too: every boundary, the length's four bytes included, falls between writes.
    cuts.push(Array.from({ length: 60 }, (_, i) => i + 1));
    for (const points of cuts) {
      const socket = connect(port, "127.0.0.1");
      socket.setNoDelay(true);
      await new Promise((resolve) => socket.once("connect", resolve));
      let received = Buffer.alloc(0);
      const answers: number[] = [];
      const all = new Promise<void>((resolve) => {
        socket.on("data", (chunk: Buffer) => {
          received = Buffer.concat([received, chunk]);
          while (received.length >= 4 && received.length >= 4 + received.readInt32BE(0)) {
            answers.push(received.readInt32BE(4));
            received = received.subarray(4 + received.readInt32BE(0));
          }
          if (answers.length === frames.length) resolve();
        });
      });
      let from = 0;
      for (const to of [...points].sort((a, b) => a - b).concat(stream.length)) {
        socket.write(stream.subarray(from, to));
        from = to;
        await new Promise((resolve) => setImmediate(resolve));
      }
      await all;
      socket.destroy();
      expect(answers).toEqual(frames.map((_, i) => i));
    }
  });

  it("closes only the connection whose frame length is over socket.request.max.bytes or negative", async () => {
    const bystander = connect(port, "127.0.0.1");
    await new Promise((resolve) => bystander.once("connect", resolve));
    for (const size of [SOCKET_REQUEST_MAX_BYTES + 1, 2 ** 31 - 1, -1, -(2 ** 31)]) {
      const length = Buffer.alloc(4);
      length.writeInt32BE(size);
      // Then a well-formed ApiVersions: it must not be read as a frame after the bad length.
      const outcome = await exchange(
        Buffer.concat([length, frame(header(18, 0, 1, false, null))]),
        1,
        10_000,
      );
      expect(outcome, `a frame length of ${size}`).toEqual({ kind: "closed", frames: [] });
    }
    // The connection opened before all this still works.
    const answered = new Promise<Buffer>((resolve) => bystander.once("data", resolve));
    bystander.write(frame(header(18, 0, 9, false, null)));
    expect((await answered).readInt32BE(4)).toBe(9);
    bystander.destroy();
    await expectHealthy();
  });
});
