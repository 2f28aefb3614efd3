import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { Logger } from "@aws-lambda-powertools/logger";
import { createApiHandler } from "../api/api-handler.js";
import { errorResponse } from "../api/error-response.js";
import { loggableError } from "../api/loggable-error.js";
import { MAX_BODY_BYTES } from "../api/schemas.js";
import { Broker, type BrokerOptions } from "../broker/broker.js";
import { GroupCommitter } from "../broker/group-committer.js";
import { FloeError } from "../errors.js";
import { GroupCoordinator } from "../groups/coordinator.js";
import { startMaintenanceTimer } from "../maintenance/index.js";
import {
  type BackendConfig,
  backendConfigFromEnv,
  createBackend,
  DEFAULT_DATA_DIR,
} from "../storage/backend.js";
import { makeDirectory } from "../storage/make-directory.js";
import { Dispatcher } from "../subscriptions/dispatcher.js";
import { SubscriptionStore } from "../subscriptions/subscription-store.js";
import type { TargetFactory } from "../subscriptions/types.js";
import { DEFAULT_FLUSH_POLICY, describeFlushPolicy, type FlushPolicy } from "../storage/flush-policy.js";
import { type BatchingProfileName, formatByteSize, resolveBatching } from "./batching-profile.js";
import { toLambdaEvent, writeLambdaResult } from "./lambda-event.js";
import { subscriptionTargets } from "./subscription-targets.js";
import { KAFKA_APIS } from "../kafka/apis/index.js";
import { clusterIdOf } from "../kafka/cluster-id.js";
import { type KafkaListener, startKafkaListener } from "../kafka/listener.js";

export interface DevServerOptions {
  /** Default 8092 (Kafka's 9092, moved so both can run); 0 picks a free port. */
  port?: number;
  /** Default 127.0.0.1: a dev server is not meant to be reachable from the network. */
  host?: string;
  /** Default embedded (files + SQLite under dataDir). */
  storage?: "memory" | "embedded" | "aws";
  /** Default .floe, relative to the working directory. */
  dataDir?: string;
  /**
   * The embedded store's flush policy, Kafka's log.flush.interval.messages / log.flush.interval.ms
   * (flushPolicyOf reads them; decision 0010). Default Kafka's: never, the OS page cache.
   */
  flush?: FlushPolicy;
  /** Group-commit batching preset (default, low-latency, low-cost); lingerMs and maxBatchBytes override it. */
  profile?: BatchingProfileName;
  /** Group commit linger; default 5 ms (Kafka's linger.ms), or the profile's. */
  lingerMs?: number;
  /** A group-commit batch this large is written without waiting out the linger; default 4 MiB, or the profile's. */
  maxBatchBytes?: number;
  /** Kafka's auto.create.topics.enable; default true in `floe dev`. */
  autoCreateTopics?: boolean;
  /**
   * Kafka's group.consumer.session.timeout.ms: a member not heard from for this long is removed and
   * its partitions reassigned. Default 45000; members are asked to heartbeat every third of it, at
   * most every 5000 ms (group.consumer.heartbeat.interval.ms).
   */
  groupSessionTimeoutMs?: number;
  /**
   * How often compaction, retention and garbage collection run (architecture §7), as the scheduled
   * maintenance function does in AWS. Default 60000; 0 turns maintenance off.
   */
  maintenanceIntervalMs?: number;
  /**
   * The Kafka protocol listener (architecture §8): its port (Kafka's 9092 in the CLI; 0 picks a free
   * one) and host (default: the HTTP API's). Off when absent, so embedding the server in a test or a
   * program never takes 9092 by surprise.
   */
  kafka?: { port?: number; host?: string; advertisedHost?: string };
  /**
   * Whether the server delivers push subscriptions (architecture §14): a dispatcher runs once the
   * server listens, as a member of every subscription's consumer group. Default true; a test
   * embedding the server, or an agent leaving delivery to a deployed stack, may turn it off.
   */
  subscriptions?: boolean;
  /** Builds the subscriptions' targets; default HTTP(S) endpoints and Lambda functions via the AWS SDK. */
  subscriptionTargets?: TargetFactory;
  /** Where the banner and the closing note go; default stdout. */
  log?: (line: string) => void;
}

