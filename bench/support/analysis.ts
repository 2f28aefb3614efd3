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

function units(p: PhaseStorage): { read: number; write: number } {
  return { read: p.reportedReadUnits ?? p.readUnits, write: p.reportedWriteUnits ?? p.writeUnits };
}

/**
 * Metadata units of one single-partition produce commit (a topic check, head and segment item,
 * object ref: 4 items) and of one fetch, from what the ports counted. Prefers DynamoDB's own
 * figures (the aws scenario) over the modelled ones.
 */
export function measuredUnits(results: ScenarioResult[]): MeasuredUnits & { source: string } {
  const withReported = results.find((r) => r.ingest.total.reportedWriteUnits !== null && r.catchUp);
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
    source: `${source.name} (${source.ingest.total.reportedWriteUnits !== null ? "units DynamoDB reported" : "units modelled from item sizes"})`,
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
  const scenarios = results.map((r): ScenarioCost => {
    const out = r.catchUp?.perGiBDelivered ?? null;
    const requestBytes = r.params.recordBytes * r.params.recordsPerRequest;
    const lambda = lambdaPathPerGiB(measured, { requestBytes, fetchBytes: 4 * MiB, fetchWaitMs: 0 });
    const inOut = lambda.ingest.total + lambda.deliver.total;
    return {
      scenario: r.name,
      serverPerGiBIn: serverCost(r.ingest.perGiB),
      serverPerGiBOut: out ? serverCost(out) : null,
      lambdaPerRequest: { requestBytes, perGiBIn: lambda.ingest, perGiBOut: lambda.deliver },
      perMillionRecordsInOut: perMillionRecords(inOut, r.params.recordBytes),
    };
  });

  // 1 MiB/s of 1 KiB records: a consumer polling once a second gets 1 MiB per fetch.
  const rows: CostRow[] = [];
  const variants: { label: string; requestBytes: number; fetchWaitMs: number }[] = [
    { label: "Producer defaults (16 KiB requests)", requestBytes: 16 * KiB, fetchWaitMs: 0 },
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

export function evaluateTargets(results: ScenarioResult[], costs: CostAnalysis): Target[] {
  const by = (name: string) => results.find((r) => r.name === name);
  const targets: Target[] = [];

  const peak = by("peak");
  targets.push(
    peak?.baseline
      ? {
          id: "throughput",
          target:
            "floe dev, 8 binary producers, 1 KiB: ≥ 50 % of the raw storage baseline for the same writes",
          verdict: peak.baseline.ratio >= 0.5 ? "met" : "missed",
          figures: `${f1(peak.produce.mibPerSec)} MiB/s vs baseline ${f1(peak.baseline.mibPerSec)} MiB/s = ${(peak.baseline.ratio * 100).toFixed(0)} %`,
        }
      : { id: "throughput", target: "≥ 50 % of raw baseline", verdict: "not measured", figures: "" },
  );

  const low = by("low-latency");
  targets.push(
    low?.endToEnd
      ? {
          id: "low-latency",
          target: "low-latency profile at half of peak: ack p99 ≤ 25 ms and end-to-end p99 ≤ 50 ms",
          verdict: low.produce.ack.p99 <= 25 && low.endToEnd.p99 <= 50 ? "met" : "missed",
          figures: `at ${f1(low.produce.mibPerSec)} MiB/s (peak ${f1(low.peakProbe?.mibPerSec)}): ack p99 ${f1(low.produce.ack.p99)} ms, e2e p99 ${f1(low.endToEnd.p99)} ms`,
        }
      : { id: "low-latency", target: "low-latency ack/e2e p99", verdict: "not measured", figures: "" },
  );

  const cost = by("low-cost");
  targets.push(
    cost
      ? {
          id: "low-cost",
          target: "low-cost profile at 10 MiB/s: ≤ 256 object PUTs per GiB ingested with ack p99 ≤ 400 ms",
          verdict: cost.ingest.perGiB.objectPuts <= 256 && cost.produce.ack.p99 <= 400 ? "met" : "missed",
          figures: `at ${f1(cost.produce.mibPerSec)} MiB/s: ${f1(cost.ingest.perGiB.objectPuts)} PUTs/GiB (objects of ${f1(cost.groupCommit.avgObjectMiB)} MiB), ack p99 ${f1(cost.produce.ack.p99)} ms`,
        }
      : { id: "low-cost", target: "low-cost PUTs/GiB and ack p99", verdict: "not measured", figures: "" },
  );

  const compacted = by("compacted-fetch");
  if (compacted?.compaction?.available && compacted.catchUp) {
    targets.push({
      id: "fetch-gets",
      target: "a consumer reading a compacted partition: ≤ 256 GETs per GiB delivered",
      verdict: compacted.catchUp.perGiBDelivered.objectGets <= 256 ? "met" : "missed",
      figures: `${f1(compacted.catchUp.perGiBDelivered.objectGets)} GETs/GiB after compaction`,
    });
  } else if (cost?.catchUp) {
    targets.push({
      id: "fetch-gets",
      target:
        "≤ 256 GETs per GiB delivered; measured on a partition written in large objects (low-cost), since compaction was not available" +
        (compacted?.compaction?.reason ? ` (${compacted.compaction.reason})` : ""),
      verdict: cost.catchUp.perGiBDelivered.objectGets <= 256 ? "met" : "missed",
      figures: `${f1(cost.catchUp.perGiBDelivered.objectGets)} GETs/GiB`,
    });
  } else {
    targets.push({
      id: "fetch-gets",
      target: "GETs per GiB delivered",
      verdict: "not measured",
      figures: "",
    });
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
