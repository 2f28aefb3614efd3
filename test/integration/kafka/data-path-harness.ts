import { createRequire } from "node:module";
import { connect, type Socket } from "node:net";
import { Connection } from "@platformatic/kafka";
import kafkajs from "kafkajs";
import { expect } from "vitest";
import { RECORD_BATCH_MEDIA_TYPE } from "../../../src/api/routes/record-batch-media.js";
import { ByteReader } from "../../../src/log/byte-reader.js";
import { MessageCodec } from "../../../src/kafka/protocol/codec.js";
import { RequestHeader, ResponseHeader } from "../../../src/kafka/protocol/messages/headers.js";
import type { MessageInput, MessageSpec, MessageValue } from "../../../src/kafka/protocol/spec.js";
import { type DevServer, type DevServerOptions, startDevServer } from "../../../src/server/dev-server.js";

/** What the Kafka protocol's integration tests share: a real floe dev with its Kafka listener, and clients. */

/** floe dev in memory with its Kafka listener, both on free ports, maintenance off and quiet; `options` override. */
export async function startKafkaDevServer(options: DevServerOptions = {}): Promise<DevServer> {
  return startDevServer({
    port: 0,
    storage: "memory",
    kafka: { port: 0 },
    maintenanceIntervalMs: 0,
    log: () => {},
    ...options,
  });
}

let topicCount = 0;
export function uniqueTopic(prefix: string): string {
  return `${prefix}-${process.pid}-${++topicCount}-${Math.random().toString(36).slice(2, 8)}`;
}

/** Creates a topic over the HTTP API; answers its id. */
export async function createTopic(
  server: DevServer,
  name: string,
  partitions: number,
  config?: Record<string, unknown>,
): Promise<string> {
  const res = await fetch(`${server.url}/v1/topics`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name, partitions, ...(config ? { config } : {}) }),
  });
  const body = (await res.json()) as { topicId: string };
  expect(res.status).toBe(201);
  return body.topicId;
}

export interface HttpRecord {
  offset: number;
  timestamp: number;
  key: string | null;
  value: string | null;
  headers: Record<string, string | null>;
}

/** A partition's records over HTTP, keys, values and header values base64 (the bytes as stored). */
export async function httpRecords(
  server: DevServer,
  topic: string,
  partition: number,
  offset = 0,
): Promise<HttpRecord[]> {
  const res = await fetch(
    `${server.url}/v1/topics/${topic}/partitions/${partition}/records?offset=${offset}&encoding=base64&maxRecords=10000`,
  );
  const body = (await res.json()) as { records: HttpRecord[] };
  expect(res.status).toBe(200);
  return body.records;
}

/** A partition's stored batches over HTTP's binary fast path, base offsets patched in. */
export async function httpBatches(
  server: DevServer,
  topic: string,
  partition: number,
  offset = 0,
): Promise<Buffer> {
  const res = await fetch(
    `${server.url}/v1/topics/${topic}/partitions/${partition}/records?offset=${offset}`,
    {
      headers: { accept: RECORD_BATCH_MEDIA_TYPE },
    },
  );
  expect(res.status).toBe(200);
  return Buffer.from(await res.arrayBuffer());
}

/** Produces records over HTTP, values and keys as base64; answers their offsets in order. */
export async function httpProduce(
  server: DevServer,
  topic: string,
  records: {
    key?: Buffer | null;
    value: Buffer | null;
    partition?: number;
    headers?: Record<string, Buffer>;
    timestamp?: number;
  }[],
): Promise<{ partition: number; offset: number }[]> {
  const b64 = (b: Buffer | null | undefined) => (b === null || b === undefined ? b : b.toString("base64"));
  const res = await fetch(`${server.url}/v1/topics/${topic}/records?encoding=base64`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      records: records.map((r) => ({
        key: b64(r.key),
        value: b64(r.value),
        partition: r.partition,
        timestamp: r.timestamp,
        headers: r.headers && Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k, b64(v)])),
      })),
    }),
  });
  const body = (await res.json()) as { offsets: { partition: number; offset: number }[] };
  expect(res.status).toBe(200);
  return body.offsets;
}

export const b64 = (value: string | Buffer) => Buffer.from(value).toString("base64");

/**
 * @platformatic/kafka's promise API needs Node 22's Promise.withResolvers; its callback API works on
 * every Node this project supports, so the tests call it through this.
 */
export function call<T>(fn: (callback: (error: unknown, value?: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) =>
    fn((error, value) => (error ? reject(error) : resolve(value as T))),
  );
}

/** The Kafka error codes inside a @platformatic/kafka failure (a MultipleErrors around ResponseErrors). */
export function apiCodes(error: unknown): number[] {
  const codes: number[] = [];
  const walk = (e: unknown) => {
    if (e === null || typeof e !== "object") return;
    const x = e as { apiCode?: number; errors?: unknown };
    if (typeof x.apiCode === "number") codes.push(x.apiCode);
    const nested = x.errors;
    if (Array.isArray(nested)) nested.forEach(walk);
    else if (nested && typeof nested === "object") Object.values(nested).forEach(walk);
  };
  walk(error);
  return codes;
}

/** What a promise rejected with; fails if it fulfilled. */
export async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error("expected a rejection");
}

/**
 * A KafkaJS client of the listener. No retries: Floe answers at once, and an error a client would
 * retry (an unknown topic) must reach the test.
 */
export function kafkajsClient(server: DevServer): InstanceType<typeof kafkajs.Kafka> {
  return new kafkajs.Kafka({
    brokers: [server.kafka?.bootstrap as string],
    logLevel: kafkajs.logLevel.NOTHING,
    retry: { retries: 0 },
  });
}

