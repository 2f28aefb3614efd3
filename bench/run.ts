/**
 * `npm run bench`: Floe's throughput, latency, storage work and modelled AWS cost, measured side by
 * side with what the storage underneath can do. Writes latest.{md,json}: into bench/results/ (the
 * committed results the docs quote) for a full run, into bench/results/tmp/ (git-ignored) for a
 * --quick run or one limited by --scenarios, or into --out when given.
 *
 *   npm run bench -- [--quick] [--backend embedded|aws|all] [--scenarios peak,low-latency,…]
 *     [--producers 8] [--sends-in-flight 5] [--record-bytes 100,1024,10240] [--records-per-request 64] [--partitions 8]
 *     [--duration 20] [--repeat 3] [--json] [--cpu-prof <dir>] [--out <dir>] [--no-save]
 *
 * --peer kafka: Floe beside a real Apache Kafka broker instead (bench/peer-kafka.ts, its own options).
 *
 * --quick: embedded backend only, 4 s per scenario, 1 KiB records, one run each (under a minute).
 * A full run repeats the scenarios behind the targets (--repeat, default 3) and judges each target
 * on the median run, since other work on a shared machine moves single runs a lot. The aws
 * backend runs against DynamoDB Local and s3rver, started as the tests start them.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { loadavg } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import setupEmulators from "../test/support/global-setup.js";
import { type BackendName, type Emulators, plan, runScenario, type ScenarioResult } from "./scenarios.js";
import { analyseCosts, evaluateTargets } from "./support/analysis.js";
import { gitCommit, machineInfo } from "./support/machine.js";
import { type RunReport, renderMarkdown } from "./support/report.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

// `npm run bench -- --peer kafka [options]`: Floe beside a real Apache Kafka broker, bench/peer-kafka.ts
// (its header lists the options, which are its own). Nothing below runs then.
const peerAt = process.argv.findIndex((a) => a === "--peer" || a.startsWith("--peer="));
if (peerAt >= 0) {
  const inline = process.argv[peerAt].startsWith("--peer=");
  const peer = inline ? process.argv[peerAt].slice("--peer=".length) : process.argv[peerAt + 1];
  if (peer !== "kafka") throw new Error(`--peer must be kafka, got '${peer ?? ""}'`);
  const rest = process.argv.slice(2).filter((_, i) => i + 2 !== peerAt && (inline || i + 2 !== peerAt + 1));
  const { runPeerKafka } = await import("./peer-kafka.js");
  await runPeerKafka(rest);
  process.exit();
}

const { values: args } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    backend: { type: "string" },
    scenarios: { type: "string" },
    producers: { type: "string", default: "8" },
    "sends-in-flight": { type: "string", default: "5" },
    "record-bytes": { type: "string" },
    "records-per-request": { type: "string", default: "64" },
    partitions: { type: "string", default: "8" },
    duration: { type: "string" },
    json: { type: "boolean" },
    repeat: { type: "string" },
    "cpu-prof": { type: "string" },
    out: { type: "string" },
    "no-save": { type: "boolean", default: false },
  },
  strict: true,
});

function positive(name: string, raw: string): number {
  const v = Number(raw);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} must be a positive number, got '${raw}'`);
  return v;
}

const quick = args.quick ?? false;
/**
 * Only a full run replaces the committed results (bench/results/latest.*, quoted by the docs); a
 * quick or --scenarios run writes beside them, in a git-ignored directory, unless --out says where.
 */
const outDir = args.out ?? path.join(ROOT, quick || args.scenarios ? "bench/results/tmp" : "bench/results");
const backendArg = args.backend ?? (quick ? "embedded" : "all");
if (!["embedded", "aws", "all"].includes(backendArg))
  throw new Error(`--backend must be embedded, aws or all`);
const backends: BackendName[] = backendArg === "all" ? ["embedded", "aws"] : [backendArg as BackendName];
const recordBytes = (args["record-bytes"] ?? (quick ? "1024" : "100,1024,10240"))
  .split(",")
  .map((b) => positive("record-bytes", b));
const durationMs = positive("duration", args.duration ?? (quick ? "4" : "20")) * 1000;

const specs = plan({
  quick,
  backends,
  durationMs,
  producers: positive("producers", args.producers),
  sendsInFlight: positive("sends-in-flight", args["sends-in-flight"]),
  recordBytes,
  recordsPerRequest: positive("records-per-request", args["records-per-request"]),
  partitions: positive("partitions", args.partitions),
  json: args.json ?? !quick,
  warmupMs: quick ? 1500 : 3000,
}).filter((s) => !args.scenarios || args.scenarios.split(",").includes(s.name));
if (specs.length === 0) throw new Error(`no scenario matches --scenarios ${args.scenarios}`);
/** The scenarios the targets are judged on, repeated; the others run once. */
const REPEATED = new Set(["peak", "low-latency", "low-cost"]);
const repeat = positive("repeat", args.repeat ?? (quick ? "1" : "3"));
const runs = specs.flatMap((spec) =>
  Array.from({ length: REPEATED.has(spec.name) ? repeat : 1 }, (_, i) => ({ spec, run: i + 1 })),
);
// Interleaved, so a noisy minute on the machine does not land on one scenario's every run.
runs.sort((a, b) => a.run - b.run);

