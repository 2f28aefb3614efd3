import type { Assignor, AssignmentSpec, TargetAssignment } from "./assignor.js";
import { IndexedHeap } from "./indexed-heap.js";
import { compareStrings, sameSet, tp } from "./partition-set.js";

/**
 * Kafka's uniform assignor: spreads partitions so member loads differ by at most one, and is
 * sticky, so a membership change moves as few partitions as a balanced result allows. Every moved
 * partition costs a revocation round trip and a cold read, which is why stickiness matters.
 *
 * 1. Every member keeps its previous partitions its subscription still covers (a partition two
 *    members claim stays with the first in member-id order).
 * 2. Partitions nobody kept go to the least-loaded member subscribed to their topic (ties: the
 *    first in member-id order), topics with fewer subscribers first: they have fewer places to go.
 * 3. While some member could take a partition from one holding two or more than it, the most
 *    loaded member that can give moves its highest (topic, partition) to the least loaded member
 *    that can take it. With identical subscriptions each such move is one the balanced result
 *    cannot avoid, so the movement is minimal; with differing subscriptions the result is balanced
 *    wherever a member's subscription lets it take load.
 *
 * Cost: members live in heaps by load, so with identical subscriptions an assignment of P
 * partitions over M members costs O(P log M) (step 3 moves each partition at most once). Members
 * with the same subscription form one class whose least-loaded member stands for all of it, so
 * with C distinct subscriptions a move costs O(C + log M) more. The choices are the ones the
 * earlier quadratic version made, in the same order, so the result is unchanged and deterministic.
 */
export const uniformAssignor: Assignor = {
  name: "uniform",
  assign(spec: AssignmentSpec): TargetAssignment {
    const ids = [...new Set(spec.members.map((m) => m.memberId))].sort(compareStrings);
    const memberIndex = new Map(ids.map((id, i) => [id, i]));
    const names = new Set<string>();
    for (const m of spec.members) for (const t of m.topics) if (spec.partitionCounts.has(t)) names.add(t);
    const topicNames = [...names].sort(compareStrings);
    const topicIndex = new Map(topicNames.map((name, t) => [name, t]));
    const counts = topicNames.map((name) => spec.partitionCounts.get(name)!);

    // Topic indexes each member subscribes to (the last entry of a repeated member id wins).
    const subscribed: Set<number>[] = new Array(ids.length);
    for (const m of spec.members) {
      const topics = new Set<number>();
      for (const name of m.topics) {
        const t = topicIndex.get(name);
        if (t !== undefined) topics.add(t);
      }
      subscribed[memberIndex.get(m.memberId)!] = topics;
    }

    const load = new Int32Array(ids.length);
    /** Member → topic → partitions held, ascending unless listed in `unsorted`. */
    const held: Map<number, number[]>[] = ids.map(() => new Map());
    const unsorted = new Set<number[]>();
    const give = (member: number, t: number, partition: number) => {
      let list = held[member].get(t);
      if (!list) held[member].set(t, (list = []));
      if (list.length > 0 && list[list.length - 1] > partition) unsorted.add(list);
      list.push(partition);
      load[member]++;
    };

    // 1. Keep what is still subscribed and not already kept by a member earlier in id order.
    const claimed = counts.map((n) => new Uint8Array(n));
    ids.forEach((id, member) => {
      for (const key of spec.previous.get(id) ?? []) {
        const at = key.lastIndexOf("#");
        const t = topicIndex.get(key.slice(0, at));
        if (t === undefined || !subscribed[member].has(t)) continue;
        const partition = Number(key.slice(at + 1));
        if (!Number.isInteger(partition) || partition < 0 || partition >= counts[t]) continue;
        if (claimed[t][partition]) continue;
        claimed[t][partition] = 1;
        give(member, t, partition);
      }
    });

    // 2. The rest, each to the least-loaded subscriber of its topic.
    const eligible: number[][] = topicNames.map(() => []);
    subscribed.forEach((topics, member) => {
      for (const t of topics) eligible[t].push(member);
    });
    const lighter = (a: number, b: number) => load[a] < load[b] || (load[a] === load[b] && a < b);
    const order = topicNames
      .map((_, t) => t)
      .sort((a, b) => eligible[a].length - eligible[b].length || a - b);
    const positions = new Int32Array(ids.length).fill(-1);
    for (const t of order) {
      let heap: IndexedHeap | undefined;
      for (let partition = 0; partition < counts[t]; partition++) {
        if (claimed[t][partition]) continue;
        if (!heap) {
          heap = new IndexedHeap(ids.length, lighter, positions);
          for (const member of eligible[t]) heap.push(member);
        }
        const member = heap.peek()!;
        give(member, t, partition);
        heap.update(member);
      }
      // Empty it, so the next topic's heap starts from a clean positions array.
      while (heap?.pop() !== undefined);
    }

    // 3. Balance: move from the most loaded (ties: first id) to the least loaded (ties: last id).
    const { classes, classOf } = subscriptionClasses(subscribed, load);
    const heavier = (a: number, b: number) => load[a] > load[b] || (load[a] === load[b] && a < b);
    const givers = new IndexedHeap(ids.length, heavier);
    for (let member = 0; member < ids.length; member++) givers.push(member);
    for (;;) {
      let floor = Number.POSITIVE_INFINITY;
      for (const c of classes) floor = Math.min(floor, load[c.members.peek()!]);
      const popped: number[] = [];
      let move: { from: number; to: number; topic: number } | undefined;
      for (let from = givers.pop(); from !== undefined; from = givers.pop()) {
        popped.push(from);
        if (load[from] < floor + 2) break;
        for (const c of classes) {
          const to = c.members.peek()!;
          if (load[to] + 2 > load[from]) continue;
          if (move && !takesFirst(load, to, move.to)) continue;
          const topic = highestCommonTopic(held[from], c.topics);
          if (topic >= 0) move = { from, to, topic };
        }
        if (move) break;
      }
      for (const member of popped) givers.push(member);
      if (!move) break;
      const list = held[move.from].get(move.topic)!;
      if (unsorted.delete(list)) list.sort((a, b) => a - b);
      const partition = list.pop()!;
      if (list.length === 0) held[move.from].delete(move.topic);
      load[move.from]--;
      give(move.to, move.topic, partition);
      for (const member of [move.from, move.to]) {
        givers.update(member);
        if (classOf[member] >= 0) classes[classOf[member]].members.update(member);
      }
    }

    const target: TargetAssignment = new Map();
    ids.forEach((id, member) => {
      const set = new Set<string>();
      for (const [t, partitions] of held[member]) for (const p of partitions) set.add(tp(topicNames[t], p));
      target.set(id, set);
    });
    return target;
  },
};

