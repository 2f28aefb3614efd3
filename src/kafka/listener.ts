import { createServer, type Server, type Socket } from "node:net";
import { ByteReader } from "../log/byte-reader.js";
import { ERROR_NUMBERS, errorMessage, errorNumber } from "./error-codes.js";
import {
  type AdvertisedNode,
  type KafkaApi,
  type KafkaCore,
  NO_RESPONSE,
  type RequestContext,
} from "./kafka-api.js";
import { ChunkWriter } from "./protocol/codec.js";
import { RequestHeader, ResponseHeader } from "./protocol/messages/headers.js";
import { MessageCodec } from "./protocol/codec.js";
import { ApiVersionsResponse } from "./protocol/messages/api-versions.js";
import { servedVersions } from "./apis/cluster-apis.js";

export interface KafkaListenerOptions {
  /** Default 127.0.0.1, like `floe dev`'s HTTP API. */
  host?: string;
  /** Default 9092 (Kafka's); 0 picks a free port. */
  port?: number;
  /** Kafka's advertised.listeners host: what Metadata tells clients to connect to. Default the bound host (127.0.0.1 for 0.0.0.0). */
  advertisedHost?: string;
  /** Kafka's advertised port; default the bound port. */
  advertisedPort?: number;
  /** Kafka's node.id; default 1. */
  nodeId?: number;
  /** Kafka's socket.request.max.bytes: a larger frame closes that connection. Default 100 MiB. */
  socketRequestMaxBytes?: number;
  /** Kafka's queued.max.requests, per connection here: past it the connection stops being read. Default 100. */
  queuedMaxRequests?: number;
  /** Kafka's connections.max.idle.ms: a connection with nothing in flight for this long is closed. Default 600000. */
  connectionsMaxIdleMs?: number;
  /** Where the HTTP API is, for the answer to an HTTP request sent to the Kafka port by mistake. */
  httpUrl?: string;
  apis: readonly KafkaApi[];
  /** Connection-level problems (a malformed frame, an oversized one); default silent. */
  warn?: (message: string, detail: Record<string, unknown>) => void;
}

export interface KafkaListener {
  host: string;
  port: number;
  /** Stops accepting, answers every request already read, then closes every connection. */
  close(): Promise<void>;
}

const requestHeader = new MessageCodec(RequestHeader);
const responseHeader = new MessageCodec(ResponseHeader);
const apiVersionsResponse = new MessageCodec(ApiVersionsResponse);
const API_VERSIONS_KEY = 18;

/** An answer waiting its turn: Kafka clients match responses to requests by order on a connection. */
interface Pending {
  done: Promise<Uint8Array[] | undefined>;
  /** Settles the listener's count of unanswered requests once the answer is on the socket. */
  written: () => void;
}

/**
 * The Kafka protocol over TCP (architecture §12): frames in, one handler per API over the same
 * Broker and coordinator as the HTTP API, frames out in request order. Requests on a connection
 * run concurrently (a long-polling fetch does not hold up a heartbeat behind it) but start in
 * arrival order, so produce requests reach the group commit in the order the client sent them.
 */
