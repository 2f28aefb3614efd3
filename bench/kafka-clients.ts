/**
 * `npm run bench:kafka-clients`: the same workload through KafkaJS over Floe's Kafka listener and
 * through Floe's own client over its HTTP API, against one `floe dev` process (a real CLI process
 * with the embedded backend, so the server's CPU is its own). Produce: `--senders` concurrent
 * senders, each with one send of `--batch` records in flight; consume: one group member reading
 * everything from the beginning. Runs alternate (KafkaJS, Floe, KafkaJS, …) so machine load moves
 * both alike; prints a table and writes bench/results/tmp/kafka-clients.json.
 *
 *   npm run bench:kafka-clients -- [--records 20000] [--record-bytes 1024] [--partitions 8]
 *     [--senders 8] [--batch 100] [--repeat 2] [--clients kafkajs,floe] [--cpu-prof <dir>]
 *
 * --cpu-prof writes the server's V8 CPU profile there (read it with bench/profile-summary.ts).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { Kafka, logLevel } from "kafkajs";
import { Floe } from "../src/client/index.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const { values: args } = parseArgs({
  options: {
    records: { type: "string", default: "20000" },
    "record-bytes": { type: "string", default: "1024" },
    partitions: { type: "string", default: "8" },
    senders: { type: "string", default: "8" },
    batch: { type: "string", default: "100" },
    repeat: { type: "string", default: "2" },
    clients: { type: "string", default: "kafkajs,floe" },
    "cpu-prof": { type: "string" },
  },
  strict: true,
});
const RECORDS = Number(args.records);
const RECORD_BYTES = Number(args["record-bytes"]);
const PARTITIONS = Number(args.partitions);
const SENDERS = Number(args.senders);
const BATCH = Number(args.batch);
const REPEAT = Number(args.repeat);
const CLIENTS = new Set((args.clients ?? "").split(","));
const MIB = 1024 * 1024;

interface Server {
  child: ChildProcess;
  url: string;
  bootstrap: string;
}

async function startServer(dataDir: string): Promise<Server> {
  const child = spawn(
    process.execPath,
    [
      ...(args["cpu-prof"] ? ["--cpu-prof", `--cpu-prof-dir=${path.resolve(args["cpu-prof"])}`] : []),
      path.join(ROOT, "bin/floe.js"),
      "dev",
      "--storage",
      "embedded",
      "--data-dir",
      dataDir,
      "--port",
      "0",
      "--kafka-port",
      "0",
      "--maintenance-interval-ms",
      "0",
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  let out = "";
  return new Promise((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`floe dev exited with ${code}: ${out}`)));
    child.stdout?.on("data", (c: Buffer) => {
      out += c.toString();
      const url = /listening on (http:\/\/\S+)/.exec(out)?.[1];
      const bootstrap = /Kafka protocol: (\S+)/.exec(out)?.[1];
      if (url && bootstrap && out.includes("Press Ctrl-C")) resolve({ child, url, bootstrap });
    });
  });
}

/** The server process's CPU seconds so far (user + system), from /proc. */
async function cpuSeconds(pid: number): Promise<number> {
  const stat = (await readFile(`/proc/${pid}/stat`, "utf8")).split(") ")[1].split(" ");
  return (Number(stat[11]) + Number(stat[12])) / 100;
}

function payload(i: number): Buffer {
  const b = Buffer.alloc(RECORD_BYTES, 97 + (i % 26));
  b.write(`{"i":${i}}`);
  return b;
}

interface Measured {
  client: string;
  produceMiBs: number;
  consumeMiBs: number;
  produceServerCpuMsPerMiB: number;
}

async function senders(send: (from: number, count: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: SENDERS }, async () => {
      while (next < RECORDS) {
        const from = next;
        const count = Math.min(BATCH, RECORDS - from);
        next += count;
        await send(from, count);
      }
    }),
  );
}

async function timed<T>(server: Server, work: () => Promise<T>): Promise<{ seconds: number; cpu: number }> {
  const cpu0 = await cpuSeconds(server.child.pid as number);
  const t0 = performance.now();
  await work();
  const seconds = (performance.now() - t0) / 1000;
  return { seconds, cpu: (await cpuSeconds(server.child.pid as number)) - cpu0 };
}