const log = (line: string) => console.log(line);
const startedAt = new Date().toISOString();
const machine = machineInfo();
const git = gitCommit();
log(`Floe benchmark (${quick ? "quick" : "full"}): ${specs.map((s) => s.name).join(", ")}`);
log(
  `machine: ${machine.nproc} cpus, ${machine.memoryGiB} GiB, node ${machine.node}, load ${machine.loadAverage.join(" ")}`,
);

let emulators: Emulators | undefined;
let stopEmulators: (() => Promise<void>) | undefined;
if (specs.some((s) => s.backend === "aws")) {
  log("starting DynamoDB Local and s3rver…");
  const provided: Record<string, unknown> = {};
  stopEmulators = await setupEmulators({ provide: (k: string, v: unknown) => (provided[k] = v) } as never);
  emulators = provided.floeEmulators as Emulators;
}

const results: ScenarioResult[] = [];
const skipped: { name: string; reason: string }[] = [];
try {
  for (const { spec, run } of runs) {
    log(`▶ ${spec.name}${run > 1 ? ` (run ${run})` : ""}: ${spec.description}`);
    try {
      const result = await runScenario(spec, {
        emulators,
        cpuProfileDir: args["cpu-prof"] ? path.resolve(args["cpu-prof"], spec.name) : undefined,
        log,
      });
      results.push({ ...result, run });
      const p = result.produce;
      log(
        `  ${p.records} records in ${p.seconds.toFixed(1)} s: ${p.recordsPerSec.toFixed(0)} records/s, ${p.mibPerSec.toFixed(1)} MiB/s; ` +
          `ack p50 ${p.ack.p50.toFixed(1)} p99 ${p.ack.p99.toFixed(1)} ms; ` +
          `e2e p99 ${result.endToEnd?.p99.toFixed(1) ?? "–"} ms; ${result.ingest.perGiB.objectPuts.toFixed(0)} PUTs/GiB; ` +
          `produce-side storage busy: PUT ${(result.ingest.total.objectPutMs / 10 / p.seconds).toFixed(0)} %, commit ${(result.ingest.total.metaTransactMs / 10 / p.seconds).toFixed(0)} %, reads ${(result.ingest.total.metaReadMs / 10 / p.seconds).toFixed(0)} %; ` +
          `server event-loop delay p50 ${result.eventLoopDelayMs.p50.toFixed(1)} p99 ${result.eventLoopDelayMs.p99.toFixed(1)} ms; ` +
          `cpu: server ${result.cpuCores.server.toFixed(2)}, clients ${result.cpuCores.clients.toFixed(2)} cores` +
          (result.baseline
            ? `; raw baseline ${result.baseline.mibPerSec.toFixed(1)} MiB/s (${(result.baseline.ratio * 100).toFixed(0)} %)` +
              ` [PUT ${(result.baseline.putMs / result.baseline.puts).toFixed(2)} ms vs ${(result.ingest.total.objectPutMs / result.ingest.total.objectPuts).toFixed(2)} ms live,` +
              ` commit ${(result.baseline.commitMs / result.baseline.commits).toFixed(2)} ms vs ${(result.ingest.total.metaTransactMs / result.ingest.total.metaCommits).toFixed(2)} ms live]`
            : "") +
          (result.catchUp
            ? `; cold read ${result.catchUp.mibPerSec.toFixed(1)} MiB/s, ${result.catchUp.perGiBDelivered.objectGets.toFixed(0)} GETs/GiB`
            : ""),
      );
    } catch (e) {
      skipped.push({ name: spec.name, reason: (e as Error).message.split("\n")[0] });
      log(`  failed: ${(e as Error).stack ?? e}`);
    }
  }
} finally {
  await stopEmulators?.();
}

const costs = analyseCosts(results);
const targets = evaluateTargets(results, costs);
const report: RunReport = {
  startedAt,
  finishedAt: new Date().toISOString(),
  command: `npm run bench -- ${process.argv.slice(2).join(" ")}`.trim(),
  mode: quick ? "quick" : "full",
  git,
  machine,
  loadAverageAfter: loadavg().map((l) => Number(l.toFixed(2))),
  targets,
  scenarios: results,
  skipped,
  costs,
};
log("");
for (const t of targets) log(`${t.verdict.padEnd(12)} ${t.target}: ${t.figures}`);
if (!args["no-save"]) {
  await mkdir(outDir, { recursive: true });
  await writeFile(path.join(outDir, "latest.json"), `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(path.join(outDir, "latest.md"), renderMarkdown(report));
  log(`\nwrote ${path.relative(process.cwd(), path.join(outDir, "latest.md"))} and latest.json`);
}
if (results.length === 0) process.exitCode = 1;
