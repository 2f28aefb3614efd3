import { ConditionFailedError } from "../errors.js";
import type { Item, WriteOp } from "../storage/ports.js";
import { MAX_TRANSACT_OPS } from "../storage/ports.js";
import type { GroupContext } from "./group-context.js";
import { groupNotFound, nonEmptyGroup } from "./group-errors.js";
import { type GroupMeta, offsetFromItem, tombstoneDoc } from "./group-records.js";
import { groupKeys, OFFSET_PREFIX } from "./keys.js";
import { settleGroup } from "./membership-change.js";
import { optimistically } from "./optimistic-retry.js";
import { validateGroupId } from "./request-validation.js";

/**
 * Kafka's DeleteGroups: only an empty group (NON_EMPTY_GROUP otherwise), GROUP_ID_NOT_FOUND for an
 * unknown one. The meta item becomes a tombstone rather than disappearing, so its version keeps
 * growing across delete and re-create and no write conditioned on the old group can match the new
 * one (the same ABA guard topics use, decision 0001). The group vanishes in that one write; its
 * offsets are removed afterwards, and any a crash leaves behind belong to the old incarnation, which
 * no later group of the same id reads.
 */
export async function deleteGroup(ctx: GroupContext, groupId: string): Promise<void> {
  validateGroupId(groupId);
  const deleted = await optimistically(ctx.retry, async () => {
    const group = await settleGroup(ctx, groupId);
    if (!group.meta) throw groupNotFound(groupId);
    if (group.members.size > 0) throw nonEmptyGroup(groupId, group.members.size, "delete");
    await ctx.meta.transact([
      {
        type: "put",
        ...groupKeys.meta(groupId),
        data: tombstoneDoc(group.meta, ctx.clock()),
        condition: { version: group.meta.version },
      },
      { type: "delete", ...groupKeys.directoryEntry(groupId) },
    ]);
    return { done: group.meta };
  });
  await removeOffsets(ctx, deleted);
}

async function removeOffsets(ctx: GroupContext, meta: GroupMeta): Promise<void> {
  const items = await ctx.meta.query(groupKeys.group(meta.groupId), { prefix: OFFSET_PREFIX });
  const ours = items.filter((item) => offsetFromItem(item).incarnation === meta.incarnation);
  for (let i = 0; i < ours.length; i += MAX_TRANSACT_OPS) {
    const batch = ours.slice(i, i + MAX_TRANSACT_OPS);
    try {
      await ctx.meta.transact(batch.map(deleteAsRead));
    } catch (e) {
      if (!(e instanceof ConditionFailedError)) throw e;
      // A re-created group committed over one of these: delete the rest one by one, keep that one.
      for (const item of batch) await ctx.meta.transact([deleteAsRead(item)]).catch(ignoreConflict);
    }
  }
}

function deleteAsRead(item: Item): WriteOp {
  return { type: "delete", pk: item.pk, sk: item.sk, condition: { version: item.version } };
}

function ignoreConflict(e: unknown): void {
  if (!(e instanceof ConditionFailedError)) throw e;
}
