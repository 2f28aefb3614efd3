import { FloeError } from "../errors.js";
import { murmur2, toPositive } from "../log/murmur2.js";
import { unknownPartition } from "./topics.js";

/**
 * Partition choice, as Kafka's default producer partitioner makes it (architecture §3): an explicit
 * partition wins; a keyed record goes to murmur2(key) mod N, so keys land exactly where Kafka
 * would put them; null-key records are sticky (KIP-480/794): every null-key record of one append
 * goes to one partition, and the next append picks another. Pure logic, no I/O.
 */

function checkPartitionCount(numPartitions: number): void {
  if (!Number.isInteger(numPartitions) || numPartitions < 1) {
    throw new FloeError("INVALID_PARTITIONS", `invalid partition count ${numPartitions}`);
  }
}

/** Kafka's `toPositive(murmur2(key)) % numPartitions`. */
export function partitionForKey(key: Uint8Array, numPartitions: number): number {
  checkPartitionCount(numPartitions);
  return toPositive(murmur2(key)) % numPartitions;
}

/**
 * Picks one partition per append call for null-key records: uniformly at random among the
 * partitions other than the one this topic's previous call got (when there are at least two), so
 * consecutive appends spread evenly instead of piling onto one partition.
 */
export class StickyPartitioner {
  private readonly previous = new Map<string, number>();

  /** `random` returns a number in [0, 1), like Math.random (injectable for tests). */
  constructor(private readonly random: () => number = Math.random) {}

  partitionForBatch(topic: string, numPartitions: number): number {
    checkPartitionCount(numPartitions);
    const previous = this.previous.get(topic);
    let partition: number;
    if (numPartitions === 1) {
      partition = 0;
    } else if (previous === undefined || previous >= numPartitions) {
      partition = Math.min(numPartitions - 1, Math.floor(this.random() * numPartitions));
    } else {
      // Uniform over the n - 1 others: draw from [0, n - 1) and skip over the previous choice.
      partition = Math.min(numPartitions - 2, Math.floor(this.random() * (numPartitions - 1)));
      if (partition >= previous) partition++;
    }
    this.previous.set(topic, partition);
    return partition;
  }
}

export interface PartitionableRecord {
  key: Uint8Array | null;
  partition?: number;
}

/**
 * The partition of every record of one append call, in order. An explicit partition must exist
 * (0 ≤ p < numPartitions, else UNKNOWN_TOPIC_OR_PARTITION, as Kafka answers); keyed records hash;
 * all null-key records of the call share one sticky partition, drawn only if there is one.
 */
export function assignPartitions(
  records: readonly PartitionableRecord[],
  numPartitions: number,
  topic: string,
  sticky: StickyPartitioner,
): number[] {
  checkPartitionCount(numPartitions);
  const out = new Array<number>(records.length);
  let stickyPartition = -1;
  for (let i = 0; i < records.length; i++) {
    const { key, partition } = records[i];
    if (partition !== undefined && partition !== null) {
      if (!Number.isInteger(partition) || partition < 0 || partition >= numPartitions) {
        throw unknownPartition(topic, partition, numPartitions);
      }
      out[i] = partition;
    } else if (key !== null && key !== undefined) {
      out[i] = toPositive(murmur2(key)) % numPartitions;
    } else {
      if (stickyPartition < 0) stickyPartition = sticky.partitionForBatch(topic, numPartitions);
      out[i] = stickyPartition;
    }
  }
  return out;
}
