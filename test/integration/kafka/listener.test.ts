import { connect, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Broker } from "../../../src/broker/broker.js";
import { GroupCoordinator } from "../../../src/groups/coordinator.js";
import { KAFKA_APIS } from "../../../src/kafka/apis/index.js";
import { startKafkaListener } from "../../../src/kafka/listener.js";
import { ByteReader } from "../../../src/log/byte-reader.js";
import { createBackend } from "../../../src/storage/backend.js";
import { MessageCodec } from "../../../src/kafka/protocol/codec.js";
import {
  ApiVersionsRequest,
  ApiVersionsResponse,
} from "../../../src/kafka/protocol/messages/api-versions.js";
import { RequestHeader, ResponseHeader } from "../../../src/kafka/protocol/messages/headers.js";
import { FetchRequest } from "../../../src/kafka/protocol/messages/fetch.js";
import { MetadataRequest, MetadataResponse } from "../../../src/kafka/protocol/messages/metadata.js";
import { type DevServer, startDevServer } from "../../../src/server/dev-server.js";
import { startKafkaDevServer } from "./data-path-harness.js";

const header = new MessageCodec(RequestHeader);
const responseHeader = new MessageCodec(ResponseHeader);

/** A raw Kafka connection: frames out, frames in, nothing interpreted. */
class Wire {
  private buffered = Buffer.alloc(0);
  private waiters: (() => void)[] = [];
  closed = false;

  private constructor(readonly socket: Socket) {
    socket.on("data", (c: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, c]);
      for (const w of this.waiters.splice(0)) w();
    });
    socket.on("close", () => {
      this.closed = true;
      for (const w of this.waiters.splice(0)) w();
    });
    socket.on("error", () => {});
  }

  static open(port: number): Promise<Wire> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, "127.0.0.1", () => resolve(new Wire(socket)));
      socket.once("error", reject);
    });
  }

  send(body: Uint8Array): void {
    const size = Buffer.alloc(4);
    size.writeInt32BE(body.length);
    this.socket.write(Buffer.concat([size, body]));
  }

  request(
    apiKey: number,
    apiVersion: number,
    correlationId: number,
    body: Uint8Array,
    flexible = false,
  ): void {
    const head = header.encode(flexible ? 2 : 1, {
      requestApiKey: apiKey,
      requestApiVersion: apiVersion,
      correlationId,
      clientId: "wire-test",
    });
    this.send(Buffer.concat([head, body]));
  }

  /** The next response frame, or undefined once the server closed the connection. */
  async next(): Promise<Buffer | undefined> {
    for (;;) {
      if (this.buffered.length >= 4) {
        const size = this.buffered.readInt32BE(0);
        if (this.buffered.length >= 4 + size) {
          const frame = this.buffered.subarray(4, 4 + size);
          this.buffered = this.buffered.subarray(4 + size);
          return frame;
        }
      }
      if (this.closed) return undefined;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

let server: DevServer;
let port: number;

beforeAll(async () => {
  server = await startKafkaDevServer();
  port = server.kafka?.port as number;
});

afterAll(async () => {
  await server?.close();
});

describe("the Kafka listener", () => {
  it("answers pipelined requests in the order they were sent, even when the first is slower", async () => {
    const wire = await Wire.open(port);
    const metadata = new MessageCodec(MetadataRequest);
    // The first auto-creates ten topics (storage writes); the second needs nothing.
    wire.request(
      3,
      12,
      1,
      metadata.encode(12, { topics: Array.from({ length: 10 }, (_, i) => ({ name: `pipelined-${i}` })) }),
      true,
    );
    wire.request(18, 0, 2, new Uint8Array(0));
    const first = (await wire.next()) as Buffer;
    const second = (await wire.next()) as Buffer;
    expect(first.readInt32BE(0)).toBe(1);
    expect(second.readInt32BE(0)).toBe(2);
    // After the correlation id, the flexible header's empty tagged-field section (one byte).
    const decoded = new MessageCodec(MetadataResponse).decode(12, first.subarray(5));
    expect(decoded.topics.map((t) => [t.name, t.errorCode, t.partitions.length])).toEqual(
      Array.from({ length: 10 }, (_, i) => [`pipelined-${i}`, 0, 1]),
    );
    wire.close();
  });

  it("answers an ApiVersions it cannot read with v0, UNSUPPORTED_VERSION and the versions it serves", async () => {
    const wire = await Wire.open(port);
    wire.request(18, 99, 7, new Uint8Array([1, 2, 3]));
    const frame = (await wire.next()) as Buffer;
    expect(responseHeader.at(0).decode(new ByteReader(frame)).correlationId).toBe(7);
    const body = new MessageCodec(ApiVersionsResponse).decode(0, frame.subarray(4));
    expect(body.errorCode).toBe(35);
    expect(body.apiKeys).toContainEqual({ apiKey: 18, minVersion: 0, maxVersion: 4 });
    // The connection stays usable: the client retries with a version from the list.
    wire.request(18, 3, 8, new MessageCodec(ApiVersionsRequest).encode(3, {}), true);
    const retry = (await wire.next()) as Buffer;
    expect(retry.readInt32BE(0)).toBe(8);
    // ApiVersions answers with header v0 even at a flexible version.
    expect(new MessageCodec(ApiVersionsResponse).decode(3, retry.subarray(4)).errorCode).toBe(0);
    wire.close();
  });

  it("answers an API it does not serve with UNSUPPORTED_VERSION and keeps the connection", async () => {
    const wire = await Wire.open(port);
    wire.request(9999, 0, 11, new Uint8Array(0));
    const frame = (await wire.next()) as Buffer;
    expect(frame.readInt32BE(0)).toBe(11);
    expect(frame.readInt16BE(4)).toBe(35);
    wire.request(18, 0, 12, new Uint8Array(0));
    expect(((await wire.next()) as Buffer).readInt32BE(0)).toBe(12);
    wire.close();
  });

  it("closes only the connection that sends a frame over socket.request.max.bytes or one it cannot read", async () => {
    const bystander = await Wire.open(port);
    const oversized = await Wire.open(port);
    const size = Buffer.alloc(4);
    size.writeInt32BE(100 * 1024 * 1024 + 1);
    oversized.socket.write(size);
    expect(await oversized.next()).toBeUndefined();

    const malformed = await Wire.open(port);
    // A Metadata v1 whose topic count promises more than the frame holds.
    malformed.request(3, 1, 5, Buffer.from([0, 0, 0, 9]));
    expect(await malformed.next()).toBeUndefined();

    bystander.request(18, 0, 1, new Uint8Array(0));
    expect(((await bystander.next()) as Buffer).readInt32BE(0)).toBe(1);
    bystander.close();
  });
});

describe("stopping the Kafka listener", () => {
  it("answers a long-polling fetch at once instead of holding the shutdown for its wait", async () => {
    const own = await startDevServer({
      port: 0,
      storage: "memory",
      kafka: { port: 0 },
      maintenanceIntervalMs: 0,
      log: () => {},
    });
    let closed = false;
    try {
      await fetch(`${own.url}/v1/topics`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ name: "idle", partitions: 1 }),
      });
      const wire = await Wire.open(own.kafka?.port as number);
      // Waits up to 20 s (the cap) for a record that never comes; the test's timeout is shorter.
      const fetchRequest = new MessageCodec(FetchRequest).encode(11, {
        maxWaitMs: 20_000,
        minBytes: 1,
        topics: [{ topic: "idle", partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 1024 }] }],
      });
      wire.request(1, 11, 3, fetchRequest);
      // A request not yet read when the listener stops is never answered (nor is it in Kafka), so
      // give the server a moment to read this one before stopping.
      await new Promise((resolve) => setTimeout(resolve, 300));
      // Closing while the fetch waits: it is answered (with no records) and the close completes.
      const closing = own.close().then(() => {
        closed = true;
      });
      const answer = await wire.next();
      expect(answer?.readInt32BE(0)).toBe(3);
      await closing;
    } finally {
      if (!closed) await own.close();
    }
  }, 10_000);
});