export interface DevServer {
  url: string;
  port: number;
  /** Where Kafka clients connect (`--bootstrap-server`), when the Kafka listener is on. */
  kafka?: { host: string; port: number; bootstrap: string };
  /** Stops accepting, answers every in-flight request, flushes the group commit, closes the backend. */
  close(): Promise<void>;
}

/**
 * A body over the limit is answered 413 at once and the rest of it read and discarded, up to this
 * much, so a client still sending sees the answer rather than a reset; past it the connection is cut.
 */
const DRAIN_LIMIT_BYTES = 64 * 1024 * 1024;

type BodyRead =
  | { kind: "body"; body: Buffer | undefined }
  /** Over MAX_BODY_BYTES: `bytes` is the declared length, or else what had arrived when the limit was passed. */
  | { kind: "tooLarge"; bytes: number; declared: boolean }
  /** The client went away before the body ended: nobody to answer. */
  | { kind: "gone" };

/**
 * How long a connection that passed the drain limit lingers, no longer read, before it is cut.
 * Closing a socket with unread bytes sends a reset, and a reset can discard the 413 the client has
 * received but not yet read (under load it had not, and saw only the reset); nginx's lingering
 * close waits for the same reason.
 */
const LINGER_MS = 2_000;

/** Reads and throws away the rest of a refused body; past the drain limit, stops reading and cuts the connection after LINGER_MS. */
function discardBody(req: IncomingMessage, alreadyRead: number): void {
  let bytes = alreadyRead;
  const discard = (chunk: Buffer) => {
    bytes += chunk.length;
    if (bytes <= DRAIN_LIMIT_BYTES) return;
    req.off("data", discard);
    req.pause();
    const socket = req.socket;
    const cut = setTimeout(() => socket.destroy(), LINGER_MS).unref();
    socket.once("close", () => clearTimeout(cut));
  };
  req.on("data", discard);
  req.on("error", () => {}); // a reset while discarding changes nothing: the answer is sent
  req.resume();
}

/**
 * The request body, or why there is none. Always settles — on the end, an abort or an error — so a
 * request never stays in flight (close() waits for those) however its client behaves.
 */
function readBody(req: IncomingMessage): Promise<BodyRead> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > MAX_BODY_BYTES) {
    // Known too large before a byte of it is read: answer now, do not buffer it.
    discardBody(req, 0);
    return Promise.resolve({ kind: "tooLarge", bytes: declared, declared: true });
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    let settled = false;
    const settle = (read: BodyRead) => {
      if (settled) return;
      settled = true;
      req.off("data", onData);
      resolve(read);
    };
    const onData = (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes <= MAX_BODY_BYTES) {
        chunks.push(chunk);
        return;
      }
      chunks.length = 0;
      settle({ kind: "tooLarge", bytes, declared: false });
      discardBody(req, bytes);
    };
    req.on("data", onData);
    req.on("end", () => settle({ kind: "body", body: chunks.length ? Buffer.concat(chunks) : undefined }));
    req.on("error", () => settle({ kind: "gone" }));
    req.on("close", () => settle({ kind: "gone" }));
  });
}

function backendConfig(options: DevServerOptions): BackendConfig {
  const storage = options.storage ?? "embedded";
  if (storage === "aws") {
    const config = backendConfigFromEnv();
    // Against an emulator (an endpoint is set) a missing bucket or table is created, as a developer
    // expects of LocalStack; real AWS gets them from the stack and is never created into.
    return {
      ...config,
      storage,
      createIfMissing: Boolean(config.s3Endpoint || config.dynamodbEndpoint),
      flush: options.flush, // refused by createBackend: S3 and DynamoDB take no flush policy
    };
  }
  if (storage === "embedded") {
    return { storage, dataDir: path.resolve(options.dataDir ?? DEFAULT_DATA_DIR), flush: options.flush };
  }
  return { storage, flush: options.flush };
}

function httpUrlOf(address: AddressInfo): string {
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return `http://${host}:${address.port}`;
}

/** The Broker `floe dev` runs (the benchmark's server process builds the same one). */
export function devBrokerOptions(options: { autoCreateTopics?: boolean } = {}): BrokerOptions {
  return {
    autoCreateTopics: options.autoCreateTopics ?? true,
    // One long-running process sees its producers' writes, so it keeps their sequence states as
    // Kafka's broker does instead of reading them on every append (decision 0008).
    producerStateCacheEntries: 100_000,
  };
}