/** A @platformatic/kafka connection to the listener, for its per-API functions (`produceV11.api(connection, ...)`). */
export async function platformaticConnection(server: DevServer): Promise<Connection> {
  const connection = new Connection("floe-data-test");
  await call<void>((cb) =>
    connection.connect(server.kafka?.host as string, server.kafka?.port as number, cb as never),
  );
  return connection;
}

/** The response a @platformatic/kafka API call answered, even when it answered an error code (a ResponseError holds it). */
export async function platformaticResponse<T>(
  fn: (callback: (error: unknown, value: T) => void) => void,
): Promise<T> {
  try {
    return await call(fn);
  } catch (e) {
    const response = (e as { response?: T }).response;
    if (response === undefined) throw e;
    return response;
  }
}

const require = createRequire(import.meta.url);

/**
 * KafkaJS's own Broker: its request encoders and response decoders (records included) over its
 * own connection, without a consumer group, for fetches and produces at exact offsets.
 */
export interface KafkaJSBroker {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  fetch(request: {
    maxWaitTime?: number;
    minBytes?: number;
    maxBytes?: number;
    isolationLevel?: number;
    topics: { topic: string; partitions: { partition: number; fetchOffset: string; maxBytes: number }[] }[];
  }): Promise<{
    responses: {
      topicName: string;
      partitions: {
        partition: number;
        errorCode: number;
        highWatermark: string;
        lastStableOffset: string;
        lastStartOffset?: string;
        messages: {
          offset: string;
          key: Buffer | null;
          value: Buffer | null;
          headers: Record<string, Buffer>;
          timestamp: string;
        }[];
      }[];
    }[];
  }>;
}

export async function kafkajsBroker(server: DevServer): Promise<KafkaJSBroker> {
  const Broker = require("kafkajs/src/broker");
  const ConnectionPool = require("kafkajs/src/network/connectionPool");
  const { createLogger, LEVELS } = require("kafkajs/src/loggers");
  const socketFactory = require("kafkajs/src/network/socketFactory");
  const logger = createLogger({ level: LEVELS.NOTHING, logCreator: () => () => {} });
  const connectionPool = new ConnectionPool({
    host: server.kafka?.host,
    port: server.kafka?.port,
    logger,
    socketFactory: socketFactory(),
    requestTimeout: 60_000,
    connectionTimeout: 5_000,
    clientId: "floe-data-test",
  });
  const broker = new Broker({ connectionPool, logger }) as KafkaJSBroker;
  await broker.connect();
  return broker;
}

const requestHeader = new MessageCodec(RequestHeader);
const responseHeader = new MessageCodec(ResponseHeader);

/**
 * A Kafka connection speaking our own codecs: for what a client library hides (the exact bytes of
 * a fetch answer, the order of pipelined answers). The codecs are checked against KafkaJS and
 * @platformatic/kafka in the unit tests.
 */
export class RawKafka {
  private buffered = Buffer.alloc(0);
  private readonly waiting: { resolve: (frame: Buffer) => void; reject: (e: Error) => void }[] = [];
  private correlationId = 0;

  private constructor(private readonly socket: Socket) {
    socket.on("data", (chunk: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, chunk]);
      while (this.buffered.length >= 4 && this.buffered.length >= 4 + this.buffered.readInt32BE(0)) {
        const size = this.buffered.readInt32BE(0);
        const frame = this.buffered.subarray(4, 4 + size);
        this.buffered = this.buffered.subarray(4 + size);
        this.waiting.shift()?.resolve(frame);
      }
    });
    socket.on("close", () => {
      for (const w of this.waiting.splice(0)) w.reject(new Error("connection closed"));
    });
    socket.on("error", () => {});
  }

  static open(server: DevServer): Promise<RawKafka> {
    return new Promise((resolve, reject) => {
      const socket = connect(server.kafka?.port as number, server.kafka?.host as string, () =>
        resolve(new RawKafka(socket)),
      );
      socket.once("error", reject);
    });
  }

  /**
   * Sends one request; answers its decoded response (requests pipeline; answers come in order, and
   * an answer to another request than the one expected next fails).
   */
  request<Req extends MessageSpec, Res extends MessageSpec>(
    codecs: { request: MessageCodec<Req>; response: MessageCodec<Res> },
    version: number,
    body: MessageInput<Req>,
  ): Promise<MessageValue<Res>> {
    const flexible = codecs.request.at(version).flexible;
    const correlationId = this.send(codecs, version, body);
    const answered = new Promise<Buffer>((resolve, reject) => this.waiting.push({ resolve, reject }));
    return answered.then((frame) => {
      const r = new ByteReader(frame);
      const header = responseHeader.at(flexible ? 1 : 0).decode(r);
      if (header.correlationId !== correlationId) {
        throw new Error(`answer to request ${header.correlationId} where ${correlationId} was expected`);
      }
      return codecs.response.decode(version, frame.subarray(r.position));
    });
  }

  /** Sends a request that gets no answer (Produce with acks 0); answers its correlation id. */
  send<Req extends MessageSpec>(
    codecs: { request: MessageCodec<Req> },
    version: number,
    body: MessageInput<Req>,
  ): number {
    const correlationId = ++this.correlationId;
    const head = requestHeader.encode(codecs.request.at(version).flexible ? 2 : 1, {
      requestApiKey: codecs.request.spec.apiKey,
      requestApiVersion: version,
      correlationId,
      clientId: "floe-raw",
    });
    const payload = Buffer.concat([head, codecs.request.encode(version, body)]);
    const size = Buffer.alloc(4);
    size.writeInt32BE(payload.length);
    this.socket.write(Buffer.concat([size, payload]));
    return correlationId;
  }

  close(): void {
    this.socket.destroy();
  }
}
