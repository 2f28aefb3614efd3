/**
 * latest.md: the run as tables a reader can check against latest.json. A full run writes both to
 * bench/results/ (committed); quick and --scenarios runs to bench/results/tmp/ unless --out.
 */
import type { CostBreakdown } from "../cost-model.js";
import { PRICES, PRICES_REGION, PRICES_TAKEN_ON } from "../prices.js";
import type { ScenarioResult } from "../scenarios.js";
import type { CostAnalysis, Target } from "./analysis.js";
import type { MachineInfo } from "./machine.js";
import { round } from "./stats.js";

export interface RunReport {
  startedAt: string;
  finishedAt: string;
  command: string;
  mode: "quick" | "full";
  git: { commit: string; dirty: boolean };
  machine: MachineInfo;
  loadAverageAfter: number[];
  targets: Target[];
  scenarios: ScenarioResult[];
  skipped: { name: string; reason: string }[];
  costs: CostAnalysis;
}

const n = (v: number | null | undefined, digits = 1) =>
  v === null || v === undefined || !Number.isFinite(v)
    ? "–"
    : v >= 1000
      ? Math.round(v).toLocaleString("en-US")
      : v.toFixed(digits);
const label = (s: ScenarioResult) => (s.run && s.run > 1 ? `${s.name} #${s.run}` : s.name);
const usd = (v: number) => (v >= 0.01 ? `$${v.toFixed(4)}` : `$${v.toFixed(5)}`);
const bytes = (b: number) =>
  b >= 1024 * 1024 ? `${round(b / 1024 / 1024)} MiB` : b >= 1024 ? `${round(b / 1024)} KiB` : `${b} B`;

function table(head: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]) => `| ${cells.join(" | ")} |`;
  return [line(head), line(head.map(() => "---")), ...rows.map(line)].join("\n");
}

function breakdown(c: CostBreakdown): string {
  const parts = [
    ["S3", c.s3Requests],
    ["DynamoDB", c.dynamodb],
    ["Lambda req", c.lambdaRequests],
    ["Lambda GB-s", c.lambdaDuration],
    ["API GW", c.apiGateway],
  ] as const;
  return parts
    .filter(([, v]) => v > 0)
    .map(([k, v]) => `${k} ${usd(v)}`)
    .join(" + ");
}

