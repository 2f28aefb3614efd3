import { currentHolder, type Lease } from "../broker/lease.js";
import type { Topic } from "../broker/types.js";
import type { Doc } from "../storage/ports.js";
import { mergeRun } from "./compaction.js";
import type { MaintenanceContext } from "./maintenance-context.js";
import { planMerges, settledEnd } from "./merge-plan.js";
import { applyRetention, expiredPrefix, readHead, retentionApplies } from "./retention.js";
import { type IndexedSegment, segmentsEndingAfter } from "./segment-items.js";

/**
 * What a partition's last maintainer left in its lease item: merges never reach below `scanFrom`
 * again (it is the end of a done segment with nothing left to merge before it), so the next visit
 * reads the index only from there; `segmentsBefore` counts the segments below it, for metrics.
 */
export interface PartitionCheckpoint {
  scanFrom: number;
  segmentsBefore: number;
}

export function checkpointFromDoc(doc: Doc | null): PartitionCheckpoint {
  const scanFrom = Number(doc?.scanFrom ?? 0);
  const segmentsBefore = Number(doc?.segmentsBefore ?? 0);
  return Number.isSafeInteger(scanFrom) && Number.isSafeInteger(segmentsBefore) && segmentsBefore >= 0
    ? { scanFrom, segmentsBefore }
    : { scanFrom: 0, segmentsBefore: 0 };
}

export interface PartitionOutcome {
  /** Segments in the partition's index as last seen. */
  segments: number;
  /** False when the budget ran out part-way: the partition should be visited again first. */
  finished: boolean;
}

/**
 * One partition's maintenance: look (without the lease) whether retention or a merge is due, and
 * only then take the lease, enforce retention, merge until no run is left, and release the lease
 * with a fresh checkpoint. An idle partition costs three or four reads and no write.
 */
export async function maintainPartition(
  ctx: MaintenanceContext,
  topic: Topic,
  partition: number,
): Promise<PartitionOutcome> {
  const { topicId } = topic;
  ctx.report.partitions.visited++;
  const [head, state] = await Promise.all([
    readHead(ctx, topicId, partition),
    ctx.leases.read(topicId, partition),
  ]);
  let checkpoint = normalize(checkpointFromDoc(state.checkpoint), head.logStart);
  const window = await segmentsEndingAfter(ctx.meta, topicId, partition, checkpoint.scanFrom);
  const now = ctx.options.clock();
  const retains = retentionApplies(topic.config);
  const front =
    !retains || (window.length > 0 && window[0].base === head.logStart)
      ? window
      : await segmentsEndingAfter(ctx.meta, topicId, partition, head.logStart, 1);
  const retentionDue = retains && expiredPrefix(front.slice(0, 1), head.bytes, topic.config, now) > 0;
  const mergeDue = planMerges(window, ctx.options).length > 0;
  const segments = checkpoint.segmentsBefore + window.length;
  if (!retentionDue && !mergeDue) return { segments, finished: true };

  if (currentHolder(state, now) !== null) {
    ctx.report.partitions.busy++;
    return { segments, finished: true };
  }
  const lease = await ctx.leases.acquire(topicId, partition, ctx.options.owner);
  if (!lease) {
    ctx.report.partitions.busy++;
    return { segments, finished: true };
  }
  ctx.report.partitions.leased++;
  // Read again under the lease: whoever held it before may have done the work meanwhile.
  checkpoint = normalize(
    checkpointFromDoc(lease.checkpoint),
    (await readHead(ctx, topicId, partition)).logStart,
  );
  try {
    const deleted = await applyRetention(ctx, lease, topic.config);
    if (deleted.length > 0) {
      const logStart = deleted[deleted.length - 1].end;
      const below = deleted.filter((s) => s.end <= checkpoint.scanFrom).length;
      checkpoint = normalize({ ...checkpoint, segmentsBefore: checkpoint.segmentsBefore - below }, logStart);
    }
    return await compact(ctx, lease, checkpoint, (next) => {
      checkpoint = next;
    });
  } finally {
    await ctx.leases.release(lease, { ...checkpoint }).catch(() => false);
  }
}

/** Merges until no run is left in the window; moves the checkpoint past what is settled. */
async function compact(
  ctx: MaintenanceContext,
  lease: Lease,
  checkpoint: PartitionCheckpoint,
  advance: (checkpoint: PartitionCheckpoint) => void,
): Promise<PartitionOutcome> {
  let window = await segmentsEndingAfter(ctx.meta, lease.topicId, lease.partition, checkpoint.scanFrom);
  for (;;) {
    const runs = planMerges(window, ctx.options);
    if (runs.length === 0) break;
    for (const run of runs) {
      if (ctx.budget.exhausted) {
        return { segments: checkpoint.segmentsBefore + window.length, finished: false };
      }
      const merged = await mergeRun(ctx, lease, run);
      // The index moved under the plan, which the lease should prevent: leave it to the next run.
      if (merged === null) return { segments: checkpoint.segmentsBefore + window.length, finished: true };
      window = replaceRun(window, run, merged);
    }
  }
  const settled = settledEnd(window, ctx.options.segmentBytes);
  if (settled !== null) {
    const below = window.filter((s) => s.end <= settled).length;
    checkpoint = { scanFrom: settled, segmentsBefore: checkpoint.segmentsBefore + below };
    advance(checkpoint);
  }
  return {
    segments: checkpoint.segmentsBefore + window.filter((s) => s.end > checkpoint.scanFrom).length,
    finished: true,
  };
}

function replaceRun(
  window: IndexedSegment[],
  run: IndexedSegment[],
  merged: IndexedSegment,
): IndexedSegment[] {
  const at = window.indexOf(run[0]);
  return [...window.slice(0, at), merged, ...window.slice(at + run.length)];
}

/** A checkpoint below the log start is stale: retention has deleted what it counted. */
function normalize(checkpoint: PartitionCheckpoint, logStart: number): PartitionCheckpoint {
  return checkpoint.scanFrom < logStart ? { scanFrom: logStart, segmentsBefore: 0 } : checkpoint;
}
