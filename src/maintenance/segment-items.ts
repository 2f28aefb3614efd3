import { keys } from "../broker/keys.js";
import { type SegmentRef, segmentFromItem } from "../broker/segment-index.js";
import type { Doc, Item, MetaStore } from "../storage/ports.js";

/**
 * A `seg#` item as maintenance sees it: the reader's fields plus what a conditional rewrite needs
 * (its version) and the merge generation. Appends write no `level`: their segments are level 0.
 */
export interface IndexedSegment extends SegmentRef {
  level: number;
  version: number;
}

const PAGE = 1000;

export function indexedSegment(item: Item): IndexedSegment {
  return { ...segmentFromItem(item), level: Number(item.data.level ?? 0), version: item.version };
}

export function segmentDoc(s: SegmentRef & { level: number }): Doc {
  return {
    base: s.base,
    end: s.end,
    key: s.key,
    pos: s.pos,
    len: s.len,
    count: s.count,
    minTs: s.minTs,
    maxTs: s.maxTs,
    level: s.level,
  };
}

/** Segments ending after `offset`, in offset order: at most `limit`, or all of them. */
export async function segmentsEndingAfter(
  meta: MetaStore,
  topicId: string,
  partition: number,
  offset: number,
  limit = Number.POSITIVE_INFINITY,
): Promise<IndexedSegment[]> {
  const out: IndexedSegment[] = [];
  let after = keys.segmentSortKey(offset);
  while (out.length < limit) {
    const want = Math.min(PAGE, limit - out.length);
    const items = await meta.query(keys.partition(topicId, partition), {
      gt: after,
      prefix: keys.segmentPrefix,
      limit: want,
    });
    for (const item of items) out.push(indexedSegment(item));
    if (items.length < want) break;
    after = items[items.length - 1].sk;
  }
  return out;
}
