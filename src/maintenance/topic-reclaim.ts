import { keys } from "../broker/keys.js";
import { type Lease, leaseKey } from "../broker/lease.js";
import { ConditionFailedError } from "../errors.js";
import type { Item, WriteOp } from "../storage/ports.js";
import { commitUnderLease } from "./fenced-commit.js";
import type { MaintenanceContext } from "./maintenance-context.js";
import { dropRefOps, partitionRef } from "./object-refs.js";
import { RETENTION_BATCH } from "./retention.js";
import { indexedSegment } from "./segment-items.js";

/** A `deleted-topics` item: a topic gone from the namespace whose partitions still hold storage. */
export interface DeletedTopic {
  topicId: string;
  name: string;
  partitions: number;
  version: number;
}

export function deletedTopicFromItem(item: Item): DeletedTopic {
  return {
    topicId: item.sk,
    name: String(item.data.name ?? ""),
    partitions: Number(item.data.partitions ?? 0),
    version: item.version,
  };
}

export async function deletedTopicsAfter(
  ctx: MaintenanceContext,
  after: string | undefined,
  limit: number,
): Promise<DeletedTopic[]> {
  const { pk } = keys.deletedTopicEntry("");
  const items = await ctx.meta.query(pk, after === undefined ? { limit } : { gt: after, limit });
  return items.map(deletedTopicFromItem);
}

/**
 * Frees everything a deleted topic held (decision 0001 left this to maintenance): per partition,
 * under its lease, the `seg#` items and the partition's refs on their objects in batches, then the
 * head and the lease itself; once every partition is done, the `deleted-topics` item. The objects
 * follow through garbage collection when their last ref goes. Answers false when it stopped early
 * (budget, or a partition leased elsewhere), to be resumed by a later run.
 */
export async function reclaimDeletedTopic(ctx: MaintenanceContext, topic: DeletedTopic): Promise<boolean> {
  for (let partition = 0; partition < topic.partitions; partition++) {
    if (ctx.budget.exhausted) return false;
    const lease = await ctx.leases.acquire(topic.topicId, partition, ctx.options.owner);
    if (!lease) {
      ctx.report.partitions.busy++;
      return false;
    }
    let done = false;
    try {
      done = await reclaimPartition(ctx, lease);
    } finally {
      if (!done) await ctx.leases.release(lease).catch(() => false);
    }
    if (!done) return false;
    ctx.report.reclaim.partitions++;
  }
  try {
    await ctx.meta.transact([
      { type: "delete", ...keys.deletedTopicEntry(topic.topicId), condition: { version: topic.version } },
    ]);
  } catch (e) {
    // Another worker finished the same topic first.
    if (!(e instanceof ConditionFailedError)) throw e;
  }
  ctx.budget.charge();
  ctx.report.reclaim.topics++;
  return true;
}

/** Answers true once the partition has no items left, lease included. */
async function reclaimPartition(ctx: MaintenanceContext, lease: Lease): Promise<boolean> {
  const { topicId, partition } = lease;
  const ref = partitionRef(topicId, partition);
  for (;;) {
    if (ctx.budget.exhausted) return false;
    const items = await ctx.meta.query(keys.partition(topicId, partition), {
      prefix: keys.segmentPrefix,
      limit: RETENTION_BATCH,
    });
    const batch = items.map(indexedSegment);
    if (batch.length === 0) break;
    await commitUnderLease(
      ctx.meta,
      ctx.leases,
      lease,
      async () => {
        const ops: WriteOp[] = batch.map((s) => ({
          type: "delete",
          ...keys.segment(topicId, partition, s.end),
          condition: { version: s.version },
        }));
        ops.push(
          ...(await dropRefOps(
            ctx.meta,
            batch.map((s) => s.key),
            ref,
            ctx.options.clock(),
          )),
        );
        return ops;
      },
      ctx.options.random,
    );
    ctx.budget.charge();
    ctx.report.reclaim.segments += batch.length;
  }
  // The lease goes last, in the same transaction as the head: a holder fenced by this delete can
  // write nothing more, and the partition's key space is empty afterwards.
  await ctx.leases.renewIfDue(lease);
  const head = keys.head(topicId, partition);
  const headItem = await ctx.meta.get(head.pk, head.sk);
  const ops: WriteOp[] = [
    { type: "delete", ...leaseKey(topicId, partition), condition: { version: lease.version } },
  ];
  if (headItem) ops.push({ type: "delete", ...head, condition: { version: headItem.version } });
  await ctx.meta.transact(ops);
  ctx.budget.charge();
  return true;
}