export function renderMarkdown(r: RunReport): string {
  const out: string[] = [];
  out.push("# Floe benchmark results");
  out.push("");
  out.push(
    `Run ${r.startedAt} → ${r.finishedAt} (${r.mode}), \`${r.command}\`, commit \`${r.git.commit.slice(0, 12)}\`${r.git.dirty ? " (with uncommitted changes)" : ""}.`,
  );
  out.push(
    `Machine: ${r.machine.nproc} × ${r.machine.cpuModel}, ${r.machine.memoryGiB} GiB memory, Node ${r.machine.node}, ${r.machine.platform}. ` +
      `Load average at start ${r.machine.loadAverage.join(" / ")}, at end ${r.loadAverageAfter.join(" / ")} (1/5/15 min)` +
      (r.machine.cpuPressure
        ? `, CPU pressure at start ${r.machine.cpuPressure.avg10} % (share of time work waited for a core)`
        : "") +
      ": " +
      "the machine is shared, so figures carry that noise; re-run key scenarios with `npm run bench -- --scenarios …`.",
  );
  out.push("");
  out.push(
    "Throughput counts payload (record value) bytes; per-GiB figures are per GiB of payload. Producers, consumers and the server run on this one machine (server in its own process).",
  );
  out.push("");

  out.push("## Targets");
  out.push("");
  out.push(
    table(
      ["target", "verdict", "figures"],
      r.targets.map((t) => [t.target, `**${t.verdict}**`, t.figures]),
    ),
  );
  out.push("");

  out.push("## Throughput and latency");
  out.push("");
  out.push(
    table(
      [
        "scenario",
        "backend",
        "batching",
        "wire",
        "producers × records/req × size",
        "records/s",
        "MiB/s",
        "ack p50 / p99 / p99.9 ms",
        "e2e p50 / p99 ms",
        "raw baseline MiB/s (ratio)",
      ],
      r.scenarios.map((s) => [
        label(s),
        s.backend,
        `${s.batching.profile}: ${s.batching.lingerMs} ms, ≤ ${bytes(s.batching.maxBatchBytes)}`,
        `${s.protocol}${s.params.producer.idempotent === true ? ", idempotent" : s.params.producer.idempotent === false ? ", not idempotent" : ""}`,
        `${s.params.producers} × ${s.params.recordsPerRequest} × ${bytes(s.params.recordBytes)}${s.params.targetMiBPerSec ? ` at ${n(s.params.targetMiBPerSec)} MiB/s` : ` (${s.params.sendsInFlight} in flight each)`}`,
        n(s.produce.recordsPerSec),
        n(s.produce.mibPerSec),
        `${n(s.produce.ack.p50)} / ${n(s.produce.ack.p99)} / ${n(s.produce.ack.p999)}`,
        s.endToEnd ? `${n(s.endToEnd.p50)} / ${n(s.endToEnd.p99)}` : "–",
        s.baseline ? `${n(s.baseline.mibPerSec)} (${(s.baseline.ratio * 100).toFixed(0)} %)` : "–",
      ]),
    ),
  );
  out.push("");
  out.push("### Where the time goes (produce phase)");
  out.push("");
  out.push(
    table(
      [
        "scenario",
        "CPU: server / clients (cores)",
        "machine CPU pressure (avg10)",
        "server event-loop delay p99",
        "PUT ms: live / raw baseline",
        "commit ms: live / raw baseline",
        "storage busy: PUT + commit + reads",
      ],
      r.scenarios.map((s) => {
        const t = s.ingest.total;
        const perPut = t.objectPuts > 0 ? t.objectPutMs / t.objectPuts : Number.NaN;
        const perCommit = t.metaCommits > 0 ? t.metaTransactMs / t.metaCommits : Number.NaN;
        const busy = (t.objectPutMs + t.metaTransactMs + t.metaReadMs) / 10 / s.produce.seconds;
        return [
          label(s),
          `${n(s.cpuCores.server, 2)} / ${n(s.cpuCores.clients, 2)}`,
          s.cpuPressure ? `${n(s.cpuPressure.avg10)} %` : "–",
          `${n(s.eventLoopDelayMs.p99)} ms`,
          `${n(perPut)} / ${s.baseline ? n(s.baseline.putMs / s.baseline.puts) : "–"}`,
          `${n(perCommit)} / ${s.baseline ? n(s.baseline.commitMs / s.baseline.commits) : "–"}`,
          `${n(busy)} %`,
        ];
      }),
    ),
  );
  const failures = r.scenarios.filter((s) => s.produce.failures > 0 || s.produce.late > 0);
  for (const s of failures) {
    out.push("");
    out.push(
      `- ${label(s)}: ${s.produce.failures} failed sends${s.produce.firstError ? ` (first: ${s.produce.firstError})` : ""}, ${s.produce.late} sends late on the open-loop schedule.`,
    );
  }
  const probes = r.scenarios.filter((s) => s.peakProbe);
  for (const s of probes) {
    out.push("");
    out.push(
      `- ${label(s)}: its own peak, probed first, was ${n(s.peakProbe?.mibPerSec)} MiB/s (${n(s.peakProbe?.recordsPerSec)} records/s).`,
    );
  }
  out.push("");

  out.push("## Storage work per GiB ingested (per million records)");
  out.push("");
  out.push(
    table(
      [
        "scenario",
        "requests per commit",
        "avg object",
        "object PUTs",
        "metadata reads",
        "items written",
        "commits",
        "write units",
        "read units",
      ],
      r.scenarios.map((s) => {
        const g = s.ingest.perGiB;
        const m = s.ingest.perMillionRecords;
        const wu = g.writeUnits;
        const ru = g.reportedReadUnits ?? g.readUnits;
        const reported = g.reportedWriteUnits !== null;
        return [
          label(s),
          n(s.groupCommit.commits > 0 ? s.groupCommit.requests / s.groupCommit.commits : Number.NaN),
          `${n(s.groupCommit.avgObjectMiB, 2)} MiB`,
          `${n(g.objectPuts)} (${n(m.objectPuts)})`,
          `${n(g.metaReads)} (${n(m.metaReads)})`,
          `${n(g.metaItemsWritten)} (${n(m.metaItemsWritten)})`,
          `${n(g.metaCommits)} (${n(m.metaCommits)})`,
          `${n(wu)}${reported ? ` (DynamoDB Local said ${n(g.reportedWriteUnits)})` : ""}`,
          `${n(ru)}${reported ? " (reported)" : ""}`,
        ];
      }),
    ),
  );
  out.push("");
  out.push(
    "Write and read units are DynamoDB on-demand request units, modelled from item sizes (4 KB per strongly consistent read unit, 1 KB per write unit, doubled in a transaction). On the aws backend DynamoDB Local also reports them: its read units are used as reported; its write units are not, since it reports 2 per TransactWriteItems whatever the transaction holds, where DynamoDB bills 2 per item and KB.",
  );
  out.push("");

  out.push("## Consume");
  out.push("");
  out.push(
    table(
      [
        "scenario",
        "tail consumers MiB/s",
        "cold catch-up records/s",
        "MiB/s",
        "fetches",
        "GETs per GiB delivered",
        "metadata reads per GiB",
        "read units per GiB",
      ],
      r.scenarios.map((s) => [
        label(s),
        n(s.tailConsume?.mibPerSec),
        n(s.catchUp?.recordsPerSec),
        n(s.catchUp?.mibPerSec),
        n(s.catchUp?.fetches),
        n(s.catchUp?.perGiBDelivered.objectGets),
        n(s.catchUp?.perGiBDelivered.metaReads),
        n(
          s.catchUp
            ? (s.catchUp.perGiBDelivered.reportedReadUnits ?? s.catchUp.perGiBDelivered.readUnits)
            : null,
        ),
      ]),
    ),
  );
  for (const s of r.scenarios.filter((x) => x.compaction)) {
    out.push("");
    out.push(
      s.compaction?.available
        ? `- ${s.name}: compaction rewrote ${n(s.compaction.storage?.objectPuts)} objects (${n(s.compaction.storage?.objectGets)} GETs) before the cold read.`
        : `- ${s.name}: compaction not run: ${s.compaction?.reason}. The scenario still reads the partition as written; it measures compacted reads once src/maintenance exports runMaintenanceOnce.`,
    );
  }
  out.push("");

  out.push("## Cost model (AWS list prices)");
  out.push("");
  out.push(
    `Prices: ${PRICES_REGION}, taken ${PRICES_TAKEN_ON} (bench/prices.ts): S3 PUT $${PRICES.s3.putPer1000}/1k, GET $${PRICES.s3.getPer1000}/1k, storage $${PRICES.s3.storagePerGbMonth}/GB-month; ` +
      `DynamoDB on-demand $${PRICES.dynamodb.writeUnitPerMillion}/M write units, $${PRICES.dynamodb.readUnitPerMillion}/M read units; ` +
      `Lambda arm64 $${PRICES.lambda.requestPerMillion}/M requests, $${PRICES.lambda.armPerGbSecond}/GB-s (1024 MB functions); API Gateway HTTP API $${PRICES.apiGatewayHttp.requestPerMillion}/M requests per 512 KB. ` +
      `Metadata units: ${r.costs.units.writeUnitsPerCommit.toFixed(1)} write units per single-partition commit, ${r.costs.units.readUnitsPerFetch.toFixed(1)} read units per fetch, from ${r.costs.units.source}. ` +
      "Lambda durations are modelled (40 ms per produce, 20 ms per fetch, plus 10 ms per MiB moved, plus any long-poll wait).",
  );
  out.push("");
  out.push(
    "### 1 KiB records at 1 MiB/s, deployed on Lambda (one object and one commit per produce request; a consumer polling once a second)",
  );
  out.push("");
  out.push(
    table(
      [
        "client batching",
        "$ per GiB in",
        "$ per GiB out",
        "S3 24 h",
        "$ per GiB in + out",
        "$ per M records",
      ],
      r.costs.oneMiBPerSecond.map((row) => [
        row.label,
        `${usd(row.in.total)} (${breakdown(row.in)})`,
        `${usd(row.out.total)} (${breakdown(row.out)})`,
        usd(row.storage24h),
        `**${usd(row.totalPerGiB)}**`,
        usd(row.perMillionRecords),
      ]),
    ),
  );
  const a = r.costs.alternatives;
  out.push("");
  out.push(
    `For comparison at list price: Kinesis Data Streams on-demand $${a.kinesisOnDemand.in}/GB in + $${a.kinesisOnDemand.out}/GB out = $${(a.kinesisOnDemand.in + a.kinesisOnDemand.out).toFixed(2)}/GiB (+ ${usd(a.kinesisOnDemand.fixedPerGiB)}/GiB stream-hours at 1 MiB/s); ` +
      `MSK Serverless $${a.mskServerless.in}/GB in + $${a.mskServerless.out}/GB out = $${(a.mskServerless.in + a.mskServerless.out).toFixed(2)}/GiB (+ ${usd(a.mskServerless.fixedPerGiB)}/GiB cluster- and partition-hours at 1 MiB/s, + ${usd(a.mskServerless.storagePerGiB)} for a day's storage).`,
  );
  out.push("");
  out.push("### Per scenario");
  out.push("");
  out.push(
    table(
      [
        "scenario",
        "server as measured: $ per GiB in (storage + metadata)",
        "$ per GiB out",
        "Lambda, requests as sent: $ per GiB in",
        "$ per GiB out",
        "$ per M records in + out",
      ],
      r.costs.scenarios.map((c) => [
        c.scenario,
        usd(c.serverPerGiBIn.total),
        c.serverPerGiBOut ? usd(c.serverPerGiBOut.total) : "–",
        `${usd(c.lambdaPerRequest.perGiBIn.total)} (${bytes(c.lambdaPerRequest.requestBytes)} requests)`,
        usd(c.lambdaPerRequest.perGiBOut.total),
        usd(c.perMillionRecordsInOut),
      ]),
    ),
  );
  out.push("");
  out.push(
    "The server columns price what a long-running process (floe dev, or a container agent) makes the storage do, with its group commit; its own compute is not priced. The Lambda columns price the deployed path, where there is no cross-request group commit: every produce invocation is one object and one commit, so the client's batching decides the bill.",
  );
  if (r.skipped.length > 0) {
    out.push("");
    out.push("## Skipped");
    out.push("");
    for (const s of r.skipped) out.push(`- ${s.name}: ${s.reason}`);
  }
  out.push("");
  return out.join("\n");
}
