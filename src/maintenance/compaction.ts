import { keys } from "../broker/keys.js";
import type { Lease } from "../broker/lease.js";
import { segmentObjectKey } from "../broker/segment-key.js";
import { CorruptDataError } from "../errors.js";
import { encodeSegment } from "../log/segment.js";
import type { WriteOp } from "../storage/ports.js";
import { commitUnderLease } from "./fenced-commit.js";
import type { MaintenanceContext } from "./maintenance-context.js";
import { dropRefOps, newObjectRefOp, partitionRef, readObjectRefs } from "./object-refs.js";
import { mapConcurrent } from "./concurrency.js";
import { type IndexedSegment, indexedSegment, segmentDoc } from "./segment-items.js";

/**
 * Merges one run of adjacent segments of a partition into one new single-chunk object and swaps
 * the index to it (architecture §7). The merged chunk is the original chunks' bytes back to back: the
 * batches are stored at baseOffset 0 and a chunk's offsets follow from its base and the batches'
 * record counts, so every record keeps its offset and its bytes.
 *
 * Order of the steps, each safe to stop after:
 *  1. PUT the new object. Stopping here leaves an orphan, collected after the grace period.
 *  2. One transaction under the lease: delete the run's `seg#` items but the last, overwrite the
 *     last (same sort key, the run's end) with the merged range, drop this partition from each old
 *     object's refs and create the new object's refs. Readers see the old index or the new, and
 *     the old objects stay readable until garbage collection, long after any fetch begun before.
 * Answers the merged segment, or null when the index moved on and the merge no longer applies.
 */
export async function mergeRun(
  ctx: MaintenanceContext,
  lease: Lease,
  run: IndexedSegment[],
): Promise<IndexedSegment | null> {
  const { topicId, partition } = lease;
  const first = run[0];
  const last = run[run.length - 1];
  const chunks = await mapConcurrent(run, ctx.options.concurrency, (s) =>
    ctx.objects.get(s.key, { start: s.pos, end: s.pos + s.len }),
  );
  const data = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    data.set(c, at);
    at += c.length;
  }
  const { bytes, entries } = encodeSegment([{ topicId, partition, data }]);
  const entry = entries[0];
  const count = run.reduce((n, s) => n + s.count, 0);
  if (entry.recordCount !== count || entry.offsetCount !== last.end - first.base) {
    throw new CorruptDataError(
      `segments [${first.base}, ${last.end}) of ${partitionRef(topicId, partition)} hold ${entry.recordCount} records over ${entry.offsetCount} offsets; the index says ${count} over ${last.end - first.base}`,
    );
  }

  const now = ctx.options.clock();
  const objectKey = segmentObjectKey(now);
  await ctx.objects.put(objectKey, bytes);
  ctx.budget.charge();

  const merged: IndexedSegment = {
    base: first.base,
    end: last.end,
    key: objectKey,
    pos: entry.position,
    len: entry.length,
    count,
    minTs: entry.minTimestamp,
    maxTs: entry.maxTimestamp,
    level: Math.max(...run.map((s) => s.level)) + 1,
    version: last.version + 1,
  };
  const ref = partitionRef(topicId, partition);
  const committed = await commitUnderLease(
    ctx.meta,
    ctx.leases,
    lease,
    async (attempt) => {
      if (attempt > 0 && !(await stillIndexed(ctx, lease, run, objectKey))) return null;
      const ops: WriteOp[] = run.slice(0, -1).map((s) => ({
        type: "delete",
        ...keys.segment(topicId, partition, s.end),
        condition: { version: s.version },
      }));
      ops.push({
        type: "put",
        ...keys.segment(topicId, partition, last.end),
        data: segmentDoc(merged),
        condition: { version: last.version },
      });
      ops.push(
        ...(await dropRefOps(
          ctx.meta,
          run.map((s) => s.key),
          ref,
          ctx.options.clock(),
        )),
      );
      ops.push(newObjectRefOp(objectKey, ref, bytes.length, ctx.options.clock()));
      return ops;
    },
    ctx.options.random,
  );
  ctx.budget.charge();
  if (!committed) return null;
  ctx.report.compaction.merges++;
  ctx.report.compaction.segmentsMerged += run.length;
  ctx.report.compaction.bytesRewritten += bytes.length;
  return merged;
}

/**
 * Before retrying a swap: are the run's items still as planned, and is the new object still
 * unclaimed? Garbage collection may have collected it as an orphan if this worker stalled past
 * the grace period, and then it must never be indexed.
 */
async function stillIndexed(
  ctx: MaintenanceContext,
  lease: Lease,
  run: IndexedSegment[],
  objectKey: string,
): Promise<boolean> {
  if (await readObjectRefs(ctx.meta, objectKey)) return false;
  const items = await Promise.all(
    run.map((s) => {
      const k = keys.segment(lease.topicId, lease.partition, s.end);
      return ctx.meta.get(k.pk, k.sk);
    }),
  );
  return items.every((item, i) => item !== undefined && indexedSegment(item).version === run[i].version);
}
