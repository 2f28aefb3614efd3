import type { Assignor, AssignmentSpec, TargetAssignment } from "./assignor.js";
import { compareStrings, tp } from "./partition-set.js";

/**
 * Kafka's range assignment: per topic, the subscribed members in member-id order each take a
 * contiguous run of partitions, the first (partitions mod members) one more. Members subscribed to
 * the same topics get the same partition numbers of each (co-partitioning, the reason to pick it);
 * it is not sticky and balances per topic, not across topics.
 */
export const rangeAssignor: Assignor = {
  name: "range",
  assign(spec: AssignmentSpec): TargetAssignment {
    const target: TargetAssignment = new Map(spec.members.map((m) => [m.memberId, new Set<string>()]));
    const subscribers = new Map<string, string[]>();
    for (const m of spec.members) {
      for (const topic of new Set(m.topics)) {
        if (!spec.partitionCounts.has(topic)) continue;
        let list = subscribers.get(topic);
        if (!list) subscribers.set(topic, (list = []));
        list.push(m.memberId);
      }
    }
    for (const [topic, members] of subscribers) {
      members.sort(compareStrings);
      const count = spec.partitionCounts.get(topic)!;
      const per = Math.floor(count / members.length);
      const extra = count % members.length;
      let next = 0;
      members.forEach((memberId, i) => {
        const end = next + per + (i < extra ? 1 : 0);
        for (; next < end; next++) target.get(memberId)!.add(tp(topic, next));
      });
    }
    return target;
  },
};
