import type { WriteOp } from "../storage/ports.js";
import type { GroupContext } from "./group-context.js";
import { emptyGroup, type NewGroupMeta } from "./group-epoch.js";
import { type GroupSnapshot, metaToDoc } from "./group-records.js";
import { groupKeys } from "./keys.js";

/**
 * The writes that create a member-less group (a standalone commit or an offset reset does, as in
 * Kafka): its meta item, over a deleted group's tombstone if there is one, and its directory entry.
 */
export function createEmptyGroup(
  ctx: GroupContext,
  group: GroupSnapshot,
): { ops: WriteOp[]; meta: NewGroupMeta } {
  const now = ctx.clock();
  const meta = emptyGroup(group.groupId, now, ctx.newId(), ctx.assignor);
  return {
    meta,
    ops: [
      {
        type: "put",
        ...groupKeys.meta(group.groupId),
        data: metaToDoc(meta),
        condition: group.metaVersion === undefined ? { absent: true } : { version: group.metaVersion },
      },
      {
        type: "put",
        ...groupKeys.directoryEntry(group.groupId),
        data: { createdAt: now },
        condition: { absent: true },
      },
    ],
  };
}
