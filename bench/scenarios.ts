/**
 * The benchmark's scenarios: what each one runs and what it measures. Every scenario starts a
 * fresh server (bench/support/server-process.ts) on its own data, runs producers with long-polling
 * tail consumers, reads the storage work the instrumented ports counted, optionally replays the
 * same writes straight through the storage (the raw baseline), and optionally restarts the server
 * cold to measure a consumer catching up.
 */
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Floe } from "../src/client/floe.js";
import type { WireProtocol } from "../src/client/http-transport.js";
import type { BatchingProfileName, ResolvedBatching } from "../src/server/batching-profile.js";
import type { BackendConfig } from "../src/storage/backend.js";
import type { StorageCounts } from "../src/storage/instrumented.js";
import { catchUp, highWatermarks, runProducers, TailConsumers } from "./support/load.js";
import { type CpuPressure, cpuPressure } from "./support/machine.js";
import type { BaselineResult } from "./support/raw-baseline.js";
import { BenchServer, type ServerCounts } from "./support/server-control.js";
import { type LatencySummary, MiB, mibPerSecond, perGiB, perMillion } from "./support/stats.js";

export type BackendName = "embedded" | "aws";

export interface Emulators {
  s3Endpoint: string;
  dynamodbEndpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
}

export interface ScenarioSpec {
  name: string;
  description: string;
  backend: BackendName;
  batching: { profile?: BatchingProfileName; lingerMs?: number; maxBatchBytes?: number };
  protocol: WireProtocol;
  producers: number;
  /** Back to back: sends each producer keeps outstanding. */
  sendsInFlight: number;
  /** The client Producer's settings: Kafka's max.in.flight.requests.per.connection, batch.size, enable.idempotence. */
  producer: { maxInFlightRequests: number; batchBytes: number; idempotent: boolean };
  recordBytes: number;
  recordsPerRequest: number;
  partitions: number;
  durationMs: number;
  /** Open loop: payload bytes per second, or half of what this configuration peaks at (measured first). */
  rate?: number | "half-peak";
  /** How long the peak is probed for, when rate is "half-peak". */
  peakProbeMs?: number;
  /** Load run and discarded first, so neither process is measured while its JIT is cold. */
  warmupMs: number;
  baseline?: boolean;
  /** Restart the server (cold caches) and read everything back. */
  catchUp?: boolean;
  /** Run compaction (src/maintenance) before the catch-up read. */
  compact?: boolean;
}

export interface PhaseStorage {
  objectPuts: number;
  objectPutBytes: number;
  objectGets: number;
  objectGetBytes: number;
  metaReads: number;
  metaItemsWritten: number;
  metaCommits: number;
  readUnits: number;
  writeUnits: number;
  /** Time spent inside storage calls, summed over concurrent calls (ms). */
  objectPutMs: number;
  objectGetMs: number;
  metaReadMs: number;
  metaTransactMs: number;
  /** Units DynamoDB itself reported (aws backend), else null. */
  reportedReadUnits: number | null;
  reportedWriteUnits: number | null;
}

export interface ScenarioResult {
  name: string;
  /** Which run of a repeated scenario (1-based). */
  run?: number;
  description: string;
  backend: BackendName;
  batching: ResolvedBatching;
  protocol: WireProtocol;
  params: {
    producers: number;
    sendsInFlight: number;
    producer: { maxInFlightRequests: number; batchBytes: number; idempotent: boolean };
    recordBytes: number;
    recordsPerRequest: number;
    partitions: number;
    durationSec: number;
    targetMiBPerSec: number | null;
  };
  peakProbe?: { mibPerSec: number; recordsPerSec: number };
  produce: {
    requests: number;
    records: number;
    bytes: number;
    seconds: number;
    recordsPerSec: number;
    mibPerSec: number;
    failures: number;
    firstError?: string;
    late: number;
    ack: LatencySummary;
  };
  endToEnd: LatencySummary | null;
  tailConsume: { records: number; seconds: number; mibPerSec: number } | null;
  groupCommit: { requests: number; commits: number; objects: number; avgObjectMiB: number };
  /** The server's event-loop delay while producing: time ready work waited for the main thread. */
  eventLoopDelayMs: { p50: number; p99: number; max: number };
  /** CPU used while producing, in cores: the server's process, and the benchmark's (producers and consumers). */
  cpuCores: { server: number; clients: number };
  /** The machine's CPU pressure right after producing: how much everything, ours and others', waited for a core. */
  cpuPressure: CpuPressure | null;
  /** Per GiB of payload ingested and per million records: the produce side's storage work. */
  ingest: { total: PhaseStorage; perGiB: PhaseStorage; perMillionRecords: PhaseStorage };
  /** The tail consumers' storage work during the run, per GiB they received. */
  tailFetch: { total: PhaseStorage; perGiBDelivered: PhaseStorage } | null;
  baseline: (BaselineResult & { mibPerSec: number; ratio: number }) | null;
  compaction: { available: boolean; reason?: string; storage?: PhaseStorage } | null;
  catchUp: {
    records: number;
    bytes: number;
    seconds: number;
    recordsPerSec: number;
    mibPerSec: number;
    fetches: number;
    total: PhaseStorage;
    perGiBDelivered: PhaseStorage;
  } | null;
}

