import { keys } from "../broker/keys.js";
import type { Lease } from "../broker/lease.js";
import type { TopicConfig } from "../broker/topic-config.js";
import { headFromItem, headToDoc } from "../broker/topics.js";
import type { PartitionHead } from "../broker/types.js";
import type { WriteOp } from "../storage/ports.js";
import { commitUnderLease } from "./fenced-commit.js";
import type { MaintenanceContext } from "./maintenance-context.js";
import { dropRefOps, partitionRef } from "./object-refs.js";
import { type IndexedSegment, segmentsEndingAfter } from "./segment-items.js";

/** Segments deleted per transaction: a fence, the head, and per segment its item and its object's refs. */
export const RETENTION_BATCH = 30;

/** What deciding retention needs of a segment. */
export interface RetentionCandidate {
  len: number;
  maxTs: number;
}

/**
 * How many of the oldest segments retention deletes, as Kafka does: whole segments only, oldest
 * first, stopping at the first one to keep. A segment goes when its newest record is older than
 * `retention.ms` (Kafka: now - largestTimestamp > retention.ms), or while dropping it still leaves
 * at least `retention.bytes` (Kafka: size - segment.size >= retention.bytes). -1 disables either.
 */
export function expiredPrefix(
  segments: readonly RetentionCandidate[],
  partitionBytes: number,
  config: Pick<TopicConfig, "retention.ms" | "retention.bytes">,
  now: number,
): number {
  const ms = config["retention.ms"];
  const maxBytes = config["retention.bytes"];
  let bytes = partitionBytes;
  let n = 0;
  for (const s of segments) {
    const byTime = ms >= 0 && now - s.maxTs > ms;
    const bySize = maxBytes >= 0 && bytes - s.len >= maxBytes;
    if (!byTime && !bySize) break;
    bytes -= s.len;
    n++;
  }
  return n;
}

/**
 * Whether retention deletes anything on this topic: Kafka deletes by time or size only under
 * `cleanup.policy=delete`; a `compact` topic keeps every segment (until key-based compaction exists,
 * architecture §7, it simply keeps everything).
 */
export function retentionApplies(
  config: Pick<TopicConfig, "cleanup.policy" | "retention.ms" | "retention.bytes">,
): boolean {
  return (
    config["cleanup.policy"] === "delete" && (config["retention.ms"] >= 0 || config["retention.bytes"] >= 0)
  );
}

export async function readHead(
  ctx: MaintenanceContext,
  topicId: string,
  partition: number,
): Promise<PartitionHead> {
  const k = keys.head(topicId, partition);
  return headFromItem(await ctx.meta.get(k.pk, k.sk));
}

/**
 * Enforces retention on one partition under its lease: deletes expired segments from the front in
 * batches, each one transaction that advances the head's log start (conditional on the head's
 * version, which every append also writes: a conflict re-reads the head and retries), deletes the
 * `seg#` items and drops the partition from their objects' refs. The log start lives on the head
 * because every fetch reads the head anyway; keeping it elsewhere would cost each fetch a read.
 * Fetches below the new log start get OFFSET_OUT_OF_RANGE. Answers the segments deleted.
 */
export async function applyRetention(
  ctx: MaintenanceContext,
  lease: Lease,
  config: Pick<TopicConfig, "cleanup.policy" | "retention.ms" | "retention.bytes">,
): Promise<IndexedSegment[]> {
  const deleted: IndexedSegment[] = [];
  if (!retentionApplies(config)) return deleted;
  const { topicId, partition } = lease;
  while (!ctx.budget.exhausted) {
    const head = await readHead(ctx, topicId, partition);
    const front = await segmentsEndingAfter(ctx.meta, topicId, partition, head.logStart, RETENTION_BATCH);
    const now = ctx.options.clock();
    const n = expiredPrefix(front, head.bytes, config, now);
    if (n === 0) break;
    const doomed = front.slice(0, n);
    const freed = doomed.reduce((sum, s) => sum + s.len, 0);
    await commitUnderLease(
      ctx.meta,
      ctx.leases,
      lease,
      async (attempt) => {
        // Only the head moves under us (appends); the doomed segments are ours while we hold the lease.
        const current = attempt === 0 ? head : await readHead(ctx, topicId, partition);
        const ops: WriteOp[] = [
          {
            type: "put",
            ...keys.head(topicId, partition),
            data: headToDoc({
              ...current,
              logStart: doomed[n - 1].end,
              bytes: Math.max(0, current.bytes - freed),
            }),
            condition: { version: current.version },
          },
        ];
        for (const s of doomed) {
          ops.push({
            type: "delete",
            ...keys.segment(topicId, partition, s.end),
            condition: { version: s.version },
          });
        }
        ops.push(
          ...(await dropRefOps(
            ctx.meta,
            doomed.map((s) => s.key),
            partitionRef(topicId, partition),
            now,
          )),
        );
        return ops;
      },
      ctx.options.random,
    );
    ctx.budget.charge();
    deleted.push(...doomed);
    ctx.report.retention.segmentsDeleted += n;
    ctx.report.retention.bytesDeleted += freed;
    if (n < front.length) break;
  }
  return deleted;
}