describe("a client that reads slowly", () => {
  it("gets every pipelined answer, in order, once it reads again", async () => {
    await fetch(`${server.url}/v1/topics`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "large-records", partitions: 1 }),
    });
    const value = Buffer.alloc(700 * 1024, 7).toString("base64");
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`${server.url}/v1/topics/large-records/records?encoding=base64`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ records: [{ value, partition: 0 }] }),
      });
      expect(res.status).toBe(200);
    }
    const wire = await Wire.open(port);
    wire.socket.pause();
    // Ten answers of ~3.5 MiB each: far more than the socket buffers hold while nobody reads.
    const request = new MessageCodec(FetchRequest).encode(11, {
      maxWaitMs: 0,
      minBytes: 1,
      maxBytes: 8 * 1024 * 1024,
      topics: [
        {
          topic: "large-records",
          partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 8 * 1024 * 1024 }],
        },
      ],
    });
    for (let i = 0; i < 10; i++) wire.request(1, 11, 100 + i, request);
    await new Promise((resolve) => setTimeout(resolve, 300));
    wire.socket.resume();
    for (let i = 0; i < 10; i++) {
      const answer = (await wire.next()) as Buffer;
      expect(answer.readInt32BE(0)).toBe(100 + i);
      expect(answer.length).toBeGreaterThan(5 * 700 * 1024);
    }
    wire.close();
  });
});

describe("connections the Kafka listener does not keep", () => {
  it("answers an HTTP request on the Kafka port with a 400 that says where the HTTP API is", async () => {
    const res = await new Promise<string>((resolve, reject) => {
      const socket = connect(port, "127.0.0.1", () =>
        socket.write("GET /v1/topics HTTP/1.1\r\nHost: x\r\n\r\n"),
      );
      let text = "";
      socket.on("data", (c: Buffer) => {
        text += c.toString();
      });
      socket.on("close", () => resolve(text));
      socket.on("error", reject);
    });
    expect(res).toMatch(/^HTTP\/1\.1 400 Bad Request/);
    expect(res).toContain(
      `This port speaks the Kafka protocol, not HTTP. Floe's HTTP API is at ${server.url}.`,
    );
  });

  it("closes a connection idle for connections.max.idle.ms, and keeps one that is busy", async () => {
    const backend = await createBackend({ storage: "memory" });
    const broker = new Broker(backend);
    const listener = await startKafkaListener(
      {
        broker,
        groups: new GroupCoordinator({ meta: backend.meta, broker }),
        produce: (r) => broker.produce(r),
        clusterId: "idle-test",
      },
      { port: 0, apis: KAFKA_APIS, connectionsMaxIdleMs: 300 },
    );
    try {
      const idle = await Wire.open(listener.port);
      const busy = await Wire.open(listener.port);
      // The busy one asks something every 100 ms, well inside the idle time; the other says nothing.
      for (let i = 0; i < 8; i++) {
        busy.request(18, 0, i, new Uint8Array(0));
        expect(((await busy.next()) as Buffer).readInt32BE(0)).toBe(i);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(idle.closed).toBe(true);
      expect(busy.closed).toBe(false);
      busy.close();
    } finally {
      await listener.close();
      await backend.close();
    }
  });
});
