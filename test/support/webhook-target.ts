/**
 * A real HTTP endpoint for the push-subscription tests and bench (issue 14): a node:http server that
 * records every delivery (headers, body, arrival time, what it answered) and checks each one with the
 * `standardwebhooks` package's Webhook.verify — an implementation of the Standard Webhooks check
 * independent of Floe's signer. What it answers is scripted per request: a status, a body (say
 * `batchItemFailures`), a delay, holding the request open, or cutting the connection; and the whole
 * endpoint can go down (its port closed, connections cut) and come back on the same port.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { Webhook } from "standardwebhooks";

/** Wall-clock milliseconds with sub-millisecond precision, the clock record timestamps are on. */
export function wallNow(): number {
  return performance.timeOrigin + performance.now();
}

/** One record as an HTTP target receives it: rendered as the JSON fetch API renders it (decision 0013 §8). */
export interface WebhookRecord {
  topic: string;
  partition: number;
  offset: number;
  timestamp: number;
  key: string | null;
  value: unknown;
  headers: Record<string, string | null>;
}

export interface Delivery {
  /** Arrival order at this target, from 0. */
  index: number;
  arrivedAt: number;
  headers: Record<string, string>;
  rawBody: string;
  /** The parsed body; undefined when it is not JSON. */
  body: { records?: WebhookRecord[] } | undefined;
  records: WebhookRecord[];
  /** Why Webhook.verify refused it; undefined when it verified. */
  verificationError: string | undefined;
  /** What the target answered; undefined while it is held, or when the connection was cut instead. */
  status: number | undefined;
  /** The body answered, when one was. */
  answer: unknown;
}

export type Reply =
  | { status?: number; body?: unknown; delayMs?: number }
  /** Keep the request open until release() or down(): a target that hangs. */
  | "hang"
  /** Cut the connection without answering. */
  | "destroy";

export type Behaviour = (delivery: Delivery, target: WebhookTarget) => Reply | Promise<Reply>;

const accept: Behaviour = () => ({ status: 200 });

function headersOf(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  return headers;
}

function readAll(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", () => resolve(undefined));
  });
}

/** The item identifier a batchItemFailures entry names a record by: Lambda's Kafka form. */
export function itemIdentifier(record: { topic: string; partition: number; offset: number }): string {
  return `${record.topic}-${record.partition}-${record.offset}`;
}

/**
 * The records a delivery's answer accepted: all of a 2xx answer's records, or with batchItemFailures
 * those before the lowest failed offset (the Kinesis and Kafka event sources' checkpoint rule);
 * none of an answer that was not 2xx or never came.
 */
export function acceptedRecords(delivery: Delivery): WebhookRecord[] {
  if (delivery.status === undefined || delivery.status < 200 || delivery.status > 299) return [];
  const failures = (delivery.answer as { batchItemFailures?: { itemIdentifier: string }[] } | undefined)
    ?.batchItemFailures;
  if (!failures || failures.length === 0) return delivery.records;
  const failed = new Set(failures.map((f) => f.itemIdentifier));
  const first = delivery.records.findIndex((r) => failed.has(itemIdentifier(r)));
  return first < 0 ? delivery.records : delivery.records.slice(0, first);
}

export class WebhookTarget {
  readonly deliveries: Delivery[] = [];
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly held = new Set<() => void>();
  private behaviour: Behaviour;
  private verifier: Webhook | undefined;
  private readonly listeners = new Set<() => void>();

  private constructor(
    readonly port: number,
    options: { behaviour?: Behaviour; secret?: string },
  ) {
    this.behaviour = options.behaviour ?? accept;
    if (options.secret) this.verifier = new Webhook(options.secret);
  }

