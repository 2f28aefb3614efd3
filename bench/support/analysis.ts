/**
 * From scenario results to the questions: what each costs deployed, and whether each
 * target is met. Pure functions over the results.
 */
import {
  alternativesPerGiB,
  type CostBreakdown,
  costPerGiB,
  lambdaPathPerGiB,
  type MeasuredUnits,
  perMillionRecords,
  storagePerGiB,
} from "../cost-model.js";
import type { PhaseStorage, ScenarioResult } from "../scenarios.js";
import { KiB, MiB } from "./stats.js";

export interface ScenarioCost {
  scenario: string;
  /** The server as measured (group commit), storage and metadata only: a long-running agent's compute is not priced. */
  serverPerGiBIn: CostBreakdown;
  serverPerGiBOut: CostBreakdown | null;
  /** Deployed on Lambda, each produce request as the scenario sent it (one object and commit each). */
  lambdaPerRequest: { requestBytes: number; perGiBIn: CostBreakdown; perGiBOut: CostBreakdown };
  perMillionRecordsInOut: number;
}

export interface CostRow {
  label: string;
  requestBytes: number;
  fetchBytes: number;
  fetchWaitMs: number;
  in: CostBreakdown;
  out: CostBreakdown;
  storage24h: number;
  totalPerGiB: number;
  perMillionRecords: number;
}

export interface CostAnalysis {
  units: MeasuredUnits & { source: string };
  scenarios: ScenarioCost[];
  /** 1 KiB records at 1 MiB/s sustained, deployed on Lambda, by how much each request carries. */
  oneMiBPerSecond: CostRow[];
  alternatives: ReturnType<typeof alternativesPerGiB>;
}

/**
 * Units to price. Reads as DynamoDB reported them when it did; writes always as modelled, because
 * DynamoDB Local reports 2 write units per TransactWriteItems whatever it holds, where DynamoDB
 * bills 2 per item and KB (its documented transactional rate).
 */
function units(p: PhaseStorage): { read: number; write: number } {
  return { read: p.reportedReadUnits ?? p.readUnits, write: p.writeUnits };
}

/**
 * Metadata units of one single-partition produce commit (a topic check, head and segment item,
 * object ref: 4 items) and of one fetch, from what the ports counted. Prefers DynamoDB's own
 * figures (the aws scenario) over the modelled ones.
 */
export function measuredUnits(results: ScenarioResult[]): MeasuredUnits & { source: string } {
  const withReported = results.find((r) => r.catchUp?.total.reportedReadUnits != null);
  const source =
    withReported ?? results.find((r) => r.name === "peak" && r.catchUp) ?? results.find((r) => r.catchUp);
  if (!source?.catchUp) {
    return {
      writeUnitsPerCommit: 8,
      readUnitsPerCommit: 1,
      readUnitsPerFetch: 2,
      source: "assumed (no scenario measured)",
    };
  }
  const ingest = units(source.ingest.total);
  const items = source.ingest.total.metaItemsWritten + source.ingest.total.metaCommits; // + one check each
  const perItem = items > 0 ? ingest.write / items : 2;
  const fetch = units(source.catchUp.total);
  return {
    writeUnitsPerCommit: 4 * perItem,
    readUnitsPerCommit: 1,
    readUnitsPerFetch: source.catchUp.fetches > 0 ? fetch.read / source.catchUp.fetches : 2,
    source: `${source.name} (${source.catchUp.total.reportedReadUnits !== null ? "read units as DynamoDB Local reported them, write units modelled" : "units modelled from item sizes"})`,
  };
}

function serverCost(p: PhaseStorage): CostBreakdown {
  const u = units(p);
  return costPerGiB({
    requests: 0,
    bytesPerRequest: 0,
    durationMs: 0,
    objectPuts: p.objectPuts,
    objectGets: p.objectGets,
    readUnits: u.read,
    writeUnits: u.write,
  });
}

