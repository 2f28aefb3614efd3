import type { Assignor, AssignmentSpec, TargetAssignment } from "../../../src/groups/assignor.js";
import { compareStrings, parseTp, tp } from "../../../src/groups/partition-set.js";

/**
 * The uniform assignor as it was before issue 11 (quadratic: a second member joining a
 * 10,000-partition topic took 22 s), kept as the reference the rewrite is checked against.
 *
 * Kafka's uniform assignor: spreads partitions so member loads differ by at most one, and is
 * sticky, so a membership change moves as few partitions as a balanced result allows. Every moved
 * partition costs a revocation round trip and a cold read, which is why stickiness matters.
 *
 * 1. Every member keeps its previous partitions its subscription still covers.
 * 2. Partitions nobody kept go to the least-loaded member subscribed to their topic.
 * 3. While some member could take a partition from one holding two or more than it, one partition
 *    moves from the most to the least loaded. With identical subscriptions each such move is one
 *    the balanced result cannot avoid, so the movement is minimal; with differing subscriptions the
 *    result is balanced wherever a member's subscription lets it take load.
 */
export const referenceUniformAssignor: Assignor = {
  name: "uniform",
  assign(spec: AssignmentSpec): TargetAssignment {
    const members = spec.members.map((m) => m.memberId).sort(compareStrings);
    const subscribed = new Map<string, Set<string>>();
    const eligible = new Map<string, string[]>();
    for (const m of [...spec.members].sort((a, b) => compareStrings(a.memberId, b.memberId))) {
      const topics = new Set(m.topics.filter((t) => spec.partitionCounts.has(t)));
      subscribed.set(m.memberId, topics);
      for (const topic of topics) {
        let list = eligible.get(topic);
        if (!list) eligible.set(topic, (list = []));
        list.push(m.memberId);
      }
    }
    const owned: TargetAssignment = new Map(members.map((id) => [id, new Set<string>()]));
    const claimed = new Set<string>();
    const load = (id: string) => owned.get(id)!.size;

    for (const id of members) {
      for (const key of spec.previous.get(id) ?? []) {
        const { topic, partition } = parseTp(key);
        const count = spec.partitionCounts.get(topic);
        if (count === undefined || partition >= count || !subscribed.get(id)!.has(topic) || claimed.has(key))
          continue;
        claimed.add(key);
        owned.get(id)!.add(key);
      }
    }

    // Topics with fewer eligible members go first: they have fewer places to go.
    const topics = [...eligible.keys()].sort(
      (a, b) => eligible.get(a)!.length - eligible.get(b)!.length || compareStrings(a, b),
    );
    for (const topic of topics) {
      const candidates = eligible.get(topic)!;
      const count = spec.partitionCounts.get(topic)!;
      for (let p = 0; p < count; p++) {
        const key = tp(topic, p);
        if (claimed.has(key)) continue;
        let best = candidates[0];
        for (const c of candidates) if (load(c) < load(best)) best = c;
        claimed.add(key);
        owned.get(best)!.add(key);
      }
    }

    // Each move lowers the sum of squared loads, so this ends.
    for (;;) {
      const byLoad = [...members].sort((a, b) => load(b) - load(a) || compareStrings(a, b));
      let moved = false;
      outer: for (const from of byLoad) {
        for (let i = byLoad.length - 1; i >= 0; i--) {
          const to = byLoad[i];
          if (load(to) + 2 > load(from)) break;
          const key = lastMovable(owned.get(from)!, subscribed.get(to)!);
          if (key === undefined) continue;
          owned.get(from)!.delete(key);
          owned.get(to)!.add(key);
          moved = true;
          break outer;
        }
      }
      if (!moved) break;
    }
    return owned;
  },
};

/** The highest (topic, partition) of `from` that a member subscribed to `topics` may take. */
function lastMovable(from: ReadonlySet<string>, topics: ReadonlySet<string>): string | undefined {
  let best: { key: string; topic: string; partition: number } | undefined;
  for (const key of from) {
    const { topic, partition } = parseTp(key);
    if (!topics.has(topic)) continue;
    const order = best === undefined ? 1 : compareStrings(topic, best.topic) || partition - best.partition;
    if (order > 0) best = { key, topic, partition };
  }
  return best?.key;
}