export async function startKafkaListener(
  core: Omit<KafkaCore, "node">,
  options: KafkaListenerOptions,
): Promise<KafkaListener> {
  const host = options.host ?? "127.0.0.1";
  const maxFrame = options.socketRequestMaxBytes ?? 100 * 1024 * 1024;
  const queuedMax = options.queuedMaxRequests ?? 100;
  const idleMs = options.connectionsMaxIdleMs ?? 600_000;
  const warn = options.warn ?? (() => {});
  const byKey = new Map(options.apis.map((api) => [api.apiKey, api]));
  const sockets = new Set<Socket>();
  const inflight = new Set<Promise<unknown>>();
  const stopping = new AbortController();
  let node: AdvertisedNode = { nodeId: options.nodeId ?? 1, host, port: 0 };
  const fullCore: KafkaCore = { ...core, node: () => node };

  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.setNoDelay(true);
    // Idle means no bytes either way; a long-poll in flight is not idle, however quiet.
    socket.setTimeout(idleMs, () => {
      if (queue.length === 0) socket.destroy();
    });
    const closed = new AbortController();
    const queue: Pending[] = [];
    let buffered: Buffer[] = [];
    let bufferedBytes = 0;
    let writing = false;

    const drain = async () => {
      if (writing) return;
      writing = true;
      try {
        while (queue.length > 0) {
          const chunks = await queue[0].done;
          const { written } = queue.shift() as Pending;
          if (chunks && !socket.destroyed) {
            socket.cork();
            for (const c of chunks) socket.write(c);
            socket.uncork();
            // A client reading slowly holds its answers in our memory: wait for it before writing
            // the next one, so at most one answer beyond the socket's buffer is held per connection.
            if (socket.writableNeedDrain) await waitForDrain(socket);
          }
          written();
          if (socket.isPaused() && queue.length < queuedMax && !stopping.signal.aborted) socket.resume();
        }
      } finally {
        writing = false;
      }
    };

    const onFrame = (frame: Buffer) => {
      const done = answer(frame, fullCore, byKey, options.apis, {
        signal: closed.signal,
        stopping: stopping.signal,
      }).catch((e: unknown) => {
        warn("Kafka connection closed: a request could not be read", {
          remote: socket.remoteAddress,
          error: errorMessage(e),
        });
        socket.destroy();
        return undefined;
      });
      let written = () => {};
      const answered = new Promise<void>((resolve) => {
        written = resolve;
      });
      inflight.add(answered);
      void answered.then(() => inflight.delete(answered));
      queue.push({ done, written });
      if (queue.length >= queuedMax) socket.pause();
      void drain();
    };

    socket.on("data", (chunk: Buffer) => {
      buffered.push(chunk);
      bufferedBytes += chunk.length;
      while (bufferedBytes >= 4) {
        if (buffered[0].length < 4) buffered = [Buffer.concat(buffered)];
        const size = buffered[0].readInt32BE(0);
        if (looksLikeHttp(buffered[0])) {
          // curl or a browser pointed at 9092: say where the HTTP API is instead of "frame too large".
          const where = options.httpUrl ? ` Floe's HTTP API is at ${options.httpUrl}.` : "";
          socket.end(
            `HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nThis port speaks the Kafka protocol, not HTTP.${where}\n`,
          );
          buffered = [];
          bufferedBytes = 0;
          return;
        }
        if (size < 0 || size > maxFrame) {
          warn("Kafka connection closed: frame larger than socket.request.max.bytes", {
            remote: socket.remoteAddress,
            size,
            socketRequestMaxBytes: maxFrame,
          });
          socket.destroy();
          return;
        }
        // Joined once, when the whole frame is here: a large produce arriving in many chunks is
        // copied once, not once per chunk.
        if (bufferedBytes < 4 + size) return;
        const head = buffered.length === 1 ? buffered[0] : Buffer.concat(buffered);
        const frame = head.subarray(4, 4 + size);
        const rest = head.subarray(4 + size);
        buffered = rest.length > 0 ? [rest] : [];
        bufferedBytes = rest.length;
        onFrame(frame);
      }
    });
    socket.on("error", () => {});
    socket.on("close", () => {
      closed.abort();
      // Nothing more can be written: whatever is queued counts as answered.
      for (const pending of queue) void pending.done.then(pending.written);
      sockets.delete(socket);
    });
  });

  const port = await new Promise<number>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 9092, host, () => {
      server.off("error", reject);
      resolve((server.address() as { port: number }).port);
    });
  });
  const advertisedHost = options.advertisedHost ?? (host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host);
  node = { nodeId: node.nodeId, host: advertisedHost, port: options.advertisedPort ?? port };

  return {
    host,
    port,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Stop reading; requests already read are answered below, long-polls at once.
        for (const s of sockets) s.pause();
        stopping.abort();
        void (async () => {
          while (inflight.size > 0) await Promise.allSettled([...inflight]);
          for (const s of sockets) s.end();
          setTimeout(() => {
            for (const s of sockets) s.destroy();
          }, 1_000).unref();
        })();
      });
    },
  };
}

