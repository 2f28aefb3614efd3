/**
 * Push-subscription delivery to an HTTP target (issue 14), at batch sizes 1 and 100:
 *
 *   npx tsx bench/subscriptions.ts [--records 20000] [--bytes 100] [--partitions 4]
 *     [--rate 200] [--seconds 10] [--batch-sizes 1,100] [--storage embedded|aws]
 *
 * One process: `floe dev` in-process (embedded backend, temp data dir; or `--storage aws`, the aws
 * backend on the tests' emulators, DynamoDB Local and s3rver, so every commit and fetch is a round
 * trip as in AWS) with its dispatcher, and an
 * HTTP endpoint that answers 200 at once (it parses each body for the record timestamps and checks
 * nothing else; signatures are the tests' business).
 *
 * - Throughput: `--records` records of `--bytes` bytes are produced as fast as the HTTP API takes
 *   them into a fresh topic, then a subscription is created at TRIM_HORIZON (window 0): records per
 *   second from its creation until the endpoint has every record — the dispatcher draining a backlog.
 * - Latency: a subscription at LATEST (window 0) on another fresh topic, records produced one per
 *   request at `--rate` per second for `--seconds`: append → target, each record's arrival at the
 *   endpoint minus its timestamp (set by the broker at append; both clocks are this process's).
 *
 * Prints the machine's load first and last: everything shares its cores.
 */
import { execFileSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { startDevServer } from "../src/server/dev-server.js";
import { startEmulators } from "./support/emulators.js";
import { round, Samples } from "./support/stats.js";

const { values: args } = parseArgs({
  options: {
    records: { type: "string", default: "20000" },
    bytes: { type: "string", default: "100" },
    partitions: { type: "string", default: "4" },
    rate: { type: "string", default: "200" },
    seconds: { type: "string", default: "10" },
    "batch-sizes": { type: "string", default: "1,100" },
    storage: { type: "string", default: "embedded" },
  },
});
if (args.storage !== "embedded" && args.storage !== "aws") throw new Error("--storage is embedded or aws");
const RECORDS = Number(args.records);
const BYTES = Number(args.bytes);
const PARTITIONS = Number(args.partitions);
const RATE = Number(args.rate);
const SECONDS = Number(args.seconds);
const BATCH_SIZES = args["batch-sizes"].split(",").map(Number);
/** Records per produce request while filling the backlog, and requests in flight. */
const FILL_PER_REQUEST = 500;
const FILL_IN_FLIGHT = 4;
/** How long a phase may take before the bench gives up on it. */
const PHASE_TIMEOUT_MS = 600_000;

const wallNow = () => performance.timeOrigin + performance.now();
const uptime = () => execFileSync("uptime").toString().trim();

/** The endpoint: 200 at once; counts records per topic and samples arrival − record timestamp. */
class BenchTarget {
  private server!: Server;
  readonly received = new Map<string, number>();
  readonly deliveries = new Map<string, number>();
  readonly lastArrival = new Map<string, number>();
  latency: Samples | undefined;

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const arrived = wallNow();
        res.writeHead(200).end();
        const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as {
          records: { topic: string; timestamp: number }[];
        };
        const topic = body.records[0]?.topic ?? "";
        this.received.set(topic, (this.received.get(topic) ?? 0) + body.records.length);
        this.deliveries.set(topic, (this.deliveries.get(topic) ?? 0) + 1);
        this.lastArrival.set(topic, arrived);
        for (const r of body.records) this.latency?.push(arrived - r.timestamp);
      });
    });
    this.server.keepAliveTimeout = 65_000;
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/bench`;
  }

  async until(topic: string, records: number): Promise<void> {
    const deadline = Date.now() + PHASE_TIMEOUT_MS;
    while ((this.received.get(topic) ?? 0) < records) {
      if (Date.now() > deadline) {
        throw new Error(`${topic}: ${this.received.get(topic) ?? 0} of ${records} records arrived`);
      }
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

async function call(base: string, method: string, p: string, body: unknown): Promise<unknown> {
  const res = await fetch(base + p, {
    method,
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${p}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

/** A JSON string value of `bytes` bytes once stored (its quotes included). */
const value = "x".repeat(Math.max(0, BYTES - 2));

async function fill(base: string, topic: string, count: number): Promise<number> {
  const start = wallNow();
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const n = Math.min(FILL_PER_REQUEST, count - next);
      const first = next;
      next += n;
      await call(base, "POST", `/v1/topics/${topic}/records`, {
        records: Array.from({ length: n }, (_, i) => ({ key: `k${(first + i) % 64}`, value })),
      });
    }
  };
  await Promise.all(Array.from({ length: FILL_IN_FLIGHT }, worker));
  return count / ((wallNow() - start) / 1000);
}

function subscription(name: string, topic: string, url: string, batchSize: number, startingPosition: string) {
  return {
    name,
    topics: [topic],
    target: { type: "http", url },
    batchSize,
    maximumBatchingWindowMs: 0,
    startingPosition,
  };
}

async function throughput(base: string, target: BenchTarget, url: string, batchSize: number) {
  const topic = `throughput-b${batchSize}`;
  await call(base, "POST", "/v1/topics", { name: topic, partitions: PARTITIONS });
  const produceRate = await fill(base, topic, RECORDS);
  const start = wallNow();
  await call(base, "POST", "/v1/subscriptions", subscription(topic, topic, url, batchSize, "TRIM_HORIZON"));
  await target.until(topic, RECORDS);
  const seconds = ((target.lastArrival.get(topic) ?? wallNow()) - start) / 1000;
  return {
    recordsPerSecond: RECORDS / seconds,
    seconds,
    deliveries: target.deliveries.get(topic) ?? 0,
    produceRate,
  };
}

async function latency(base: string, target: BenchTarget, url: string, batchSize: number) {
  const topic = `latency-b${batchSize}`;
  await call(base, "POST", "/v1/topics", { name: topic, partitions: PARTITIONS });
  await call(base, "POST", "/v1/subscriptions", subscription(topic, topic, url, batchSize, "LATEST"));
  // Let the dispatcher join the new subscription's group before the clock starts.
  await new Promise((r) => setTimeout(r, 3_000));
  const samples = new Samples();
  target.latency = samples;
  const total = Math.round(RATE * SECONDS);
  const start = wallNow();
  const sends: Promise<unknown>[] = [];
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / RATE;
    const wait = due - wallNow();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    sends.push(
      call(base, "POST", `/v1/topics/${topic}/records`, { records: [{ key: `k${i % 64}`, value }] }),
    );
  }
  await Promise.all(sends);
  await target.until(topic, total);
  target.latency = undefined;
  return { summary: samples.summary(), deliveries: target.deliveries.get(topic) ?? 0, total };
}

/** Points the aws backend's environment at the tests' emulators, with a fresh bucket and table. */
async function useEmulators(): Promise<() => Promise<void>> {
  const emulators = await startEmulators();
  const run = Date.now().toString(36);
  Object.assign(process.env, {
    FLOE_BUCKET: `bench-subscriptions-${run}`,
    FLOE_TABLE: `bench-subscriptions-${run}`,
    AWS_REGION: "us-east-1",
    AWS_ENDPOINT_URL_S3: emulators.s3Endpoint,
    AWS_ENDPOINT_URL_DYNAMODB: emulators.dynamodbEndpoint,
    AWS_ACCESS_KEY_ID: emulators.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: emulators.credentials.secretAccessKey,
  });
  return emulators.stop;
}

async function main(): Promise<void> {
  console.log(`uptime (start): ${uptime()}`);
  const storage = args.storage === "aws" ? "aws backend (DynamoDB Local + s3rver)" : "embedded backend";
  console.log(
    `node ${process.version}; floe dev in-process, ${storage}; ${PARTITIONS} partitions; records of ${BYTES} B; ` +
      `throughput over ${RECORDS} records; latency at ${RATE} records/s for ${SECONDS} s\n`,
  );
  const stopEmulators = args.storage === "aws" ? await useEmulators() : async () => {};
  const dataDir = await mkdtemp(path.join(tmpdir(), "floe-bench-subscriptions-"));
  const floe = await startDevServer({
    port: 0,
    dataDir,
    log: () => {},
    storage: args.storage as "embedded" | "aws",
  });
  const target = new BenchTarget();
  const url = await target.start();
  const rows: string[][] = [];
  try {
    for (const batchSize of BATCH_SIZES) {
      const t = await throughput(floe.url, target, url, batchSize);
      const l = await latency(floe.url, target, url, batchSize);
      rows.push([
        String(batchSize),
        String(round(t.recordsPerSecond)),
        String(round(t.seconds)),
        String(round(RECORDS / t.deliveries)),
        String(round(l.summary.p50)),
        String(round(l.summary.p99)),
        String(round(l.summary.max)),
        String(round(l.total / l.deliveries)),
      ]);
      console.error(`batch ${batchSize}: backlog filled at ${round(t.produceRate)} records/s`);
    }
  } finally {
    await target.close();
    await floe.close();
    await rm(dataDir, { recursive: true, force: true });
    await stopEmulators();
  }
  const header = [
    "batchSize",
    "records/s",
    "drain s",
    "recs/delivery",
    "e2e p50 ms",
    "e2e p99 ms",
    "e2e max ms",
    "recs/delivery @rate",
  ];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i])).join("  ");
  console.log(line(header));
  for (const r of rows) console.log(line(r));
  console.log(`\nuptime (end): ${uptime()}`);
}

await main();
// Everything is printed and closed: exit without waiting on timers the embedded server may leave.
process.exit(0);
