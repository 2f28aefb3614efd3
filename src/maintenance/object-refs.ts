import { keys } from "../broker/keys.js";
import type { Doc, Item, MetaStore, WriteOp } from "../storage/ports.js";

/**
 * The `obj#{key}` item: which partitions still index a chunk of the object. Appends create it with
 * every partition they wrote; maintenance only ever removes refs, one partition at a time, and
 * stamps `emptiedAt` when the last goes, which starts the object's grace period. A `collectedAt`
 * marks an orphan garbage collection claimed: the item then exists only so that a commit arriving
 * after the collection (its `absent` condition on this item) is refused instead of indexing a
 * deleted object.
 */
export interface ObjectRefs {
  refs: string[];
  size: number;
  createdAt: number;
  emptiedAt: number | null;
  collectedAt: number | null;
  version: number;
}

/** How a partition names itself in an object's refs (the append path's spelling). */
export function partitionRef(topicId: string, partition: number): string {
  return `${topicId}#${partition}`;
}

export function objectRefsFromItem(item: Item): ObjectRefs {
  const d = item.data;
  return {
    refs: Array.isArray(d.refs) ? d.refs.filter((r): r is string => typeof r === "string") : [],
    size: Number(d.size ?? 0),
    createdAt: Number(d.createdAt ?? 0),
    emptiedAt: typeof d.emptiedAt === "number" ? d.emptiedAt : null,
    collectedAt: typeof d.collectedAt === "number" ? d.collectedAt : null,
    version: item.version,
  };
}

export async function readObjectRefs(meta: MetaStore, objectKey: string): Promise<ObjectRefs | undefined> {
  const k = keys.objectRef(objectKey);
  const item = await meta.get(k.pk, k.sk);
  return item ? objectRefsFromItem(item) : undefined;
}

/** The ref item of an object maintenance just wrote for one partition. */
export function newObjectRefOp(objectKey: string, ref: string, size: number, now: number): WriteOp {
  return {
    type: "put",
    ...keys.objectRef(objectKey),
    data: { refs: [ref], size, createdAt: now },
    condition: { absent: true },
  };
}

/**
 * Ops that remove `ref` from each object's ref item, each conditional on the version read, so two
 * partitions' maintenance dropping refs of one shared object cannot overwrite each other.
 */
export async function dropRefOps(
  meta: MetaStore,
  objectKeys: Iterable<string>,
  ref: string,
  now: number,
): Promise<WriteOp[]> {
  const unique = [...new Set(objectKeys)];
  const items = await Promise.all(unique.map((key) => readObjectRefs(meta, key)));
  const ops: WriteOp[] = [];
  for (let i = 0; i < unique.length; i++) {
    const refs = items[i];
    if (!refs?.refs.includes(ref)) continue;
    const left = refs.refs.filter((r) => r !== ref);
    const data: Doc = { refs: left, size: refs.size, createdAt: refs.createdAt };
    if (left.length === 0) data.emptiedAt = now;
    ops.push({ type: "put", ...keys.objectRef(unique[i]), data, condition: { version: refs.version } });
  }
  return ops;
}