function phase(counts: StorageCounts): PhaseStorage {
  const { objects, meta } = counts;
  const reported = meta.reportedCalls > 0;
  return {
    objectPuts: objects.puts,
    objectPutBytes: objects.putBytes,
    objectGets: objects.gets,
    objectGetBytes: objects.getBytes,
    metaReads: meta.gets + meta.queries,
    metaItemsWritten: meta.itemsWritten,
    metaCommits: meta.transacts,
    readUnits: meta.modelledReadUnits,
    writeUnits: meta.modelledWriteUnits,
    objectPutMs: objects.putMs,
    objectGetMs: objects.getMs,
    metaReadMs: meta.readMs,
    metaTransactMs: meta.transactMs,
    reportedReadUnits: reported ? meta.reportedReadUnits : null,
    reportedWriteUnits: reported ? meta.reportedWriteUnits : null,
  };
}

function scale(p: PhaseStorage, f: (n: number) => number): PhaseStorage {
  const out = { ...p };
  for (const key of Object.keys(out) as (keyof PhaseStorage)[]) {
    const v = out[key];
    if (v !== null) out[key] = f(v);
  }
  return out;
}

function backendConfig(
  backend: BackendName,
  dataDir: string,
  aws: { bucket: string; table: string },
  emulators?: Emulators,
): BackendConfig {
  if (backend === "embedded") return { storage: "embedded", dataDir };
  if (!emulators) throw new Error("the aws backend needs the emulators");
  return {
    storage: "aws",
    bucket: aws.bucket,
    table: aws.table,
    region: emulators.region,
    s3Endpoint: emulators.s3Endpoint,
    dynamodbEndpoint: emulators.dynamodbEndpoint,
    credentials: emulators.credentials,
    createIfMissing: true,
  };
}

export interface RunContext {
  emulators?: Emulators;
  cpuProfileDir?: string;
  log: (line: string) => void;
}

