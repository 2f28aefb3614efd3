/**
 * The workloads bench/peer-kafka.ts runs against each server, Kafka's broker and `floe dev` alike,
 * through the same clients with the same settings: KafkaJS (its defaults, acks=-1) over the Kafka
 * protocol, Kafka's own ProducerPerformance (scripts/kafka-tool.sh producer-perf-test), and, for
 * Floe only, Floe's own client over HTTP. Each returns plain figures (numbers, lower or higher is
 * better as bench/support/peer-report.ts says) and the server's CPU over the measured phase, read
 * from /proc so a JVM and a node process are counted alike.
 */
import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { type Consumer, Kafka, logLevel, Partitioners } from "kafkajs";
import { Floe } from "../../src/client/index.js";
import { pace } from "./paced-producer.js";
import { wallNow } from "./paced-producer.js";
import { cpuSeconds, type PeerServer } from "./peer-server.js";
import { MiB, Samples } from "./stats.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export interface WorkloadSettings {
  recordBytes: number;
  partitions: number;
  /** Produce: concurrent senders, each with one send in flight. */
  senders: number;
  recordsPerSend: number;
  /** Produce: records in all (and what the cold read reads back). */
  produceRecords: number;
  /** End to end: seconds at each rate, and how many of the first are left out as warm-up. */
  e2eSeconds: number;
  e2eWarmupSeconds: number;
  /** ProducerPerformance --num-records. */
  perfRecords: number;
  /** Floe's client: the offered rate and for how long. */
  floeClientMiBs: number;
  floeClientSeconds: number;
}

/** A workload's outcome on one server: named figures, and anything worth a line in the report. */
export interface Figures {
  figures: Record<string, number>;
  notes?: string[];
}

function kafkaClient(server: PeerServer, clientId: string): Kafka {
  return new Kafka({ brokers: [server.bootstrap], clientId, logLevel: logLevel.NOTHING });
}

/** The topic with `partitions` partitions, created through KafkaJS's admin (CreateTopics) on either server. */
export async function createTopic(server: PeerServer, topic: string, partitions: number): Promise<void> {
  const admin = kafkaClient(server, "bench-admin").admin();
  await admin.connect();
  try {
    await admin.createTopics({
      topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }],
      waitForLeaders: true,
    });
  } finally {
    await admin.disconnect();
  }
}

/** A record value of `bytes` bytes: incompressible content would not matter, nothing is compressed. */
function payload(bytes: number, i: number): Buffer {
  const b = Buffer.alloc(bytes, 97 + (i % 26));
  b.write(String(i));
  return b;
}

/** Server CPU (ms) over `work`, and the work's own result. */
async function withServerCpu<T>(
  server: PeerServer,
  work: () => Promise<T>,
): Promise<{ result: T; cpuMs: number }> {
  const pid = server.pid;
  const before = await cpuSeconds(pid);
  const result = await work();
  return { result, cpuMs: ((await cpuSeconds(pid)) - before) * 1000 };
}

/**
 * Produce throughput, ack latency and server CPU per MiB: `senders` concurrent senders, each with
 * one send of `recordsPerSend` keyed records in flight (KafkaJS's producer at its defaults, acks=-1,
 * no compression), until `produceRecords` are acknowledged.
 */
export async function produceThroughput(
  server: PeerServer,
  topic: string,
  s: WorkloadSettings,
): Promise<Figures> {
  await createTopic(server, topic, s.partitions);
  const producer = kafkaClient(server, "bench-produce").producer({
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  const acks = new Samples();
  let next = 0;
  try {
    const { result: seconds, cpuMs } = await withServerCpu(server, async () => {
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: s.senders }, async () => {
          while (next < s.produceRecords) {
            const from = next;
            const count = Math.min(s.recordsPerSend, s.produceRecords - from);
            next += count;
            const messages = Array.from({ length: count }, (_, k) => ({
              key: String(from + k),
              value: payload(s.recordBytes, from + k),
            }));
            const sent = performance.now();
            await producer.send({ topic, acks: -1, messages });
            acks.push(performance.now() - sent);
          }
        }),
      );
      return (performance.now() - t0) / 1000;
    });
    const mib = (s.produceRecords * s.recordBytes) / MiB;
    const ack = acks.summary();
    return {
      figures: {
        mibPerSec: mib / seconds,
        ackP50Ms: ack.p50,
        ackP99Ms: ack.p99,
        serverCpuMsPerMiB: cpuMs / mib,
      },
    };
  } finally {
    await producer.disconnect();
  }
}

/** Runs a KafkaJS consumer in a new group; resolves once it has joined (and been assigned partitions). */
async function joinedConsumer(
  server: PeerServer,
  topic: string,
  groupId: string,
  eachBatch: (messages: { headers?: Record<string, unknown> }[], at: number) => void,
): Promise<Consumer> {
  const consumer = kafkaClient(server, "bench-consume").consumer({ groupId });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
  void consumer.run({
    eachBatch: async ({ batch }) =>
      eachBatch(batch.messages as { headers?: Record<string, unknown> }[], wallNow()),
  });
  await joined;
  return consumer;
}