/**
 * `floe dev`: the HTTP API from one Node process. Each request becomes an API Gateway v2 event and
 * runs through the same handler chain as the Lambda functions; produce requests are group-committed.
 */
export async function startDevServer(options: DevServerOptions = {}): Promise<DevServer> {
  const log = options.log ?? ((line: string) => console.log(line));
  const sessionTimeoutMs = options.groupSessionTimeoutMs ?? 45_000;
  // Checked before storage opens, so a bad value cannot leave it open.
  if (!Number.isInteger(sessionTimeoutMs) || sessionTimeoutMs < 2) {
    throw new FloeError(
      "INVALID_CONFIG",
      `groupSessionTimeoutMs must be an integer >= 2, got ${sessionTimeoutMs}.`,
    );
  }
  const config = backendConfig(options);
  if (config.storage === "embedded" && config.dataDir !== undefined) {
    // Made here, level by level: createBackend's recursive mkdir spins forever on Node 20 when the
    // directory cannot be made (--data-dir /proc/nope); this fails at once with the reason.
    try {
      await makeDirectory(config.dataDir);
    } catch (e) {
      throw new FloeError(
        "INVALID_CONFIG",
        `cannot create data directory ${config.dataDir}: ${(e as Error).message}`,
        { cause: e },
      );
    }
  }
  const backend = await createBackend(config);
  const broker = new Broker(backend, devBrokerOptions(options));
  const batching = resolveBatching(options);
  const committer = new GroupCommitter(broker, {
    lingerMs: batching.lingerMs,
    maxBatchBytes: batching.maxBatchBytes,
  });
  const logger = new Logger({
    serviceName: "floe",
    // Quiet by default: a request log on every call drowns a developer's terminal.
    logLevel: (process.env.POWERTOOLS_LOG_LEVEL ?? "WARN") as "WARN",
  });
  const groups = new GroupCoordinator({
    meta: backend.meta,
    broker,
    sessionTimeoutMs,
    heartbeatIntervalMs: Math.min(5_000, Math.max(1, Math.floor(sessionTimeoutMs / 3))),
  });
  const handler = createApiHandler({
    broker,
    produce: (r) => committer.produce(r),
    groups,
    logger,
    routes: "all",
  });

  const maintenanceIntervalMs = options.maintenanceIntervalMs ?? 60_000;
  const maintenance =
    maintenanceIntervalMs > 0
      ? startMaintenanceTimer({
          backend,
          intervalMs: maintenanceIntervalMs,
          onError: (error) => logger.error("maintenance slice failed", { error: loggableError(error) }),
        })
      : undefined;

  const inflight = new Set<Promise<void>>();
  let closing = false;

  const serve = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (closing) {
      res.setHeader("connection", "close");
      writeLambdaResult(
        res,
        errorResponse(
          new FloeError("NOT_LEADER_OR_FOLLOWER", "The server is shutting down; retry the request.", {
            retriable: true,
            fault: "server",
          }),
        ),
      );
      return;
    }
    const read = await readBody(req);
    if (read.kind === "gone") return;
    if (read.kind === "tooLarge") {
      // The connection cannot be reused while the rest of the body is still arriving.
      res.setHeader("connection", "close");
      writeLambdaResult(
        res,
        errorResponse(
          new FloeError(
            "MESSAGE_TOO_LARGE",
            `The request body is ${read.declared ? "" : "over "}${read.bytes} bytes; the limit is ${MAX_BODY_BYTES} bytes (Lambda's 6 MB payload). Send fewer records per request.`,
          ),
        ),
      );
      return;
    }
    // A client that gives up closes its connection: its produce must then never commit (decision 0008).
    const caller = new AbortController();
    res.once("close", () => {
      if (!res.writableFinished) caller.abort();
    });
    writeLambdaResult(
      res,
      await handler(toLambdaEvent(req, read.body), undefined, { signal: caller.signal }),
    );
  };

  const server = createServer((req, res) => {
    const done: Promise<void> = serve(req, res)
      .catch((e: unknown) => {
        // The chain answers every error itself; this is a broken connection or a bug in the adapter.
        logger.error("dev server could not answer a request", { error: loggableError(e) });
        if (!res.headersSent)
          writeLambdaResult(
            res,
            errorResponse(
              new FloeError("UNKNOWN_SERVER_ERROR", "An unexpected error occurred; it has been logged.", {
                fault: "server",
              }),
            ),
          );
        else res.destroy();
      })
      .finally(() => inflight.delete(done));
    inflight.add(done);
  });
  // A long-poll may hold a request for 20 s; Node's defaults would cut it or its keep-alive short.
  server.requestTimeout = 0;
  server.headersTimeout = 60_000;
  server.keepAliveTimeout = 65_000;

  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.port ?? 8092, options.host ?? "127.0.0.1", () => {
        server.off("error", reject);
        resolve();
      });
    });
  } catch (e) {
    // The listen error goes out as Node raised it (code EADDRINUSE, EACCES…): the CLI words it.
    await maintenance?.stop();
    await backend.close();
    throw e;
  }

  let kafka: KafkaListener | undefined;
  if (options.kafka) {
    try {
      kafka = await startKafkaListener(
        { broker, groups, produce: (r) => committer.produce(r), clusterId: clusterIdOf(config) },
        {
          host: options.kafka.host ?? options.host ?? "127.0.0.1",
          port: options.kafka.port ?? 9092,
          advertisedHost: options.kafka.advertisedHost,
          httpUrl: httpUrlOf(server.address() as AddressInfo),
          apis: KAFKA_APIS,
          warn: (message, detail) => logger.warn(message, detail),
        },
      );
    } catch (e) {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await maintenance?.stop();
      await backend.close();
      throw e;
    }
  }

  // Started once everything else is up: a delivery to the failure topic needs the broker, and a
  // target may call this server back.
  const dispatcher =
    (options.subscriptions ?? true)
      ? new Dispatcher({
          broker,
          groups,
          store: new SubscriptionStore(backend.meta),
          targets: options.subscriptionTargets ?? subscriptionTargets(),
          logger,
          // The coordinator's: a dispatcher cut off for half of it gives its partitions up first.
          sessionTimeoutMs,
        })
      : undefined;
  dispatcher?.start();

  const address = server.address() as AddressInfo;
  const url = httpUrlOf(address);
  log(`Floe dev server listening on ${url}`);
  log(
    `  storage: ${config.storage}${config.storage === "embedded" ? ` (data dir ${config.dataDir})` : config.storage === "aws" ? ` (bucket ${config.bucket}, table ${config.table})` : " (lost on exit)"}`,
  );
  if (config.storage === "embedded")
    log(`  durability: ${describeFlushPolicy(config.flush ?? DEFAULT_FLUSH_POLICY)}`);
  const customBatching =
    batching.profile !== "default" || options.lingerMs !== undefined || options.maxBatchBytes !== undefined;
  log(
    `  auto-create topics: ${(options.autoCreateTopics ?? true) ? "on" : "off"}; group commit linger: ${batching.lingerMs} ms` +
      (customBatching
        ? `, objects up to ${formatByteSize(batching.maxBatchBytes)} (profile ${batching.profile})`
        : ""),
  );
  log(
    `  maintenance (compaction, retention, GC): ${maintenance ? `every ${maintenanceIntervalMs / 1000} s` : "off"}`,
  );
  log(
    `  subscriptions: ${dispatcher ? "dispatcher running (delivers to HTTP endpoints and Lambda functions)" : "off (no deliveries from this server)"}`,
  );
  log(`  API: ${url}/v1/openapi.json`);
  const kafkaAddress = kafka && {
    host: kafka.host,
    port: kafka.port,
    bootstrap: `${kafka.host.includes(":") ? `[${kafka.host}]` : kafka.host}:${kafka.port}`,
  };
  log(
    kafkaAddress
      ? `  Kafka protocol: ${kafkaAddress.bootstrap} (--bootstrap-server ${kafkaAddress.bootstrap})`
      : "  Kafka protocol: off",
  );

  let closed: Promise<void> | undefined;
  const close = () => {
    closed ??= (async () => {
      closing = true;
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      while (inflight.size > 0) await Promise.allSettled([...inflight]);
      // Its batches in flight are committed and its groups left while storage is still open.
      await dispatcher?.stop();
      await kafka?.close();
      await committer.close();
      const s = committer.stats();
      log(
        `Floe dev server stopped: ${s.requests} produce requests group-committed as ${s.commits} commits, ${s.objects} objects`,
      );
      server.closeAllConnections();
      await stopped;
      await maintenance?.stop();
      await backend.close();
    })();
    return closed;
  };

  return { url, port: address.port, kafka: kafkaAddress, close };
}
