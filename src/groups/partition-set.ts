import type { TopicPartitions } from "./types.js";

/**
 * A set of topic-partitions as a Set of "topic#partition" strings. Topic names cannot contain '#',
 * so the encoding is unambiguous, and the reconciliation's set algebra stays plain Set operations.
 */
export type PartitionSet = ReadonlySet<string>;

export function tp(topic: string, partition: number): string {
  return `${topic}#${partition}`;
}

export function parseTp(key: string): { topic: string; partition: number } {
  const at = key.lastIndexOf("#");
  return { topic: key.slice(0, at), partition: Number(key.slice(at + 1)) };
}

export function toPartitionSet(list: readonly TopicPartitions[] | undefined): Set<string> {
  const out = new Set<string>();
  for (const { topic, partitions } of list ?? []) for (const p of partitions) out.add(tp(topic, p));
  return out;
}

/** Sorted by topic, partitions ascending: a canonical form, so equal sets serialise equally. */
export function toTopicPartitions(set: Iterable<string>): TopicPartitions[] {
  const byTopic = new Map<string, number[]>();
  for (const key of set) {
    const { topic, partition } = parseTp(key);
    let list = byTopic.get(topic);
    if (!list) byTopic.set(topic, (list = []));
    list.push(partition);
  }
  return [...byTopic.keys()]
    .sort(compareStrings)
    .map((topic) => ({ topic, partitions: byTopic.get(topic)!.sort((a, b) => a - b) }));
}

export function union(...sets: PartitionSet[]): Set<string> {
  const out = new Set<string>();
  for (const s of sets) for (const k of s) out.add(k);
  return out;
}

export function intersection(a: PartitionSet, b: PartitionSet): Set<string> {
  const out = new Set<string>();
  for (const k of a) if (b.has(k)) out.add(k);
  return out;
}

export function difference(a: PartitionSet, b: PartitionSet): Set<string> {
  const out = new Set<string>();
  for (const k of a) if (!b.has(k)) out.add(k);
  return out;
}

export function intersects(a: PartitionSet, b: PartitionSet): boolean {
  for (const k of a) if (b.has(k)) return true;
  return false;
}

export function sameSet<T>(a: ReadonlySet<T>, b: ReadonlySet<T>): boolean {
  if (a.size !== b.size) return false;
  for (const k of a) if (!b.has(k)) return false;
  return true;
}

/** A locale-independent total order, so every coordinator instance computes the same assignment. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