export function analyseCosts(results: ScenarioResult[]): CostAnalysis {
  const measured = measuredUnits(results);
  // Repeated runs price alike; the first of each stands for them.
  const scenarios = results
    .filter((r) => (r.run ?? 1) === 1)
    .map((r): ScenarioCost => {
      const out = r.catchUp?.perGiBDelivered ?? null;
      const requestBytes = r.params.recordBytes * r.params.recordsPerRequest;
      const lambda = lambdaPathPerGiB(measured, { requestBytes, fetchBytes: 4 * MiB, fetchWaitMs: 0 });
      const inOut = lambda.ingest.total + lambda.deliver.total;
      return {
        scenario: r.run && r.run > 1 ? `${r.name} #${r.run}` : r.name,
        serverPerGiBIn: serverCost(r.ingest.perGiB),
        serverPerGiBOut: out ? serverCost(out) : null,
        lambdaPerRequest: { requestBytes, perGiBIn: lambda.ingest, perGiBOut: lambda.deliver },
        perMillionRecordsInOut: perMillionRecords(inOut, r.params.recordBytes),
      };
    });

  // 1 MiB/s of 1 KiB records: a consumer polling once a second gets 1 MiB per fetch.
  const rows: CostRow[] = [];
  const variants: { label: string; requestBytes: number; fetchWaitMs: number }[] = [
    // Kafka's linger.ms 5 at 1 MiB/s sends what 5 ms brings over all partitions: ~5 KiB.
    { label: "Producer defaults (lingerMs 5: ~5 KiB requests)", requestBytes: 5 * KiB, fetchWaitMs: 0 },
    { label: "16 KiB requests (one full default batchSize)", requestBytes: 16 * KiB, fetchWaitMs: 0 },
    { label: "64 KiB requests", requestBytes: 64 * KiB, fetchWaitMs: 0 },
    {
      label: "256 KiB requests (lingerMs ≈ 250 per producer at 1 MiB/s)",
      requestBytes: 256 * KiB,
      fetchWaitMs: 0,
    },
    { label: "1000 KiB requests (lingerMs ≈ 1000)", requestBytes: 1000 * KiB, fetchWaitMs: 0 },
    {
      label: "1000 KiB requests, consumer long-polling (Lambda bills the wait)",
      requestBytes: 1000 * KiB,
      fetchWaitMs: 1000,
    },
    { label: "4000 KiB requests (lingerMs ≈ 4000)", requestBytes: 4000 * KiB, fetchWaitMs: 0 },
  ];
  for (const v of variants) {
    const fetchBytes = MiB;
    const { ingest, deliver } = lambdaPathPerGiB(measured, {
      requestBytes: v.requestBytes,
      fetchBytes,
      fetchWaitMs: v.fetchWaitMs,
    });
    const storage24h = storagePerGiB(24);
    const total = ingest.total + deliver.total + storage24h;
    rows.push({
      label: v.label,
      requestBytes: v.requestBytes,
      fetchBytes,
      fetchWaitMs: v.fetchWaitMs,
      in: ingest,
      out: deliver,
      storage24h,
      totalPerGiB: total,
      perMillionRecords: perMillionRecords(total, KiB),
    });
  }
  return { units: measured, scenarios, oneMiBPerSecond: rows, alternatives: alternativesPerGiB(1) };
}

export type Verdict = "met" | "missed" | "not measured";

export interface Target {
  id: string;
  target: string;
  verdict: Verdict;
  figures: string;
}

const f1 = (n: number | undefined | null) =>
  n === undefined || n === null || !Number.isFinite(n) ? "n/a" : n.toFixed(1);
const f3 = (n: number) => n.toFixed(4);

/** One run judged against a target: whether it meets it, its figures, and the value runs are ranked by. */
interface Judged {
  met: boolean;
  figures: string;
  key: number;
}

/**
 * A target over every run of a scenario: judged on the median run (ranked by `key`), with the
 * other runs' figures alongside, since the machine's noise moves single runs a lot.
 */
function overRuns(
  id: string,
  target: string,
  runs: ScenarioResult[],
  judge: (r: ScenarioResult) => Judged | null,
): Target {
  const judged = runs.map(judge).filter((j): j is Judged => j !== null);
  if (judged.length === 0) return { id, target, verdict: "not measured", figures: "" };
  const ranked = [...judged].sort((a, b) => a.key - b.key);
  const median = ranked[Math.floor((ranked.length - 1) / 2)];
  const others =
    judged.length > 1
      ? ` (median of ${judged.length} runs; ${judged.filter((j) => j.met).length} met; all: ${judged.map((j) => f1(j.key)).join(", ")})`
      : "";
  return { id, target, verdict: median.met ? "met" : "missed", figures: median.figures + others };
}

