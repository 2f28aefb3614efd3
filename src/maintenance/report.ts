import { FloeError } from "../errors.js";

/** What a whole pass over deleted topics, partitions and objects found, summed across its slices. */
export interface CycleTotals {
  startedAt: number;
  partitions: number;
  segments: number;
  /** Objects still stored after collection. */
  objects: number;
  bytes: number;
}

export interface CycleSummary extends CycleTotals {
  completedAt: number;
  averageObjectBytes: number;
  segmentsPerPartition: number;
}

export interface MaintenanceError {
  /** What was being worked on: `topic/partition`, `deleted-topic/{id}`, `gc`. */
  scope: string;
  code: string;
  message: string;
}

export function errorEntry(scope: string, e: unknown): MaintenanceError {
  return {
    scope,
    code: e instanceof FloeError ? e.code : "UNKNOWN_SERVER_ERROR",
    message: e instanceof Error ? e.message : String(e),
  };
}

/** One slice's work. */
export interface MaintenanceReport {
  owner: string;
  startedAt: number;
  finishedAt: number;
  /** This slice finished a pass; `cycle` then holds the pass's totals. */
  cycleComplete: boolean;
  /** The slice stopped because its budget ran out; the next resumes from the stored cursor. */
  budgetExhausted: boolean;
  ops: number;
  partitions: {
    visited: number;
    /** Partitions this worker took the lease of, having found work due. */
    leased: number;
    /** Work was due but another worker held the lease. */
    busy: number;
    /** The lease was taken over mid-work and the late write refused. */
    fenced: number;
  };
  compaction: { merges: number; segmentsMerged: number; bytesRewritten: number };
  retention: { segmentsDeleted: number; bytesDeleted: number };
  reclaim: { topics: number; partitions: number; segments: number };
  gc: { objectsListed: number; objectsDeleted: number; orphansDeleted: number; bytesDeleted: number };
  /** Idempotent producers expired (producer.id.expiration.ms), and their per-partition states. */
  producers: { expired: number; sequencesExpired: number };
  errors: MaintenanceError[];
  cycle: CycleSummary | null;
}

export function emptyReport(owner: string, now: number): MaintenanceReport {
  return {
    owner,
    startedAt: now,
    finishedAt: now,
    cycleComplete: false,
    budgetExhausted: false,
    ops: 0,
    partitions: { visited: 0, leased: 0, busy: 0, fenced: 0 },
    compaction: { merges: 0, segmentsMerged: 0, bytesRewritten: 0 },
    retention: { segmentsDeleted: 0, bytesDeleted: 0 },
    reclaim: { topics: 0, partitions: 0, segments: 0 },
    gc: { objectsListed: 0, objectsDeleted: 0, orphansDeleted: 0, bytesDeleted: 0 },
    producers: { expired: 0, sequencesExpired: 0 },
    errors: [],
    cycle: null,
  };
}

export function summarizeCycle(totals: CycleTotals, completedAt: number): CycleSummary {
  return {
    ...totals,
    completedAt,
    averageObjectBytes: totals.objects === 0 ? 0 : Math.round(totals.bytes / totals.objects),
    segmentsPerPartition: totals.partitions === 0 ? 0 : totals.segments / totals.partitions,
  };
}

/** Sums slices' reports into one, as for a whole pass run to completion. */
export function mergeReports(a: MaintenanceReport, b: MaintenanceReport): MaintenanceReport {
  const add = <T extends Record<string, number>>(x: T, y: T): T =>
    Object.fromEntries(Object.entries(x).map(([k, v]) => [k, v + y[k]])) as T;
  return {
    owner: b.owner,
    startedAt: a.startedAt,
    finishedAt: b.finishedAt,
    cycleComplete: b.cycleComplete,
    budgetExhausted: b.budgetExhausted,
    ops: a.ops + b.ops,
    partitions: add(a.partitions, b.partitions),
    compaction: add(a.compaction, b.compaction),
    retention: add(a.retention, b.retention),
    reclaim: add(a.reclaim, b.reclaim),
    gc: add(a.gc, b.gc),
    producers: add(a.producers, b.producers),
    errors: [...a.errors, ...b.errors],
    cycle: b.cycle ?? a.cycle,
  };
}

export interface MetricPoint {
  name: string;
  unit: "Count" | "Bytes";
  value: number;
}

/**
 * The report as CloudWatch-style metrics: the work done every slice, and the storage shape (objects,
 * bytes, average object size, segments per partition) whenever a slice completes a pass.
 */
export function reportMetrics(report: MaintenanceReport): MetricPoint[] {
  const points: MetricPoint[] = [
    { name: "Merges", unit: "Count", value: report.compaction.merges },
    { name: "SegmentsMerged", unit: "Count", value: report.compaction.segmentsMerged },
    { name: "BytesRewritten", unit: "Bytes", value: report.compaction.bytesRewritten },
    { name: "RetentionSegmentsDeleted", unit: "Count", value: report.retention.segmentsDeleted },
    { name: "RetentionBytesDeleted", unit: "Bytes", value: report.retention.bytesDeleted },
    { name: "TopicsReclaimed", unit: "Count", value: report.reclaim.topics },
    { name: "ObjectsDeleted", unit: "Count", value: report.gc.objectsDeleted },
    { name: "OrphansDeleted", unit: "Count", value: report.gc.orphansDeleted },
    { name: "BytesDeleted", unit: "Bytes", value: report.gc.bytesDeleted },
    { name: "ProducersExpired", unit: "Count", value: report.producers.expired },
    { name: "PartitionsBusy", unit: "Count", value: report.partitions.busy },
    { name: "LeasesFenced", unit: "Count", value: report.partitions.fenced },
    { name: "Errors", unit: "Count", value: report.errors.length },
    { name: "StorageWrites", unit: "Count", value: report.ops },
  ];
  if (report.cycle) {
    points.push(
      { name: "Objects", unit: "Count", value: report.cycle.objects },
      { name: "ObjectBytes", unit: "Bytes", value: report.cycle.bytes },
      { name: "AverageObjectBytes", unit: "Bytes", value: report.cycle.averageObjectBytes },
      { name: "Partitions", unit: "Count", value: report.cycle.partitions },
      { name: "SegmentsPerPartition", unit: "Count", value: report.cycle.segmentsPerPartition },
    );
  }
  return points;
}