export async function runScenario(spec: ScenarioSpec, ctx: RunContext): Promise<ScenarioResult> {
  const dataDir = await mkdtemp(path.join(tmpdir(), "floe-bench-"));
  const unique = randomUUID().replaceAll("-", "").slice(0, 16);
  const config = {
    backend: backendConfig(
      spec.backend,
      dataDir,
      { bucket: `bench-${unique}`, table: `bench-${unique}` },
      ctx.emulators,
    ),
    ...spec.batching,
  };
  let server = await BenchServer.start(config, { cpuProfileDir: ctx.cpuProfileDir });
  try {
    const topic = `bench-${spec.name}`;
    await new Floe({ url: server.url }).admin().createTopic({ topic, numPartitions: spec.partitions });
    const load = {
      url: server.url,
      topic,
      partitions: spec.partitions,
      producers: spec.producers,
      sendsInFlight: spec.sendsInFlight,
      producer: spec.producer,
      recordBytes: spec.recordBytes,
      recordsPerRequest: spec.recordsPerRequest,
      protocol: spec.protocol,
    };

    let rate = typeof spec.rate === "number" ? spec.rate : undefined;
    await runProducers({ ...load, durationMs: spec.warmupMs, rateBytesPerSecond: rate });
    let peakProbe: ScenarioResult["peakProbe"];
    if (spec.rate === "half-peak") {
      const probe = await runProducers({ ...load, durationMs: spec.peakProbeMs ?? 5000 });
      peakProbe = {
        mibPerSec: mibPerSecond(probe.bytes, probe.seconds),
        recordsPerSec: probe.records / probe.seconds,
      };
      rate = probe.bytes / probe.seconds / 2;
      ctx.log(
        `  ${spec.name}: peak ${peakProbe.mibPerSec.toFixed(1)} MiB/s, measuring at half: ${(rate / MiB).toFixed(1)} MiB/s`,
      );
    }

    const from = await highWatermarks(server.url, topic);
    await server.reset();
    const clientCpu = process.cpuUsage();
    const clientWall = performance.now();
    const tail = new TailConsumers(server.url, topic, from);
    const produced = await runProducers({ ...load, durationMs: spec.durationMs, rateBytesPerSecond: rate });
    const until = await highWatermarks(server.url, topic);
    const tailed = await tail.finish(until, 30_000);
    const counts: ServerCounts = await server.counts();
    const pressure = cpuPressure();
    const clientUsed = process.cpuUsage(clientCpu);
    const clientCores = (clientUsed.user + clientUsed.system) / 1000 / (performance.now() - clientWall);
    const baseline = spec.baseline ? await server.baseline() : null;

    let compaction: ScenarioResult["compaction"] = null;
    if (spec.compact) {
      await server.reset();
      const result = await server.compact(8 * MiB);
      compaction = result.available
        ? { available: true, storage: phase((await server.counts()).maintenance) }
        : { available: false, reason: result.reason };
      if (!result.available) ctx.log(`  ${spec.name}: no compaction (${result.reason})`);
    }

    let catchUpResult: ScenarioResult["catchUp"] = null;
    if (spec.catchUp) {
      // A new process on the same data: nothing cached, every chunk comes from storage.
      await server.close();
      server = await BenchServer.start(config);
      await server.reset();
      const read = await catchUp(server.url, topic, from, until);
      const fetched = phase((await server.counts()).fetch);
      catchUpResult = {
        records: read.records,
        bytes: read.bytes,
        seconds: read.seconds,
        recordsPerSec: read.records / read.seconds,
        mibPerSec: mibPerSecond(read.bytes, read.seconds),
        fetches: read.fetches,
        total: fetched,
        perGiBDelivered: scale(fetched, (n) => perGiB(n, read.bytes)),
      };
    }

    const ingest = phase(counts.produce);
    const tailFetch = phase(counts.fetch);
    const gc = counts.groupCommit;
    return {
      name: spec.name,
      description: spec.description,
      backend: spec.backend,
      batching: server.batching,
      protocol: spec.protocol,
      params: {
        producers: spec.producers,
        sendsInFlight: spec.sendsInFlight,
        producer: spec.producer,
        recordBytes: spec.recordBytes,
        recordsPerRequest: spec.recordsPerRequest,
        partitions: spec.partitions,
        durationSec: spec.durationMs / 1000,
        targetMiBPerSec: rate === undefined ? null : rate / MiB,
      },
      peakProbe,
      produce: {
        requests: produced.requests,
        records: produced.records,
        bytes: produced.bytes,
        seconds: produced.seconds,
        recordsPerSec: produced.records / produced.seconds,
        mibPerSec: mibPerSecond(produced.bytes, produced.seconds),
        failures: produced.failures,
        firstError: produced.firstError,
        late: produced.late,
        ack: produced.ack.summary(),
      },
      endToEnd: tailed.endToEnd.count > 0 ? tailed.endToEnd.summary() : null,
      tailConsume: {
        records: tailed.records,
        seconds: tailed.seconds,
        mibPerSec: mibPerSecond(tailed.bytes, tailed.seconds),
      },
      groupCommit: {
        requests: gc.requests,
        commits: gc.commits,
        objects: gc.objects,
        avgObjectMiB: ingest.objectPuts > 0 ? ingest.objectPutBytes / ingest.objectPuts / MiB : 0,
      },
      eventLoopDelayMs: counts.eventLoopDelayMs,
      cpuCores: { server: counts.cpuCores, clients: clientCores },
      cpuPressure: pressure,
      ingest: {
        total: ingest,
        perGiB: scale(ingest, (n) => perGiB(n, produced.bytes)),
        perMillionRecords: scale(ingest, (n) => perMillion(n, produced.records)),
      },
      tailFetch: { total: tailFetch, perGiBDelivered: scale(tailFetch, (n) => perGiB(n, tailed.bytes)) },
      baseline: baseline
        ? {
            ...baseline,
            mibPerSec: mibPerSecond(produced.bytes * baseline.repeats, baseline.seconds),
            ratio: baseline.seconds / baseline.repeats / produced.seconds,
          }
        : null,
      compaction,
      catchUp: catchUpResult,
    };
  } finally {
    await server.close().catch(() => server.kill());
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** The scenarios of a run, in order. Durations and sizes come from the command line. */
export interface PlanOptions {
  quick: boolean;
  backends: BackendName[];
  durationMs: number;
  producers: number;
  sendsInFlight: number;
  recordBytes: number[];
  recordsPerRequest: number;
  partitions: number;
  json: boolean;
  warmupMs: number;
}

export function plan(o: PlanOptions): ScenarioSpec[] {
  const base = {
    protocol: "binary" as WireProtocol,
    producers: o.producers,
    sendsInFlight: o.sendsInFlight,
    // The client's default, idempotent, allows at most 5 requests in flight per partition (Kafka's
    // rule); each producer has at most sendsInFlight sends out, so a higher cap would change nothing.
    producer: { maxInFlightRequests: 5, batchBytes: 1024 * 1024, idempotent: true },
    recordBytes: 1024,
    recordsPerRequest: o.recordsPerRequest,
    partitions: o.partitions,
    durationMs: o.durationMs,
    warmupMs: o.warmupMs,
  };
  const specs: ScenarioSpec[] = [];
  for (const backend of o.backends) {
    const at = backend === "embedded" ? "" : "-aws";
    specs.push({
      ...base,
      name: `peak${at}`,
      description: `${o.producers} binary producers back to back (${o.sendsInFlight} sends in flight each), 1 KiB records, default batching; raw storage baseline for the same writes`,
      backend,
      batching: { profile: "default" },
      baseline: true,
      catchUp: true,
    });
    if (backend === "aws") continue;
    specs.push({
      ...base,
      name: "peak-no-idempotence",
      description:
        "as peak, with the producer's idempotence off (enable.idempotence=false): what exactly-once-per-partition costs",
      backend,
      producer: { ...base.producer, idempotent: false },
      batching: { profile: "default" },
    });
    if (o.json) {
      specs.push({
        ...base,
        name: "peak-json",
        description: "as peak, over the JSON routes (base64 values): what the binary fast path saves",
        backend,
        protocol: "json",
        batching: { profile: "default" },
        baseline: true,
      });
    }
    specs.push({
      ...base,
      name: "low-latency",
      description: "low-latency profile at half of its own peak (probed first in the same run)",
      backend,
      batching: { profile: "low-latency" },
      rate: "half-peak",
      peakProbeMs: o.quick ? 3000 : 10_000,
    });
    if (!o.quick) {
      specs.push({
        ...base,
        name: "low-latency-10MiB",
        description: "low-latency profile at a steady 10 MiB/s: the latency floor under moderate load",
        backend,
        batching: { profile: "low-latency" },
        rate: 10 * MiB,
      });
    }
    specs.push({
      ...base,
      name: "low-cost",
      description:
        "low-cost profile at 10 MiB/s into one partition; then a cold consumer reads it back (GETs per GiB of large objects)",
      backend,
      partitions: 1,
      batching: { profile: "low-cost" },
      rate: 10 * MiB,
      catchUp: true,
    });
    specs.push({
      ...base,
      name: "compacted-fetch",
      description:
        "default batching into 2 partitions (small chunks), then compaction (src/maintenance, 8 MiB segments), then a cold consumer reads back",
      backend,
      partitions: 2,
      batching: { profile: "default" },
      durationMs: Math.max(3000, Math.round(o.durationMs / 2)),
      compact: true,
      catchUp: true,
    });
    for (const recordBytes of o.recordBytes.filter((b) => b !== 1024)) {
      specs.push({
        ...base,
        name: `peak-${recordBytes}B`,
        description: `as peak, ${recordBytes}-byte records (${base.recordsPerRequest} per request)`,
        backend,
        recordBytes,
        batching: { profile: "default" },
        baseline: true,
      });
    }
  }
  return specs;
}
