/**
 * `npm run bench -- --peer kafka`: `floe dev` side by side with a real Apache Kafka 4.4 broker on
 * this machine (issue 16). Starts one single-node KRaft broker (jars from Maven Central through
 * peers/kafka-broker/pom.xml; needs `java` 17+ and `mvn`, else the peer is skipped with a message
 * and exit 0) and `floe dev` (embedded storage, from source) in each durability mode: its default
 * (the OS page cache, like Kafka's defaults) and `--log-flush-interval-messages 1` (fsync every
 * commit; reported as skipped if `floe dev` does not take the flag). Then runs each step against
 * each server in turn (Kafka, Floe, Floe-fsync, then the next step), so machine load moves all alike:
 *
 *   produce       KafkaJS, 8 senders × 100 records of 1 KiB per send, one send in flight each,
 *                 acks=-1, --records in all: MiB/s, ack p50/p99, server CPU ms per MiB (/proc)
 *   catchup       after `produce`, the server restarted, a new group reads it all from earliest: MiB/s
 *   e2e           KafkaJS producer paced at 1 and at 5 MiB/s, a KafkaJS group member reading:
 *                 end-to-end p50/p99 (from when a record fell due)
 *   perf          Kafka's ProducerPerformance (kafka-producer-perf-test) with acks=all, at the
 *                 client's defaults and with batch.size=1048576 linger.ms=10
 *   floe-client   Floe's own client over HTTP at its defaults, one producer offered 20 MiB/s (Floe only)
 *
 *   npm run bench -- --peer kafka [--quick] [--repeat N] [--workloads produce,catchup,e2e,perf,floe-client]
 *     [--records N] [--servers kafka,floe,floe-fsync,kafka-fsync] [--out <dir>]
 *   (or directly: npx tsx bench/peer-kafka.ts [options])
 *
 * --quick: 20k records, 6 s per e2e rate, 50k ProducerPerformance records, 5 s of Floe's client,
 * one repeat (about 4 minutes). A full run: 100k records, 15 s per rate, 200k, 10 s, --repeat 2.
 * --servers kafka-fsync adds Kafka with log.flush.interval.messages=1 for the symmetric comparison.
 * Writes peer-kafka.{md,json} into bench/results/ for a full run, bench/results/tmp/ (git-ignored)
 * for --quick, or --out. Each figure is the median over the repeats, shown beside Kafka's with
 * the Floe/Kafka ratio and the targets marked met or missed.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { loadavg } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { FloeDevProcess, StartRefused } from "./support/floe-dev-process.js";
import { KAFKA_VERSION, KafkaBroker, kafkaPrerequisites } from "./support/kafka-broker.js";
import { gitCommit, machineInfo } from "./support/machine.js";
import {
  evaluateTargets,
  fmt,
  medians,
  type PeerReport,
  renderMarkdown,
  type ServerEntry,
  type StepRun,
} from "./support/peer-report.js";
import { installCleanupHandlers, type PeerServer } from "./support/peer-server.js";
import {
  catchUpRead,
  endToEnd,
  type Figures,
  floeClientPaced,
  producerPerformance,
  produceThroughput,
  type WorkloadSettings,
} from "./support/peer-workloads.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const WORKLOADS = ["produce", "catchup", "e2e", "perf", "floe-client"] as const;
const SERVERS = ["kafka", "floe", "floe-fsync", "kafka-fsync"] as const;

/** Runs the side-by-side benchmark with `argv` (the options after `--peer kafka`). */
export async function runPeerKafka(argv: string[]): Promise<void> {
  const { values: args } = parseArgs({
    args: argv,
    options: {
      quick: { type: "boolean", default: false },
      repeat: { type: "string" },
      workloads: { type: "string" },
      records: { type: "string" },
      servers: { type: "string", default: "kafka,floe,floe-fsync" },
      out: { type: "string" },
    },
    strict: true,
  });
  const quick = args.quick ?? false;
  const positive = (name: string, raw: string) => {
    const v = Number(raw);
    if (!Number.isInteger(v) || v <= 0) throw new Error(`--${name} must be a positive integer, got '${raw}'`);
    return v;
  };
  const repeat = positive("repeat", args.repeat ?? (quick ? "1" : "2"));
  const workloads = new Set((args.workloads ?? WORKLOADS.join(",")).split(","));
  for (const w of workloads) {
    if (!(WORKLOADS as readonly string[]).includes(w))
      throw new Error(`--workloads: unknown '${w}' (${WORKLOADS.join(", ")})`);
  }
  const serverIds = args.servers.split(",");
  for (const s of serverIds) {
    if (!(SERVERS as readonly string[]).includes(s))
      throw new Error(`--servers: unknown '${s}' (${SERVERS.join(", ")})`);
  }
  if (!serverIds.includes("kafka"))
    throw new Error("--servers must include kafka: every ratio is over Kafka's figure");
  const settings: WorkloadSettings = {
    recordBytes: 1024,
    partitions: 8,
    senders: 8,
    recordsPerSend: 100,
    produceRecords: positive("records", args.records ?? (quick ? "20000" : "100000")),
    e2eSeconds: quick ? 6 : 15,
    e2eWarmupSeconds: quick ? 1 : 2,
    perfRecords: quick ? 50_000 : 200_000,
    floeClientMiBs: 20,
    floeClientSeconds: quick ? 5 : 10,
  };
  const outDir = args.out
    ? path.resolve(args.out)
    : path.join(ROOT, quick ? "bench/results/tmp" : "bench/results");
  const log = (line: string) => console.log(line);

  const prerequisites = await kafkaPrerequisites();
  if (prerequisites.missing) {
    log(
      `Kafka peer skipped: ${prerequisites.missing}. Nothing to compare with; install a JDK 17+ and Maven to run it.`,
    );
    return;
  }

  installCleanupHandlers();
  const startedAt = new Date().toISOString();
  const machine = { ...machineInfo(), java: prerequisites.java };
  const git = gitCommit();
  log(
    `Floe beside Apache Kafka ${KAFKA_VERSION} (${quick ? "quick" : "full"}, ${repeat} repeat(s)): ${[...workloads].join(", ")}`,
  );
  log(
    `machine: ${machine.nproc} cpus, ${machine.memoryGiB} GiB, node ${machine.node}, ${machine.java}, load ${machine.loadAverage.join(" ")}`,
  );

  const entries: ServerEntry[] = [];
  const servers: PeerServer[] = [];
  const start = async (id: string, label: string, launch: () => Promise<PeerServer>) => {
    const t0 = performance.now();
    try {
      const server = await launch();
      servers.push(server);
      entries.push({ id, label: server.label });
      log(
        `started ${id} (${server.bootstrap}, pid ${server.pid}) in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
      );
    } catch (e) {
      if (id === "kafka" || !(e instanceof StartRefused)) throw e;
      entries.push({ id, label, skipped: e.message });
      log(`${id} skipped: ${e.message}`);
    }
  };

  const runs: StepRun[] = [];
  const notes: string[] = [];
  try {
    for (const id of serverIds) {
      if (id === "kafka") await start(id, "", () => KafkaBroker.start({ partitions: settings.partitions }));
      if (id === "kafka-fsync")
        await start(id, "", () =>
          KafkaBroker.start({ partitions: settings.partitions, flushEveryMessage: true }),
        );
      if (id === "floe")
        await start(id, "", () =>
          FloeDevProcess.start({
            id,
            label: "floe dev, embedded storage, default durability (OS page cache)",
          }),
        );
      if (id === "floe-fsync")
        await start(
          id,
          "floe dev, embedded storage, --log-flush-interval-messages 1 (fsync every commit)",
          () =>
            FloeDevProcess.start({
              id,
              label: "floe dev, embedded storage, --log-flush-interval-messages 1 (fsync every commit)",
              extraArgs: ["--log-flush-interval-messages", "1"],
            }),
        );
    }
    // Kafka first in every step, then each Floe mode, then Kafka with fsync.
    const order = ["kafka", "floe", "floe-fsync", "kafka-fsync"];
    servers.sort((a, b) => order.indexOf(a.id) - order.indexOf(b.id));

    const steps: { step: string; run: (s: PeerServer, r: number) => Promise<Figures>; floeOnly?: boolean }[] =
      [];
    /** What `produce` left on each server this repeat, for the cold read. */
    const produced = new Map<string, string>();
    const produce = async (server: PeerServer, r: number) => {
      const topic = `produce-${r}`;
      const figures = await produceThroughput(server, topic, settings);
      produced.set(server.id, topic);
      return figures;
    };
    if (workloads.has("produce")) steps.push({ step: "produce", run: produce });
    if (workloads.has("catchup")) {
      steps.push({
        step: "catchup",
        run: async (server, r) => {
          // Without a produce step this repeat, produce the same records first, unmeasured.
          if (!produced.has(server.id)) await produce(server, r);
          await server.restart();
          return catchUpRead(server, produced.get(server.id) as string, settings.produceRecords, settings);
        },
      });
    }
    if (workloads.has("e2e")) {
      for (const rate of [1, 5]) {
        steps.push({
          step: `e2e-${rate}`,
          run: (server, r) => endToEnd(server, `e2e-${rate}-${r}`, rate, settings),
        });
      }
    }
    if (workloads.has("perf")) {
      steps.push({
        step: "perf-default",
        run: (server, r) => producerPerformance(server, `perf-default-${r}`, {}, settings),
      });
      steps.push({
        step: "perf-batch",
        run: (server, r) =>
          producerPerformance(
            server,
            `perf-batch-${r}`,
            { "batch.size": 1048576, "linger.ms": 10 },
            settings,
          ),
      });
    }
    if (workloads.has("floe-client")) {
      steps.push({
        step: "floe-client",
        floeOnly: true,
        run: (server, r) => floeClientPaced(server, `floe-client-${r}`, settings),
      });
    }

    // A JIT-cold JVM or V8 would pay its warm-up inside the first measured step: a short unmeasured
    // produce on each server first.
    for (const server of servers) {
      const t0 = performance.now();
      await produceThroughput(server, "warm-up", {
        ...settings,
        produceRecords: Math.ceil(settings.produceRecords / 4),
      });
      log(`warmed up ${server.id} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    }
    for (let r = 1; r <= repeat; r++) {
      produced.clear();
      for (const { step, run, floeOnly } of steps) {
        for (const server of servers) {
          if (floeOnly && !server.httpUrl) continue;
          const loadBefore = loadavg().map((l) => Number(l.toFixed(2)));
          const t0 = performance.now();
          const entry: StepRun = {
            step,
            server: server.id,
            repeat: r,
            loadBefore,
            loadAfter: [],
            seconds: 0,
          };
          try {
            const result = await run(server, r);
            entry.figures = result.figures;
            if (result.notes?.length) entry.notes = result.notes;
          } catch (e) {
            entry.error = (e as Error).message.split("\n")[0];
            log(`  ${(e as Error).stack ?? e}`);
          }
          entry.seconds = (performance.now() - t0) / 1000;
          entry.loadAfter = loadavg().map((l) => Number(l.toFixed(2)));
          runs.push(entry);
          log(
            `${step.padEnd(13)} ${server.id.padEnd(11)} #${r} ${entry.seconds.toFixed(1).padStart(5)} s, load ${loadBefore[0].toFixed(2)}→${entry.loadAfter[0].toFixed(2)}: ` +
              (entry.error
                ? `failed: ${entry.error}`
                : Object.entries(entry.figures ?? {})
                    .map(([k, v]) => `${k} ${fmt(v)}`)
                    .join(", ") + (entry.notes ? ` (${entry.notes.join("; ")})` : "")),
          );
        }
      }
    }
  } finally {
    for (const server of servers) await server.stop();
  }

  notes.push(
    "The cold catch-up read restarts each server process before reading, so neither has its own caches warm; " +
      "the OS page cache still holds the data for both (dropping it needs root, which the bench does not assume), " +
      "so the read measures the servers, not the disk.",
    "Server CPU is utime+stime of the server process from /proc/<pid>/stat over the measured phase (the JVM for Kafka, " +
      "the node process for floe dev), per MiB of record values; clients and the benchmark run on the same machine.",
    "KafkaJS runs at its defaults (not idempotent, no compression) with acks=-1; ProducerPerformance at the Java " +
      "client's defaults (idempotent, linger.ms 5, batch.size 16 KiB) with acks=all, as Kafka's own perf script runs it.",
    `floe dev runs from source (node --import tsx src/cli/main.ts) with the Node flags bin/floe.js gives every floe command (--initial-heap-size=128) and its default maintenance; Kafka ${KAFKA_VERSION} with ` +
      "config/server.properties' single-node settings and -Xmx1G -Xms1G G1, as kafka-server-start.sh starts it.",
  );
  const m = medians(runs);
  const floeIds = entries.filter((e) => e.id.startsWith("floe") && !e.skipped).map((e) => e.id);
  const report: PeerReport = {
    startedAt,
    finishedAt: new Date().toISOString(),
    command: `npm run bench -- --peer kafka ${argv.join(" ")}`.trim(),
    mode: quick ? "quick" : "full",
    git,
    machine,
    loadAverageAfter: loadavg().map((l) => Number(l.toFixed(2))),
    settings: { ...settings, repeat, workloads: [...workloads], kafkaVersion: KAFKA_VERSION },
    servers: entries,
    runs,
    medians: m,
    targets: evaluateTargets(m, floeIds),
    notes,
  };
  log("");
  for (const t of report.targets) log(`${t.verdict.padEnd(12)} [${t.server}] ${t.target}: ${t.figures}`);
  await mkdir(outDir, { recursive: true });
  await writeFile(path.join(outDir, "peer-kafka.json"), `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(path.join(outDir, "peer-kafka.md"), renderMarkdown(report));
  log(`\nwrote ${path.relative(process.cwd(), path.join(outDir, "peer-kafka.md"))} and peer-kafka.json`);
  if (runs.every((r) => r.error)) process.exitCode = 1;
}

// Run directly: `npx tsx bench/peer-kafka.ts [options]`.
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await runPeerKafka(process.argv.slice(2));
}
