import type { TopicPartitions } from "../groups/types.js";

/** One partition this consumer owns, and how far it has got in it. */
export interface OwnedPartition {
  topic: string;
  partition: number;
  /** The next offset to hand to the application. */
  position: number;
  /** What this consumer last committed (or found committed); undefined when nothing is. */
  committed: number | undefined;
  paused: boolean;
  /** Bumped by seek, so a fetch answered for the old position is dropped. */
  generation: number;
  /** Set when the partition is being given up: nothing more of it is delivered. */
  released: boolean;
  /** The handling of its current batch, which a revocation waits for. */
  processing: Promise<unknown> | undefined;
}

export const partitionKey = (topic: string, partition: number) => `${topic}\u0000${partition}`;

/** The partitions a consumer owns, keyed by topic and partition. */
export class OwnedPartitions {
  private readonly byKey = new Map<string, OwnedPartition>();

  get(topic: string, partition: number): OwnedPartition | undefined {
    return this.byKey.get(partitionKey(topic, partition));
  }

  has(topic: string, partition: number): boolean {
    return this.byKey.has(partitionKey(topic, partition));
  }

  add(owned: OwnedPartition): void {
    this.byKey.set(partitionKey(owned.topic, owned.partition), owned);
  }

  delete(owned: OwnedPartition): void {
    if (this.get(owned.topic, owned.partition) === owned)
      this.byKey.delete(partitionKey(owned.topic, owned.partition));
  }

  all(): OwnedPartition[] {
    return [...this.byKey.values()];
  }

  /** Partitions whose records should be fetched now. */
  fetchable(): OwnedPartition[] {
    return this.all().filter((p) => !p.paused && !p.released);
  }

  /** What the coordinator is told we consume: everything we hold, including partitions being released. */
  toTopicPartitions(): TopicPartitions[] {
    return toTopicPartitions(this.all());
  }
}

/** Sorted `[{topic, partitions}]`, the wire shape of assignments. */
export function toTopicPartitions(list: readonly { topic: string; partition: number }[]): TopicPartitions[] {
  const byTopic = new Map<string, number[]>();
  for (const { topic, partition } of list) {
    let partitions = byTopic.get(topic);
    if (!partitions) byTopic.set(topic, (partitions = []));
    partitions.push(partition);
  }
  return [...byTopic]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([topic, partitions]) => ({ topic, partitions: partitions.sort((a, b) => a - b) }));
}

/** The flat list of a `[{topic, partitions}]` assignment. */
export function flatten(assignment: readonly TopicPartitions[]): { topic: string; partition: number }[] {
  return assignment.flatMap(({ topic, partitions }) => partitions.map((partition) => ({ topic, partition })));
}
