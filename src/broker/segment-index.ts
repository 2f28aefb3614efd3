import type { Item, MetaStore } from "../storage/ports.js";
import { keys } from "./keys.js";

/** A `seg#` item: where one partition's run of offsets lives. */
export interface SegmentRef {
  base: number;
  /** Exclusive. */
  end: number;
  key: string;
  pos: number;
  len: number;
  count: number;
  minTs: number;
  maxTs: number;
}

export function segmentFromItem(item: Item): SegmentRef {
  const d = item.data as unknown as SegmentRef;
  return {
    base: d.base,
    end: d.end,
    key: d.key,
    pos: d.pos,
    len: d.len,
    count: d.count,
    minTs: d.minTs,
    maxTs: d.maxTs,
  };
}

/** Segments of a partition ending after `offset`, in offset order, a page at a time. */
export async function segmentsAfter(
  meta: MetaStore,
  topicId: string,
  partition: number,
  offset: number,
  limit: number,
): Promise<SegmentRef[]> {
  const items = await meta.query(keys.partition(topicId, partition), {
    gt: keys.segmentSortKey(offset),
    prefix: keys.segmentPrefix,
    limit,
  });
  return items.map(segmentFromItem);
}
