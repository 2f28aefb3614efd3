import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FloeClientError } from "../../../src/client/client-error.js";
import { Floe } from "../../../src/client/floe.js";
import type { ProducerOptions } from "../../../src/client/producer.js";
import { type DevServer, startDevServer } from "../../../src/server/dev-server.js";

/**
 * The idempotent producer end to end (issue 10, item 1): the client against a real dev server over
 * real HTTP, through a small HTTP proxy that loses answers or holds requests back, as a network does.
 */

interface Upstream {
  status: number;
  headers: Headers;
  body: Buffer;
}

interface Exchange {
  method: string;
  path: string;
  /** Produce requests (POST …/records) seen so far, this one included; 0 for others. */
  produceIndex: number;
  forward(): Promise<Upstream>;
  reply(answer: Upstream): void;
  /** Closes the connection without an answer (the client sees a network failure). */
  drop(): void;
}

interface Proxy {
  url: string;
  /**
   * Answers the proxy returned, in order: path, status and the error code if any (for a
   * multi-partition produce, also each partition's refusal, with the status it stands for).
   */
  answers: { path: string; status: number; code?: string }[];
  /** Produce requests received, retries included. */
  produces(): number;
  close(): Promise<void>;
}

async function startProxy(target: string, handle: (exchange: Exchange) => Promise<void>): Promise<Proxy> {
  let produces = 0;
  const answers: Proxy["answers"] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const path = req.url ?? "/";
      const isProduce = req.method === "POST" && /\/records$/.test(path.split("?")[0]);
      const exchange: Exchange = {
        method: req.method ?? "GET",
        path,
        produceIndex: isProduce ? ++produces : 0,
        async forward() {
          const headers: Record<string, string> = {};
          for (const name of ["content-type", "accept"]) {
            const value = req.headers[name];
            if (typeof value === "string") headers[name] = value;
          }
          const upstream = await fetch(target + path, {
            method: req.method,
            headers,
            body: body.length > 0 ? body : undefined,
          });
          return {
            status: upstream.status,
            headers: upstream.headers,
            body: Buffer.from(await upstream.arrayBuffer()),
          };
        },
        reply(answer) {
          let code: string | undefined;
          if (answer.status >= 400) code = JSON.parse(answer.body.toString()).error?.code;
          answers.push({ path, status: answer.status, code });
          // POST /v1/records answers 200 with each partition's own outcome: its refusals count too.
          if (answer.status === 200 && path === "/v1/records") {
            const { results } = JSON.parse(answer.body.toString()) as {
              results: { error?: { code: string; status: number } }[];
            };
            for (const r of results)
              if (r.error) answers.push({ path, status: r.error.status, code: r.error.code });
          }
          res.writeHead(answer.status, {
            "content-type": answer.headers.get("content-type") ?? "application/json",
          });
          res.end(answer.body);
        },
        drop() {
          req.socket.destroy();
        },
      };
      handle(exchange).catch((e: unknown) => {
        res.writeHead(502);
        res.end(String(e));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    answers,
    produces: () => produces,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

let server: DevServer;
let direct: Floe;
const proxies: Proxy[] = [];

beforeAll(async () => {
  server = await startDevServer({ port: 0, storage: "memory", log: () => {} });
  direct = new Floe({ url: server.url });
});

afterAll(async () => {
  await Promise.all(proxies.map((p) => p.close()));
  await server?.close();
});

let topics = 0;
async function topic(partitions = 1): Promise<string> {
  const name = `idem-client-${++topics}`;
  await direct.admin().createTopic({ topic: name, numPartitions: partitions });
  return name;
}

async function proxied(handle: (exchange: Exchange) => Promise<void>): Promise<Proxy> {
  const proxy = await startProxy(server.url, handle);
  proxies.push(proxy);
  return proxy;
}

/** Every value in the partition, in offset order. */
async function log(t: string, partition = 0): Promise<string[]> {
  const { records } = await direct.reader().fetch({ topic: t, partition, offset: 0, maxRecords: 1000 });
  return records.map((r) => r.value?.toString() ?? "<null>");
}

function client(proxy: Proxy, options: { requestTimeoutMs?: number; protocol?: "json" | "binary" } = {}) {
  return new Floe({
    url: proxy.url,
    requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
    protocol: options.protocol,
    retry: { retries: 5, initialRetryTime: 10, maxRetryTime: 50 },
  });
}

/** Sends each value as its own request (batchBytes 1), `maxInFlightRequests` at a time. */
async function sendEach(producer: ReturnType<Floe["producer"]>, t: string, values: string[]) {
  const answers = await Promise.all(
    values.map((value) => producer.send({ topic: t, messages: [{ key: "same", value }] })),
  );
  return answers.map(([m]) => m.offset);
}

describe.each(["binary", "json"] as const)("idempotent Producer over %s", (protocol) => {
  const options = (extra: ProducerOptions = {}): ProducerOptions => ({ batchBytes: 1, ...extra });

  it("retries a request whose answer was lost, and the log holds each record once, in order", async () => {
    const t = await topic();
    // The 2nd and 4th produce requests are appended by the server, but the answer never comes back.
    const proxy = await proxied(async (x) => {
      const answer = await x.forward();
      if (x.produceIndex === 2 || x.produceIndex === 4) x.drop();
      else x.reply(answer);
    });
    const producer = client(proxy, { protocol }).producer(options());
    const values = ["a", "b", "c", "d", "e"];
    const offsets: number[] = [];
    for (const value of values) offsets.push(...(await sendEach(producer, t, [value])));
    expect(offsets).toEqual([0, 1, 2, 3, 4]);
    expect(await log(t)).toEqual(values);
    // Both lost requests went again (and were answered with their original offsets).
    expect(proxy.produces()).toBe(7);
  });

  it("retries a request that timed out on the client while the server appended it", async () => {
    const t = await topic();
    // The first produce is appended, but its answer is held past the client's requestTimeoutMs.
    let release: () => void = () => {};
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const proxy = await proxied(async (x) => {
      const answer = await x.forward();
      if (x.produceIndex === 1) {
        await released;
        x.drop();
      } else x.reply(answer);
    });
    const producer = client(proxy, { protocol, requestTimeoutMs: 300 }).producer(options());
    const first = await sendEach(producer, t, ["one"]);
    release();
    const second = await sendEach(producer, t, ["two"]);
    expect([...first, ...second]).toEqual([0, 1]);
    expect(await log(t)).toEqual(["one", "two"]);
  });

  it("keeps order and appends once with 5 requests in flight, when a later request overtakes an earlier one", async () => {
    const t = await topic();
    // The first produce is held back until a later one has been answered, so the later one
    // reaches the server first and is refused as out of order, then resent.
    let overtaken: () => void = () => {};
    const later = new Promise<void>((resolve) => {
      overtaken = resolve;
    });
    const proxy = await proxied(async (x) => {
      if (x.produceIndex === 1) await later;
      const answer = await x.forward();
      x.reply(answer);
      if (x.produceIndex > 1) overtaken();
    });
    const producer = client(proxy, { protocol }).producer(options({ maxInFlightRequests: 5 }));
    const values = Array.from({ length: 25 }, (_, i) => `m${i}`);
    const offsets = await sendEach(producer, t, values);
    expect(offsets).toEqual(values.map((_, i) => i));
    expect(await log(t)).toEqual(values);
    expect(proxy.answers.some((a) => a.status === 409 && a.code === "OUT_OF_ORDER_SEQUENCE_NUMBER")).toBe(
      true,
    );
  });

  it("fences the older of two producers with the same transactionalId: its next send appends nothing and every later one fails", async () => {
    const t = await topic();
    const proxy = await proxied(async (x) => x.reply(await x.forward()));
    const floe = client(proxy, { protocol });
    const transactionalId = `tx-${protocol}`;
    const old = floe.producer(options({ transactionalId }));
    await sendEach(old, t, ["old-1"]);
    const young = floe.producer(options({ transactionalId }));
    await sendEach(young, t, ["young-1"]);

    const fenced = await old.send({ topic: t, messages: [{ key: "same", value: "old-2" }] }).catch((e) => e);
    expect(fenced).toBeInstanceOf(FloeClientError);
    expect(fenced).toMatchObject({ code: "INVALID_PRODUCER_EPOCH", status: 409 });
    const seen = proxy.answers.length;
    const again = await old.send({ topic: t, messages: [{ key: "same", value: "old-3" }] }).catch((e) => e);
    expect(again).toMatchObject({ code: "INVALID_PRODUCER_EPOCH" });
    expect(proxy.answers.length).toBe(seen);

    await sendEach(young, t, ["young-2"]);
    expect(await log(t)).toEqual(["old-1", "young-1", "young-2"]);
  });
});

describe("without idempotence", () => {
  it("appends a record twice when an answer is lost (what idempotence prevents)", async () => {
    const t = await topic();
    const proxy = await proxied(async (x) => {
      const answer = await x.forward();
      if (x.produceIndex === 1) x.drop();
      else x.reply(answer);
    });
    const producer = client(proxy).producer({ idempotent: false });
    await producer.send({ topic: t, messages: [{ value: "once" }] });
    expect(await log(t)).toEqual(["once", "once"]);
  });

  it("refuses more than 5 requests in flight with idempotence, and a transactionalId without it", () => {
    expect(() => direct.producer({ maxInFlightRequests: 6 })).toThrow(
      expect.objectContaining({ code: "INVALID_CONFIG" }),
    );
    expect(() => direct.producer({ idempotent: false, transactionalId: "x" })).toThrow(
      expect.objectContaining({ code: "INVALID_CONFIG" }),
    );
    expect(() => direct.producer({ idempotent: false, maxInFlightRequests: 6 })).not.toThrow();
  });
});