interface SubscriptionClass {
  topics: ReadonlySet<number>;
  /** The class's members, least loaded first (ties: the last in id order, as before). */
  members: IndexedHeap;
}

/**
 * Members grouped by identical subscription, and each member's class (-1: subscribed to nothing,
 * so it can take nothing).
 */
function subscriptionClasses(
  subscribed: readonly ReadonlySet<number>[],
  load: Int32Array,
): { classes: SubscriptionClass[]; classOf: Int32Array } {
  const classOf = new Int32Array(subscribed.length).fill(-1);
  // A member is in one class only, so the classes' heaps share one positions array.
  const positions = new Int32Array(subscribed.length).fill(-1);
  const classes: SubscriptionClass[] = [];
  // Sets are grouped by a sum of per-topic hashes, then compared: no string key per member.
  const byHash = new Map<number, number[]>();
  subscribed.forEach((topics, member) => {
    if (topics.size === 0) return;
    let hash = 0;
    for (const t of topics) hash += topicHash(t);
    let candidates = byHash.get(hash);
    if (!candidates) byHash.set(hash, (candidates = []));
    let c = candidates.find((i) => sameSet(classes[i].topics, topics));
    if (c === undefined) {
      candidates.push((c = classes.length));
      classes.push({
        topics,
        members: new IndexedHeap(subscribed.length, (a, b) => takesFirst(load, a, b), positions),
      });
    }
    classes[c].members.push(member);
    classOf[member] = c;
  });
  return { classes, classOf };
}

/** A fixed pseudo-random 32-bit value per topic index (a murmur3 finaliser). */
function topicHash(t: number): number {
  let x = Math.imul(t + 1, 0x9e3779b1);
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/** The receiver order: least loaded first, ties to the member later in id order. */
function takesFirst(load: Int32Array, a: number, b: number): boolean {
  return load[a] < load[b] || (load[a] === load[b] && a > b);
}

/** The highest topic index `from` holds partitions of and `topics` contains, or -1. */
function highestCommonTopic(from: ReadonlyMap<number, number[]>, topics: ReadonlySet<number>): number {
  let best = -1;
  if (from.size <= topics.size) {
    for (const t of from.keys()) if (t > best && topics.has(t)) best = t;
  } else {
    for (const t of topics) if (t > best && from.has(t)) best = t;
  }
  return best;
}