export function evaluateTargets(results: ScenarioResult[], costs: CostAnalysis): Target[] {
  const runs = (name: string) => results.filter((r) => r.name === name);
  const targets: Target[] = [];

  targets.push(
    overRuns(
      "throughput",
      "floe dev, 8 binary producers, 1 KiB: ≥ 50 % of the raw storage baseline for the same writes",
      runs("peak"),
      (r) =>
        r.baseline
          ? {
              met: r.baseline.ratio >= 0.5,
              key: r.baseline.ratio * 100,
              figures: `${f1(r.produce.mibPerSec)} MiB/s vs baseline ${f1(r.baseline.mibPerSec)} MiB/s = ${(r.baseline.ratio * 100).toFixed(0)} %`,
            }
          : null,
    ),
  );

  targets.push(
    overRuns(
      "low-latency",
      "low-latency profile at half of peak: ack p99 ≤ 25 ms and end-to-end p99 ≤ 50 ms",
      runs("low-latency"),
      (r) =>
        r.endToEnd
          ? {
              met: r.produce.ack.p99 <= 25 && r.endToEnd.p99 <= 50,
              key: r.produce.ack.p99,
              figures: `at ${f1(r.produce.mibPerSec)} MiB/s (peak ${f1(r.peakProbe?.mibPerSec)}): ack p99 ${f1(r.produce.ack.p99)} ms, e2e p99 ${f1(r.endToEnd.p99)} ms`,
            }
          : null,
    ),
  );

  targets.push(
    overRuns(
      "low-cost",
      "low-cost profile at 10 MiB/s: ≤ 256 object PUTs per GiB ingested with ack p99 ≤ 400 ms",
      runs("low-cost"),
      (r) => ({
        met: r.ingest.perGiB.objectPuts <= 256 && r.produce.ack.p99 <= 400,
        key: r.produce.ack.p99,
        figures: `at ${f1(r.produce.mibPerSec)} MiB/s: ${f1(r.ingest.perGiB.objectPuts)} PUTs/GiB (objects of ${f1(r.groupCommit.avgObjectMiB)} MiB), ack p99 ${f1(r.produce.ack.p99)} ms`,
      }),
    ),
  );

  const compacted = runs("compacted-fetch").filter((r) => r.compaction?.available && r.catchUp);
  if (compacted.length > 0) {
    targets.push(
      overRuns(
        "fetch-gets",
        "a consumer reading a compacted partition: ≤ 256 GETs per GiB delivered",
        compacted,
        (r) =>
          r.catchUp
            ? {
                met: r.catchUp.perGiBDelivered.objectGets <= 256,
                key: r.catchUp.perGiBDelivered.objectGets,
                figures: `${f1(r.catchUp.perGiBDelivered.objectGets)} GETs/GiB after compaction`,
              }
            : null,
      ),
    );
  } else {
    const reason = runs("compacted-fetch").find((r) => r.compaction?.reason)?.compaction?.reason;
    targets.push(
      overRuns(
        "fetch-gets",
        "≤ 256 GETs per GiB delivered; measured on a partition written in large objects (low-cost), since compaction was not available" +
          (reason ? ` (${reason})` : ""),
        runs("low-cost"),
        (r) =>
          r.catchUp
            ? {
                met: r.catchUp.perGiBDelivered.objectGets <= 256,
                key: r.catchUp.perGiBDelivered.objectGets,
                figures: `${f1(r.catchUp.perGiBDelivered.objectGets)} GETs/GiB`,
              }
            : null,
      ),
    );
  }

  const best = costs.oneMiBPerSecond.find((r) => r.totalPerGiB <= 0.02);
  const cheapest = [...costs.oneMiBPerSecond].sort((a, b) => a.totalPerGiB - b.totalPerGiB)[0];
  targets.push({
    id: "cost",
    target: "modelled AWS cost, 1 KiB records at 1 MiB/s: ≤ $0.02 per GiB in + out",
    verdict: best ? "met" : "missed",
    figures: best
      ? `$${f3(best.totalPerGiB)}/GiB with ${best.label}; $${f3(costs.oneMiBPerSecond[0].totalPerGiB)} with the Producer's defaults`
      : `cheapest $${f3(cheapest.totalPerGiB)}/GiB (${cheapest.label})`,
  });
  return targets;
}
