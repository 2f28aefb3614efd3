/**
 * bench/peer-kafka.ts's results: the median of each figure over the repeats, each Floe mode's
 * figure as a ratio of Kafka's, the issue's targets judged on those ratios, and the Markdown page.
 */
import type { MachineInfo } from "./machine.js";

export type Better = "higher" | "lower";

/** One figure the report shows: which step measures it, what it is called, which way is better. */
export interface FigureSpec {
  step: string;
  key: string;
  label: string;
  better: Better;
  digits?: number;
}

/** The end-to-end step at `rate` MiB/s: its latencies, what was produced and the server's CPU. */
function e2eFigures(rate: number): FigureSpec[] {
  const step = `e2e-${rate}`;
  return [
    { step, key: "e2eP50Ms", label: `e2e p50 ms at ${rate} MiB/s`, better: "lower" },
    { step, key: "e2eP99Ms", label: `e2e p99 ms at ${rate} MiB/s`, better: "lower" },
    { step, key: "achievedMiBs", label: `produced MiB/s (offered ${rate})`, better: "higher", digits: 2 },
    {
      step,
      key: "serverCpuMsPerMiB",
      label: `server CPU ms per MiB at ${rate} MiB/s`,
      better: "lower",
      digits: 0,
    },
  ];
}

export const FIGURES: FigureSpec[] = [
  { step: "produce", key: "mibPerSec", label: "KafkaJS produce MiB/s", better: "higher" },
  { step: "produce", key: "ackP50Ms", label: "KafkaJS produce ack p50 ms", better: "lower" },
  { step: "produce", key: "ackP99Ms", label: "KafkaJS produce ack p99 ms", better: "lower" },
  {
    step: "produce",
    key: "serverCpuMsPerMiB",
    label: "server CPU ms per MiB produced",
    better: "lower",
    digits: 0,
  },
  ...e2eFigures(1),
  ...e2eFigures(5),
  { step: "catchup", key: "mibPerSec", label: "cold catch-up read MiB/s", better: "higher" },
  {
    step: "catchup",
    key: "firstRecordMs",
    label: "cold read: connect to first record ms",
    better: "lower",
    digits: 0,
  },
  {
    step: "perf-default",
    key: "mibPerSec",
    label: "ProducerPerformance MiB/s (client defaults)",
    better: "higher",
  },
  {
    step: "perf-default",
    key: "p50Ms",
    label: "ProducerPerformance p50 ms (client defaults)",
    better: "lower",
    digits: 0,
  },
  {
    step: "perf-default",
    key: "p99Ms",
    label: "ProducerPerformance p99 ms (client defaults)",
    better: "lower",
    digits: 0,
  },
  {
    step: "perf-default",
    key: "serverCpuMsPerMiB",
    label: "server CPU ms per MiB (ProducerPerformance defaults)",
    better: "lower",
    digits: 0,
  },
  {
    step: "perf-batch",
    key: "mibPerSec",
    label: "ProducerPerformance MiB/s (1 MiB batches)",
    better: "higher",
  },
  {
    step: "perf-batch",
    key: "p50Ms",
    label: "ProducerPerformance p50 ms (1 MiB batches)",
    better: "lower",
    digits: 0,
  },
  {
    step: "perf-batch",
    key: "p99Ms",
    label: "ProducerPerformance p99 ms (1 MiB batches)",
    better: "lower",
    digits: 0,
  },
  {
    step: "perf-batch",
    key: "serverCpuMsPerMiB",
    label: "server CPU ms per MiB (ProducerPerformance 1 MiB batches)",
    better: "lower",
    digits: 0,
  },
];

/** Floe's own client: Floe only, no Kafka peer to divide by. */
export const FLOE_CLIENT_FIGURES: FigureSpec[] = [
  { step: "floe-client", key: "offeredMiBs", label: "offered MiB/s", better: "higher" },
  { step: "floe-client", key: "achievedMiBs", label: "achieved MiB/s", better: "higher" },
  { step: "floe-client", key: "ackP50Ms", label: "ack p50 ms (from due)", better: "lower" },
  { step: "floe-client", key: "ackP99Ms", label: "ack p99 ms (from due)", better: "lower" },
  { step: "floe-client", key: "maxBacklogMiB", label: "most MiB unacknowledged at once", better: "lower" },
  {
    step: "floe-client",
    key: "drainMs",
    label: "last ack after the offering ended, ms",
    better: "lower",
    digits: 0,
  },
  {
    step: "floe-client",
    key: "serverCpuMsPerMiB",
    label: "server CPU ms per MiB",
    better: "lower",
    digits: 0,
  },
];

export interface ServerEntry {
  id: string;
  label: string;
  /** Why it did not run, when it did not. */
  skipped?: string;
}

export interface StepRun {
  step: string;
  server: string;
  repeat: number;
  loadBefore: number[];
  loadAfter: number[];
  seconds: number;
  figures?: Record<string, number>;
  notes?: string[];
  error?: string;
}

