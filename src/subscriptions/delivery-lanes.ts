import type { DeliveryRecord } from "./types.js";

/**
 * Lambda's ParallelizationFactor (decision 0013 §6): a fetched run of one partition split into at
 * most `factor` lanes by a hash of each record's key. A key always falls in the same lane and a
 * lane keeps offset order, so lanes may be delivered at the same time with order kept per key.
 * Null keys share lane 0: records without a key have no order but the partition's to keep.
 * Only non-empty lanes are returned, each in offset order.
 */
export function splitIntoLanes(records: DeliveryRecord[], factor: number): DeliveryRecord[][] {
  if (factor <= 1) return records.length === 0 ? [] : [records];
  const lanes: DeliveryRecord[][] = Array.from({ length: factor }, () => []);
  for (const record of records) {
    lanes[record.key === null ? 0 : fnv1a(record.key) % factor].push(record);
  }
  return lanes.filter((lane) => lane.length > 0);
}

/** Consecutive slices of at most `size` records: a lane's deliveries, one after another. */
export function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** 32-bit FNV-1a: stable across processes and versions, so a key's lane never depends on who delivers. */
function fnv1a(bytes: Uint8Array): number {
  let hash = 0x811c9dc5;
  for (const byte of bytes) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
