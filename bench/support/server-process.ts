/**
 * `floe dev` for the benchmark, in its own process (so the server has a core of its own, as in a
 * real deployment) and with counting storage ports. It is assembled from exactly the parts
 * src/server/dev-server.ts uses (Broker, GroupCommitter with a batching profile, the API handler
 * chain, the same Lambda event translation); only the backend is wrapped in the counters, which
 * startDevServer has no hook for. Driven over IPC by bench/support/server-control.ts.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { Logger } from "@aws-lambda-powertools/logger";
import { createApiHandler } from "../../src/api/api-handler.js";
import { Broker } from "../../src/broker/broker.js";
import { GroupCommitter } from "../../src/broker/group-committer.js";
import { type BatchingProfileName, resolveBatching } from "../../src/server/batching-profile.js";
import { devBrokerOptions } from "../../src/server/dev-server.js";
import { toLambdaEvent, writeLambdaResult } from "../../src/server/lambda-event.js";
import { type BackendConfig, createBackend } from "../../src/storage/backend.js";
import { instrumentBackend } from "../../src/storage/instrumented.js";
import { replayWrites } from "./raw-baseline.js";

export interface ServerConfig {
  backend: BackendConfig;
  profile?: BatchingProfileName;
  lingerMs?: number;
  maxBatchBytes?: number;
}

export type Command =
  | { type: "counts" }
  | { type: "reset" }
  | { type: "baseline" }
  | { type: "compact"; segmentBytes: number }
  | { type: "close" };

const config = JSON.parse(process.env.FLOE_BENCH_SERVER ?? "{}") as ServerConfig;
const backend = await createBackend(config.backend);
const caller = new AsyncLocalStorage<string>();
/** How long ready work waited for the event loop: what a busy main thread costs every async step. */
const loopDelay = monitorEventLoopDelay({ resolution: 1 });
loopDelay.enable();
let cpuSince = process.cpuUsage();
let wallSince = performance.now();
const counted = instrumentBackend(backend, { recordWrites: true, label: () => caller.getStore() });
const broker = new Broker(counted.backend, devBrokerOptions());
const batching = resolveBatching(config);
const committer = new GroupCommitter(broker, {
  lingerMs: batching.lingerMs,
  maxBatchBytes: batching.maxBatchBytes,
});
const logger = new Logger({ serviceName: "floe-bench", logLevel: "ERROR" });
const handler = createApiHandler({ broker, produce: (r) => committer.produce(r), logger, routes: "all" });

/** Which side of the workload a request is, so storage calls are counted per side. */
function sideOf(req: IncomingMessage): string {
  const path = (req.url ?? "").split("?")[0];
  if (req.method === "POST" && path.endsWith("/records")) return "produce";
  if ((req.method === "GET" && path.endsWith("/records")) || path === "/v1/fetch") return "fetch";
  return "admin";
}

function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(chunks.length ? Buffer.concat(chunks) : undefined));
    req.on("error", reject);
  });
}

const server = createServer((req, res) => {
  readBody(req)
    .then((body) => caller.run(sideOf(req), () => handler(toLambdaEvent(req, body))))
    .then((result) => writeLambdaResult(res, result))
    .catch(() => res.destroy());
});
server.requestTimeout = 0;
server.keepAliveTimeout = 65_000;
await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
const { port } = server.address() as AddressInfo;

/** CPU time used since the last reset, in cores (1 = one core busy all the time). */
function cpuCores(): number {
  const used = process.cpuUsage(cpuSince);
  return (used.user + used.system) / 1000 / (performance.now() - wallSince);
}

async function handle(command: Command): Promise<unknown> {
  switch (command.type) {
    case "counts":
      return {
        total: counted.counts(),
        produce: counted.counts("produce"),
        fetch: counted.counts("fetch"),
        maintenance: counted.counts("maintenance"),
        groupCommit: committer.stats(),
        cpuCores: cpuCores(),
        eventLoopDelayMs: {
          p50: loopDelay.percentile(50) / 1e6,
          p99: loopDelay.percentile(99) / 1e6,
          max: loopDelay.max / 1e6,
        },
      };
    case "reset":
      counted.reset();
      loopDelay.reset();
      cpuSince = process.cpuUsage();
      wallSince = performance.now();
      return {};
    case "baseline":
      // Straight through the uncounted ports: the storage alone.
      return replayWrites(
        backend,
        counted.writes().filter((w) => w.kind === "put" || w.puts > 0),
      );
    case "compact":
      return caller.run("maintenance", () => compact(command.segmentBytes));
    case "close":
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await committer.close();
      await backend.close();
      return {};
  }
}

/** Compaction, if src/maintenance (being built concurrently) exports it yet. */
async function compact(segmentBytes: number): Promise<unknown> {
  let maintenance: { runMaintenanceOnce?: (options: unknown) => Promise<unknown> };
  // A computed specifier: the benchmark must typecheck and run whether or not the module exists yet.
  const specifier = new URL("../../src/maintenance/index.js", import.meta.url).href;
  try {
    maintenance = (await import(specifier)) as typeof maintenance;
  } catch (e) {
    return { available: false, reason: `src/maintenance does not load: ${(e as Error).message}` };
  }
  if (typeof maintenance.runMaintenanceOnce !== "function") {
    return { available: false, reason: "src/maintenance exports no runMaintenanceOnce" };
  }
  const reports: unknown[] = [];
  // Merges are bounded per pass; a few passes settle a partition written in small objects.
  for (let pass = 0; pass < 4; pass++) {
    reports.push(
      await maintenance.runMaintenanceOnce({ backend: counted.backend, segmentBytes, gcGraceMs: 0 }),
    );
  }
  return { available: true, reports };
}

process.on("message", (message: { id: number; command: Command }) => {
  handle(message.command)
    .then(
      (value) => process.send?.({ id: message.id, value }),
      (error: unknown) => process.send?.({ id: message.id, error: String((error as Error)?.stack ?? error) }),
    )
    .then(() => {
      if (message.command.type === "close") process.disconnect();
    });
});
// The benchmark is gone (finished or killed): nothing is left to serve.
process.on("disconnect", () => process.exit(0));
process.send?.({ type: "ready", url: `http://127.0.0.1:${port}`, batching });