export interface Target {
  target: string;
  server: string;
  verdict: "met" | "missed" | "not measured";
  figures: string;
}

export interface PeerReport {
  startedAt: string;
  finishedAt: string;
  command: string;
  mode: "quick" | "full";
  git: { commit: string; dirty: boolean };
  machine: MachineInfo & { java?: string };
  loadAverageAfter: number[];
  settings: Record<string, unknown>;
  servers: ServerEntry[];
  runs: StepRun[];
  /** step → server → figure → median over the repeats that produced it. */
  medians: Record<string, Record<string, Record<string, number>>>;
  targets: Target[];
  notes: string[];
}

export function median(values: number[]): number {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return Number.NaN;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 === 1 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

export function medians(runs: StepRun[]): PeerReport["medians"] {
  const out: PeerReport["medians"] = {};
  const grouped = new Map<string, StepRun[]>();
  for (const r of runs) {
    if (!r.figures) continue;
    const k = `${r.step}\u0000${r.server}`;
    grouped.set(k, [...(grouped.get(k) ?? []), r]);
  }
  for (const [k, rs] of grouped) {
    const [step, server] = k.split("\u0000");
    const keys = new Set(rs.flatMap((r) => Object.keys(r.figures ?? {})));
    const figures: Record<string, number> = {};
    for (const key of keys) figures[key] = median(rs.map((r) => r.figures?.[key] ?? Number.NaN));
    out[step] ??= {};
    out[step][server] = figures;
  }
  return out;
}

const figure = (m: PeerReport["medians"], step: string, server: string, key: string): number =>
  m[step]?.[server]?.[key] ?? Number.NaN;

/** Floe's figure over the peer's: NaN when either is missing. */
export function ratio(floe: number, kafka: number): number {
  return Number.isFinite(floe) && Number.isFinite(kafka) && kafka !== 0 ? floe / kafka : Number.NaN;
}

/** The issue's targets, judged per Floe durability mode against Kafka at its defaults. */
export function evaluateTargets(m: PeerReport["medians"], floeServers: string[]): Target[] {
  const ratioTargets = [
    {
      target: "throughput ≥ 1.0× Kafka's (KafkaJS produce MiB/s)",
      step: "produce",
      key: "mibPerSec",
      limit: 1.0,
      atLeast: true,
    },
    {
      target: "ack p99 ≤ 1.5× Kafka's (KafkaJS produce)",
      step: "produce",
      key: "ackP99Ms",
      limit: 1.5,
      atLeast: false,
    },
    {
      target: "end-to-end p99 at 5 MiB/s ≤ 2× Kafka's",
      step: "e2e-5",
      key: "e2eP99Ms",
      limit: 2,
      atLeast: false,
    },
    {
      target: "server CPU per MiB ≤ 1.5× Kafka's (KafkaJS produce)",
      step: "produce",
      key: "serverCpuMsPerMiB",
      limit: 1.5,
      atLeast: false,
    },
  ];
  const out: Target[] = [];
  for (const server of floeServers) {
    for (const t of ratioTargets) {
      const floe = figure(m, t.step, server, t.key);
      const kafka = figure(m, t.step, "kafka", t.key);
      const r = ratio(floe, kafka);
      out.push({
        target: t.target,
        server,
        verdict: !Number.isFinite(r)
          ? "not measured"
          : (t.atLeast ? r >= t.limit : r <= t.limit)
            ? "met"
            : "missed",
        figures: Number.isFinite(r) ? `${fmt(r, 2)}× (Floe ${fmt(floe)} vs Kafka ${fmt(kafka)})` : "–",
      });
    }
    const keptUp = figure(m, "floe-client", server, "keptUp");
    out.push({
      target: "Floe's client at its defaults: 20 MiB/s of 1 KiB records from one producer, no backlog",
      server,
      verdict: !Number.isFinite(keptUp) ? "not measured" : keptUp >= 1 ? "met" : "missed",
      figures: Number.isFinite(keptUp)
        ? `${fmt(figure(m, "floe-client", server, "achievedMiBs"))} of ${fmt(figure(m, "floe-client", server, "offeredMiBs"))} MiB/s, ack p99 ${fmt(figure(m, "floe-client", server, "ackP99Ms"))} ms, up to ${fmt(figure(m, "floe-client", server, "maxBacklogMiB"))} MiB unacknowledged`
        : "–",
    });
  }
  return out;
}

export function fmt(v: number, digits = 1): string {
  if (!Number.isFinite(v)) return "–";
  if (Math.abs(v) >= 1000) return Math.round(v).toLocaleString("en-US");
  return v.toFixed(digits);
}

function table(head: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  return [line(head), line(head.map(() => "---")), ...rows.map(line)].join("\n");
}

const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(" / ");

export function renderMarkdown(r: PeerReport): string {
  const out: string[] = [];
  const ran = (id: string) => r.servers.some((s) => s.id === id && !s.skipped);
  const floes = r.servers.filter((s) => s.id.startsWith("floe"));
  const kafkaFsync = ran("kafka-fsync");
  out.push("# Floe beside Apache Kafka on the same machine");
  out.push("");
  out.push(
    `Run ${r.startedAt} → ${r.finishedAt} (${r.mode}), \`${r.command}\`, commit \`${r.git.commit.slice(0, 12)}\`${r.git.dirty ? " (with uncommitted changes)" : ""}.`,
  );
  out.push(
    `Machine: ${r.machine.nproc} × ${r.machine.cpuModel}, ${r.machine.memoryGiB} GiB memory, Node ${r.machine.node}, ${r.machine.java ?? "no Java"}, ${r.machine.platform}. ` +
      `Load average (1/5/15 min) at start ${load(r.machine.loadAverage)}, at end ${load(r.loadAverageAfter)}` +
      (r.machine.cpuPressure ? `; CPU pressure at start ${r.machine.cpuPressure.avg10} %` : "") +
      ". Each step's load is in the runs table below.",
  );
  out.push("");
  out.push("Servers:");
  for (const s of r.servers)
    out.push(`- **${s.id}**: ${s.label}${s.skipped ? ` — **skipped**: ${s.skipped}` : ""}`);
  out.push("");
  out.push(
    `Every step runs against every server in turn (${r.servers
      .filter((s) => !s.skipped)
      .map((s) => s.id)
      .join(
        ", ",
      )}, then the next step), ${r.settings.repeat} time(s); each figure is the median over the repeats. ` +
      "Ratios are Floe's figure over Kafka's (at Kafka's defaults" +
      (kafkaFsync ? "; and, for floe-fsync, also over kafka-fsync" : "") +
      "): above 1 means Floe is faster for throughput and slower for latency and CPU.",
  );
  out.push("");
  out.push("## Targets");
  out.push("");
  out.push(
    table(
      ["target", "Floe mode", "verdict", "figures"],
      r.targets.map((t) => [t.target, t.server, `**${t.verdict}**`, t.figures]),
    ),
  );
  out.push("");
  out.push("## Side by side");
  out.push("");
  const head = ["figure", "Kafka"];
  for (const f of floes) head.push(f.id, `${f.id} / Kafka`);
  if (kafkaFsync) head.push("kafka-fsync", "floe-fsync / kafka-fsync");
  const rows = FIGURES.filter((f) => r.medians[f.step]).map((f) => {
    const k = figure(r.medians, f.step, "kafka", f.key);
    const row = [f.label, fmt(k, f.digits)];
    for (const s of floes) {
      const v = figure(r.medians, f.step, s.id, f.key);
      row.push(s.skipped ? "skipped" : fmt(v, f.digits), s.skipped ? "–" : `${fmt(ratio(v, k), 2)}×`);
    }
    if (kafkaFsync) {
      const kf = figure(r.medians, f.step, "kafka-fsync", f.key);
      row.push(fmt(kf, f.digits), `${fmt(ratio(figure(r.medians, f.step, "floe-fsync", f.key), kf), 2)}×`);
    }
    return row;
  });
  out.push(table(head, rows));
  out.push("");
  if (r.medians["floe-client"]) {
    out.push(
      `## Floe's own client (HTTP, its defaults), one producer offered ${r.settings.floeClientMiBs} MiB/s`,
    );
    out.push("");
    const ran = floes.filter((s) => !s.skipped);
    out.push(
      table(
        ["figure", ...ran.map((s) => s.id)],
        [
          ...FLOE_CLIENT_FIGURES.map((f) => [
            f.label,
            ...ran.map((s) => fmt(figure(r.medians, f.step, s.id, f.key), f.digits)),
          ]),
          [
            "kept up (no backlog)",
            ...ran.map((s) => (figure(r.medians, "floe-client", s.id, "keptUp") >= 1 ? "yes" : "no")),
          ],
        ],
      ),
    );
    out.push("");
  }
  out.push("## Notes");
  out.push("");
  for (const n of r.notes) out.push(`- ${n}`);
  out.push("");
  out.push("## Runs");
  out.push("");
  out.push(
    table(
      ["step", "server", "repeat", "seconds", "load before → after (1 min)", "figures / outcome"],
      r.runs.map((run) => [
        run.step,
        run.server,
        String(run.repeat),
        fmt(run.seconds),
        `${fmt(run.loadBefore[0], 2)} → ${fmt(run.loadAfter[0], 2)}`,
        run.error
          ? `failed: ${run.error}`
          : [
              Object.entries(run.figures ?? {})
                .map(([k, v]) => `${k} ${fmt(v)}`)
                .join(", "),
              ...(run.notes ?? []),
            ].join("; "),
      ]),
    ),
  );
  out.push("");
  return out.join("\n");
}