  /** Listens on 127.0.0.1 (a free port unless one is given). */
  static async start(options: { behaviour?: Behaviour; secret?: string; port?: number } = {}) {
    const target = new WebhookTarget(options.port ?? 0, options);
    await target.listen(options.port ?? 0);
    return target;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/hook`;
  }

  /** The secret deliveries are verified with from now on (the subscription's, once it is created). */
  verifyWith(secret: string): void {
    this.verifier = new Webhook(secret);
  }

  behave(behaviour: Behaviour): void {
    this.behaviour = behaviour;
  }

  /** Every record the target accepted, in arrival order. */
  accepted(): WebhookRecord[] {
    return this.deliveries.flatMap(acceptedRecords);
  }

  /** Deliveries Webhook.verify refused. */
  unverified(): Delivery[] {
    return this.deliveries.filter((d) => d.verificationError !== undefined);
  }

  /** Answers every held request now (with 200 unless told), as a hanging target that recovers. */
  release(): void {
    for (const answer of [...this.held]) answer();
  }

  /** Resolves once `check` holds, re-checked at every delivery; a condition, never a speed. */
  until(what: string, check: () => boolean, timeoutMs = 45_000): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const listener = () => {
        if (!check()) return;
        clearTimeout(timer);
        this.listeners.delete(listener);
        resolve();
      };
      const timer = setTimeout(() => {
        this.listeners.delete(listener);
        reject(new Error(`timed out waiting until ${what} (${this.deliveries.length} deliveries so far)`));
      }, timeoutMs);
      this.listeners.add(listener);
    });
  }

  /** The endpoint goes away: its port closed, held requests and open connections cut. */
  async down(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    this.held.clear();
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  /** The endpoint comes back on the same port. */
  async up(): Promise<void> {
    if (!this.server) await this.listen(this.port);
  }

  async close(): Promise<void> {
    await this.down();
  }

  private async listen(port: number): Promise<void> {
    const server = createServer((req, res) => void this.serve(req, res));
    server.keepAliveTimeout = 65_000;
    server.on("connection", (socket) => {
      this.sockets.add(socket);
      socket.on("close", () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => {
        server.off("error", reject);
        resolve();
      });
    });
    (this as { port: number }).port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const arrivedAt = wallNow();
    const bytes = await readAll(req);
    if (bytes === undefined) return;
    const rawBody = bytes.toString("utf8");
    const headers = headersOf(req);
    let body: Delivery["body"];
    try {
      body = JSON.parse(rawBody);
    } catch {
      body = undefined;
    }
    let verificationError: string | undefined = "no secret to verify with";
    if (this.verifier) {
      try {
        this.verifier.verify(bytes, headers);
        verificationError = undefined;
      } catch (e) {
        verificationError = (e as Error).message;
      }
    }
    const delivery: Delivery = {
      index: this.deliveries.length,
      arrivedAt,
      headers,
      rawBody,
      body,
      records: Array.isArray(body?.records) ? body.records : [],
      verificationError,
      status: undefined,
      answer: undefined,
    };
    this.deliveries.push(delivery);
    let reply: Reply;
    try {
      reply = await this.behaviour(delivery, this);
    } catch (e) {
      reply = { status: 599, body: { error: (e as Error).message } };
    }
    if (reply === "destroy") {
      res.socket?.destroy();
      this.notify();
      return;
    }
    if (reply === "hang") {
      this.notify();
      await new Promise<void>((resolve) => {
        const answer = () => {
          this.held.delete(answer);
          resolve();
        };
        this.held.add(answer);
        res.once("close", answer);
      });
      if (res.destroyed || !this.server) return;
      reply = { status: 200 };
    }
    if (reply.delayMs) await new Promise((r) => setTimeout(r, reply.delayMs));
    if (res.destroyed) return;
    const status = reply.status ?? 200;
    const text = reply.body === undefined ? "" : JSON.stringify(reply.body);
    delivery.status = status;
    delivery.answer = reply.body;
    res.writeHead(status, text ? { "content-type": "application/json" } : {});
    res.end(text);
    this.notify();
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }
}
