import { keys } from "../broker/keys.js";
import { ConditionFailedError } from "../errors.js";
import type { ObjectInfo } from "../storage/ports.js";
import { mapConcurrent } from "./concurrency.js";
import type { MaintenanceContext } from "./maintenance-context.js";
import { readObjectRefs } from "./object-refs.js";
import { errorEntry } from "./report.js";

/** Where segment objects live (architecture §2); nothing else under it is ever written. */
export const SEGMENTS_PREFIX = "segments/";

/** What one page of collection saw: the objects kept and where the next page starts. */
export interface GcPage {
  /** The last key listed; null when the listing reached the end. */
  next: string | null;
  keptObjects: number;
  keptBytes: number;
}

/**
 * One page of garbage collection (architecture §3 step 5, §7). An object is deleted only
 *  - when its ref item lists no partition and has been empty for the grace period, or
 *  - when it has no ref item at all (an append or merge that wrote it and never committed) and is
 *    older than the grace period.
 * The grace period is longer than any fetch, so a reader that found the object in the index just
 * before its last ref went still finds the object. An orphan is first claimed with a conditional
 * write of its ref item (`absent`, then marked collected): if a commit that wrote the object was
 * only slow, exactly one of the two wins, and a late commit is refused rather than indexing an
 * object that is about to vanish. The claimed item stays behind as that fence.
 */
export async function collectGarbagePage(
  ctx: MaintenanceContext,
  startAfter: string | undefined,
): Promise<GcPage> {
  const listed = await ctx.objects.list(SEGMENTS_PREFIX, {
    startAfter,
    limit: ctx.options.gcPageSize,
  });
  const kept = await mapConcurrent(listed, ctx.options.concurrency, async (info) => {
    try {
      return await collectOne(ctx, info);
    } catch (e) {
      // One object that cannot be collected now must not hold up the rest of the bucket.
      ctx.report.errors.push(errorEntry(`gc/${info.key}`, e));
      return true;
    }
  });
  ctx.report.gc.objectsListed += listed.length;
  const page: GcPage = {
    next: listed.length < ctx.options.gcPageSize ? null : listed[listed.length - 1].key,
    keptObjects: 0,
    keptBytes: 0,
  };
  listed.forEach((info, i) => {
    if (!kept[i]) return;
    page.keptObjects++;
    page.keptBytes += info.size;
  });
  return page;
}

/** Collects the object if it may go; answers whether it stays. */
async function collectOne(ctx: MaintenanceContext, info: ObjectInfo): Promise<boolean> {
  const { gcGraceMs, clock } = ctx.options;
  const now = clock();
  if (now - info.lastModified < gcGraceMs) return true;
  const refs = await readObjectRefs(ctx.meta, info.key);
  if (refs && refs.collectedAt === null) {
    if (refs.refs.length > 0) return true;
    if (now - (refs.emptiedAt ?? refs.createdAt) < gcGraceMs) return true;
    await ctx.objects.delete(info.key);
    ctx.budget.charge();
    // The item only counted references; with the object gone nobody reads it again.
    await ctx.meta
      .transact([{ type: "delete", ...keys.objectRef(info.key), condition: { version: refs.version } }])
      .catch((e) => {
        if (!(e instanceof ConditionFailedError)) throw e;
      });
    ctx.budget.charge();
  } else {
    if (!refs) {
      try {
        await ctx.meta.transact([
          {
            type: "put",
            ...keys.objectRef(info.key),
            data: { refs: [], size: info.size, createdAt: info.lastModified, collectedAt: now },
            condition: { absent: true },
          },
        ]);
      } catch (e) {
        // A commit indexed it after all (or another collector claimed it): leave it to the next pass.
        if (e instanceof ConditionFailedError) return true;
        throw e;
      }
      ctx.budget.charge();
    }
    await ctx.objects.delete(info.key);
    ctx.budget.charge();
    ctx.report.gc.orphansDeleted++;
  }
  ctx.report.gc.objectsDeleted++;
  ctx.report.gc.bytesDeleted += info.size;
  return false;
}