/** Runs a KafkaJS-shaped consumer (KafkaJS's or Floe's) until it has seen every record. */
function readAll(consumer: {
  run(config: { eachBatch: (payload: { batch: { messages: unknown[] } }) => Promise<void> }): Promise<void>;
}): Promise<void> {
  let seen = 0;
  return new Promise<void>((resolve) => {
    void consumer.run({
      eachBatch: async ({ batch }) => {
        seen += batch.messages.length;
        if (seen >= RECORDS) resolve();
      },
    });
  });
}

async function runKafkaJs(server: Server, topic: string): Promise<Measured> {
  const kafka = new Kafka({ brokers: [server.bootstrap], logLevel: logLevel.NOTHING, clientId: "bench" });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS }] });
  await admin.disconnect();
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 5 });
  await producer.connect();
  const produced = await timed(server, () =>
    senders(async (from, count) => {
      await producer.send({
        topic,
        acks: -1,
        messages: Array.from({ length: count }, (_, k) => ({
          key: String(from + k),
          value: payload(from + k),
        })),
      });
    }),
  );
  await producer.disconnect();
  const consumer = kafka.consumer({ groupId: `${topic}-g` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const consumed = await timed(server, () => readAll(consumer));
  await consumer.disconnect();
  return measured("KafkaJS over the Kafka protocol", produced, consumed);
}

async function runFloe(server: Server, topic: string): Promise<Measured> {
  const floe = new Floe({ url: server.url });
  await floe.admin().createTopics({ topics: [{ topic, numPartitions: PARTITIONS }] });
  const producer = floe.producer();
  const produced = await timed(server, () =>
    senders(async (from, count) => {
      await producer.send({
        topic,
        messages: Array.from({ length: count }, (_, k) => ({
          key: String(from + k),
          value: payload(from + k),
        })),
      });
    }),
  );
  await producer.disconnect();
  const consumer = floe.consumer({ groupId: `${topic}-g`, fromBeginning: true });
  await consumer.connect();
  await consumer.subscribe({ topic });
  const consumed = await timed(server, () => readAll(consumer));
  await consumer.disconnect();
  return measured("Floe client over HTTP", produced, consumed);
}

function measured(
  client: string,
  produced: { seconds: number; cpu: number },
  consumed: { seconds: number; cpu: number },
): Measured {
  const mib = (RECORDS * RECORD_BYTES) / MIB;
  return {
    client,
    produceMiBs: mib / produced.seconds,
    consumeMiBs: mib / consumed.seconds,
    produceServerCpuMsPerMiB: (produced.cpu * 1000) / mib,
  };
}

const dataDir = mkdtempSync(path.join(tmpdir(), "floe-bench-kafka-"));
const server = await startServer(dataDir);
const results: Measured[] = [];
const loadBefore = loadavg()[0];
try {
  for (let run = 0; run < REPEAT; run++) {
    if (CLIENTS.has("kafkajs")) results.push(await runKafkaJs(server, `kafkajs-${run}`));
    if (CLIENTS.has("floe")) results.push(await runFloe(server, `floe-${run}`));
  }
} finally {
  server.child.kill("SIGTERM");
  await new Promise((resolve) => server.child.once("exit", resolve));
  rmSync(dataDir, { recursive: true, force: true });
}
const load = { before: loadBefore, after: loadavg()[0] };
console.log(
  `${RECORDS} records of ${RECORD_BYTES} B, ${PARTITIONS} partitions, ${SENDERS} senders × ${BATCH} records; load ${load.before.toFixed(2)} → ${load.after.toFixed(2)}`,
);
console.log("client                             produce MiB/s  consume MiB/s  server CPU ms/MiB (produce)");
for (const r of results) {
  console.log(
    `${r.client.padEnd(35)}${r.produceMiBs.toFixed(1).padStart(13)}${r.consumeMiBs.toFixed(1).padStart(15)}${r.produceServerCpuMsPerMiB.toFixed(0).padStart(29)}`,
  );
}
await mkdir(path.join(ROOT, "bench/results/tmp"), { recursive: true });
await writeFile(
  path.join(ROOT, "bench/results/tmp/kafka-clients.json"),
  `${JSON.stringify({ records: RECORDS, recordBytes: RECORD_BYTES, partitions: PARTITIONS, senders: SENDERS, batch: BATCH, load, results }, null, 2)}\n`,
);