async function until(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

/**
 * End-to-end latency at a fixed rate: a KafkaJS producer paced at `mibPerSec` (one send per 5 ms
 * tick holding the records due, up to 5 sends in flight, Kafka's max.in.flight default), a KafkaJS
 * group member reading. e2e = the time a record is handed to the consumer minus the time it fell
 * due at the producer (carried in a header), so a producer that falls behind counts too. Records
 * due in the first `e2eWarmupSeconds` are left out.
 */
export async function endToEnd(
  server: PeerServer,
  topic: string,
  mibPerSec: number,
  s: WorkloadSettings,
): Promise<Figures> {
  await createTopic(server, topic, s.partitions);
  const latencies = new Samples();
  let received = 0;
  let measureFrom = Number.POSITIVE_INFINITY;
  const consumer = await joinedConsumer(server, topic, `${topic}-g`, (messages, at) => {
    for (const m of messages) {
      received++;
      const due = Number(String(m.headers?.due));
      if (due >= measureFrom) latencies.push(at - due);
    }
  });
  const producer = kafkaClient(server, "bench-e2e").producer({
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  try {
    const recordsPerSec = (mibPerSec * MiB) / s.recordBytes;
    measureFrom = wallNow() + s.e2eWarmupSeconds * 1000;
    const value = payload(s.recordBytes, 0);
    const { result: paced, cpuMs } = await withServerCpu(server, async () => {
      const result = await pace({
        recordsPerSec,
        durationMs: s.e2eSeconds * 1000,
        recordBytes: s.recordBytes,
        maxInFlight: 5,
        maxRecordsPerSend: 1000,
        maxOutstandingRecords: recordsPerSec * 30,
        send: (records) =>
          producer
            .send({
              topic,
              acks: -1,
              messages: records.map((r) => ({ value, headers: { due: String(r.due) } })),
            })
            .then(() => undefined),
      });
      await until(() => received >= result.ackedRecords, 30_000);
      return result;
    });
    const e2e = latencies.summary();
    const notes: string[] = [];
    if (received < paced.ackedRecords)
      notes.push(`read ${received} of ${paced.ackedRecords} acknowledged records within 30 s`);
    if (paced.failedRecords > 0) notes.push(`${paced.failedRecords} records failed: ${paced.firstError}`);
    if (paced.fellBehind) notes.push("the producer fell 30 s behind and stopped offering");
    return {
      figures: {
        e2eP50Ms: e2e.p50,
        e2eP99Ms: e2e.p99,
        achievedMiBs: paced.achievedMiBs,
        ackP99Ms: paced.ack.p99,
        serverCpuMsPerMiB: cpuMs / ((paced.ackedRecords * s.recordBytes) / MiB),
      },
      notes,
    };
  } finally {
    await producer.disconnect();
    await consumer.disconnect();
  }
}

/**
 * A cold catch-up read: the server was restarted after `records` were produced to `topic`; a
 * consumer in a new group reads them all from the earliest offset. MiB/s counts from the first
 * record handed over to the last (the group join before it is reported apart).
 */
export async function catchUpRead(
  server: PeerServer,
  topic: string,
  records: number,
  s: WorkloadSettings,
): Promise<Figures> {
  let seen = 0;
  let first = 0;
  let last = 0;
  const start = wallNow();
  const { result: consumer, cpuMs } = await withServerCpu(server, async () => {
    const c = await joinedConsumer(server, topic, `${topic}-catch-up-${Date.now()}`, (messages, at) => {
      if (seen === 0) first = at;
      seen += messages.length;
      last = at;
    });
    await until(() => seen >= records, Math.max(60_000, records));
    return c;
  });
  await consumer.disconnect();
  const mib = (seen * s.recordBytes) / MiB;
  return {
    figures: {
      mibPerSec: last > first ? mib / ((last - first) / 1000) : Number.NaN,
      firstRecordMs: first - start,
      serverCpuMsPerMiB: cpuMs / mib,
    },
    notes: seen < records ? [`read ${seen} of ${records} records`] : [],
  };
}

/**
 * Kafka's own ProducerPerformance (kafka-producer-perf-test) against the server: `--num-records
 * perfRecords --record-size recordBytes --throughput -1`, acks=all, plus `props`. Its summary line
 * gives records/s, MB/s (MiB: Kafka divides by 1024²) and latencies (ms, from send to callback).
 */
export async function producerPerformance(
  server: PeerServer,
  topic: string,
  props: Record<string, string | number>,
  s: WorkloadSettings,
): Promise<Figures> {
  await createTopic(server, topic, s.partitions);
  const args = [
    "producer-perf-test",
    "--bootstrap-server",
    server.bootstrap,
    "--topic",
    topic,
    "--num-records",
    String(s.perfRecords),
    "--record-size",
    String(s.recordBytes),
    "--throughput",
    "-1",
    "--command-property",
    "acks=all",
    ...Object.entries(props).map(([k, v]) => `${k}=${v}`),
  ];
  const { result: output, cpuMs } = await withServerCpu(server, () => runTool(args));
  // "200000 records sent, 17990.4 records/sec (17.57 MB/sec), 1465.93 ms avg latency, 3197.00 ms max latency, 1413 ms 50th, 2849 ms 95th, 3160 ms 99th, 3189 ms 99.9th."
  const summary =
    /(\d+) records sent, ([\d.]+) records\/sec \(([\d.]+) MB\/sec\), ([\d.]+) ms avg latency, ([\d.]+) ms max latency, (\d+) ms 50th, (\d+) ms 95th, (\d+) ms 99th/.exec(
      output,
    );
  if (!summary) throw new Error(`ProducerPerformance printed no summary line:\n${output.slice(-2000)}`);
  const [, sent, , mbPerSec, avg, , p50, , p99] = summary;
  const mib = (Number(sent) * s.recordBytes) / MiB;
  return {
    figures: {
      mibPerSec: Number(mbPerSec),
      avgMs: Number(avg),
      p50Ms: Number(p50),
      p99Ms: Number(p99),
      serverCpuMsPerMiB: cpuMs / mib,
    },
  };
}

/** scripts/kafka-tool.sh with `args`; its stdout, or an error with its stderr. */
function runTool(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn("bash", [path.join(ROOT, "scripts/kafka-tool.sh"), ...args], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (c: Buffer) => {
      out += c.toString();
    });
    child.stderr.on("data", (c: Buffer) => {
      err = (err + c.toString()).slice(-4000);
    });
    child.once("error", reject);
    child.once("exit", (code) =>
      code === 0
        ? resolve(out)
        : reject(new Error(`kafka-tool.sh ${args[0]} exited with ${code}: ${err.trim()}`)),
    );
  });
}

/**
 * Floe's own client at its defaults (`new Floe({ url }).producer()`, the KafkaJS-shaped API only:
 * connect, send, disconnect), one producer offered `floeClientMiBs` of 1 KiB records for
 * `floeClientSeconds`: each 5 ms tick's due records in one send() call, as many calls in flight as
 * the producer takes (its own buffer bounds it). Kept up = every record acknowledged, at ≥ 95 % of
 * the offered rate, the last one within 1 s of the offering's end.
 */
export async function floeClientPaced(
  server: PeerServer,
  topic: string,
  s: WorkloadSettings,
): Promise<Figures> {
  if (!server.httpUrl) throw new Error(`${server.id} has no HTTP API for Floe's client`);
  await createTopic(server, topic, s.partitions);
  const producer = new Floe({ url: server.httpUrl }).producer();
  await producer.connect();
  try {
    const recordsPerSec = (s.floeClientMiBs * MiB) / s.recordBytes;
    const value = payload(s.recordBytes, 0);
    const { result: paced, cpuMs } = await withServerCpu(server, () =>
      pace({
        recordsPerSec,
        durationMs: s.floeClientSeconds * 1000,
        recordBytes: s.recordBytes,
        maxInFlight: Number.POSITIVE_INFINITY,
        maxRecordsPerSend: Number.POSITIVE_INFINITY,
        // 64 MiB unacknowledged: twice Kafka's buffer.memory, far past any client that keeps up.
        maxOutstandingRecords: (64 * MiB) / s.recordBytes,
        send: (records) =>
          producer
            .send({ topic, messages: records.map((r) => ({ key: String(r.index), value })) })
            .then(() => undefined),
      }),
    );
    const keptUp =
      !paced.fellBehind &&
      paced.failedRecords === 0 &&
      paced.ackedRecords === paced.offeredRecords &&
      paced.achievedMiBs >= 0.95 * paced.offeredMiBs &&
      paced.drainMs <= 1000;
    const notes: string[] = [];
    if (paced.failedRecords > 0) notes.push(`${paced.failedRecords} records failed: ${paced.firstError}`);
    if (paced.fellBehind) notes.push("64 MiB went unacknowledged: offering stopped early");
    return {
      figures: {
        offeredMiBs: paced.offeredMiBs,
        achievedMiBs: paced.achievedMiBs,
        ackP50Ms: paced.ack.p50,
        ackP99Ms: paced.ack.p99,
        maxBacklogMiB: (paced.maxOutstandingRecords * s.recordBytes) / MiB,
        drainMs: paced.drainMs,
        keptUp: keptUp ? 1 : 0,
        serverCpuMsPerMiB: cpuMs / ((paced.ackedRecords * s.recordBytes) / MiB),
      },
      notes,
    };
  } finally {
    await producer.disconnect();
  }
}