function waitForDrain(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      socket.off("drain", done);
      socket.off("close", done);
      resolve();
    };
    socket.on("drain", done);
    socket.on("close", done);
  });
}

const HTTP_METHODS = ["GET ", "POST", "PUT ", "HEAD", "DELE", "PATC", "OPTI"];

/** The first four bytes of an HTTP request, read as a Kafka frame size, would be ~1.2 GB: never a frame. */
function looksLikeHttp(first: Buffer): boolean {
  return HTTP_METHODS.includes(first.toString("latin1", 0, 4));
}

/** Decodes one request, runs its handler, encodes the response frame (undefined: none is sent). */
async function answer(
  frame: Buffer,
  core: KafkaCore,
  byKey: Map<number, KafkaApi>,
  served: readonly KafkaApi[],
  signals: Pick<RequestContext, "signal" | "stopping">,
): Promise<Uint8Array[] | undefined> {
  const peek = new ByteReader(frame);
  const apiKey = peek.int16("request api key");
  const apiVersion = peek.int16("request api version");
  const api = byKey.get(apiKey);
  const supported = api?.request.supports(apiVersion) ?? false;
  const flexible = api && supported ? api.request.at(apiVersion).flexible : false;
  const reader = new ByteReader(frame);
  const header = requestHeader.at(flexible ? 2 : 1).decode(reader);

  if (!api || !supported) {
    // ApiVersions at a version we do not know: Kafka answers v0 with UNSUPPORTED_VERSION and the
    // list, and the client retries with a version from it. Anything else: UNSUPPORTED_VERSION as the
    // first field, which is where every response we could be asked for puts its code or throttle.
    if (apiKey === API_VERSIONS_KEY) {
      const out = new ChunkWriter();
      apiVersionsResponse
        .at(0)
        .encode(out, { errorCode: ERROR_NUMBERS.UNSUPPORTED_VERSION, apiKeys: servedVersions(served) });
      return frameOf(header.correlationId, false, out.finish());
    }
    const body = Buffer.alloc(2);
    body.writeInt16BE(ERROR_NUMBERS.UNSUPPORTED_VERSION);
    return frameOf(header.correlationId, false, [body]);
  }

  const codec = api.request.at(apiVersion);
  const request = codec.decode(reader);
  const ctx: RequestContext = { core, apiVersion, clientId: header.clientId, ...signals, served };
  let response: unknown;
  try {
    response = await api.handle(request as never, ctx);
  } catch (e) {
    const fallback = api.errorResponse ?? genericErrorResponse(api);
    response = fallback(request as never, errorNumber(e), errorMessage(e));
  }
  if (response === NO_RESPONSE) return undefined;
  const out = new ChunkWriter();
  api.response.at(apiVersion).encode(out, response as never);
  // ApiVersions answers with header v0 whatever its version, so any client can read it.
  return frameOf(header.correlationId, flexible && apiKey !== API_VERSIONS_KEY, out.finish());
}

function genericErrorResponse(api: KafkaApi) {
  const hasCode = api.response.spec.fields.some((f) => f.name === "errorCode");
  if (!hasCode) {
    return () => {
      throw new Error(`${api.name} failed and has no error response`);
    };
  }
  return (_request: unknown, errorCode: number, message: string | null) =>
    ({ errorCode, errorMessage: message }) as never;
}

function frameOf(correlationId: number, flexibleHeader: boolean, body: Uint8Array[]): Uint8Array[] {
  const head = new ChunkWriter();
  head.w.int32(0); // the size, set below
  responseHeader.at(flexibleHeader ? 1 : 0).encode(head, { correlationId });
  const [headBytes] = head.finish();
  const size = headBytes.length - 4 + body.reduce((n, b) => n + b.length, 0);
  new DataView(headBytes.buffer, headBytes.byteOffset, 4).setInt32(0, size);
  return [headBytes, ...body];
}
