import { rangeAssignor } from "./range-assignor.js";
import type { PartitionSet } from "./partition-set.js";
import type { AssignorName } from "./types.js";
import { uniformAssignor } from "./uniform-assignor.js";

export interface AssignmentSpec {
  /** Each member with the topics its subscription resolves to; topics absent from partitionCounts are ignored. */
  members: ReadonlyArray<{ memberId: string; topics: readonly string[] }>;
  partitionCounts: ReadonlyMap<string, number>;
  /** The previous target assignment by member id, which a sticky assignor disturbs as little as it can. */
  previous: ReadonlyMap<string, PartitionSet>;
}

/** Member id → the partitions it should own. Every member of the spec has an entry, possibly empty. */
export type TargetAssignment = Map<string, Set<string>>;

/**
 * A server-side assignor (KIP-848's ConsumerGroupPartitionAssignor): a pure function of the
 * group's subscriptions, so every coordinator instance computes the same target from the same state.
 */
export interface Assignor {
  readonly name: AssignorName;
  assign(spec: AssignmentSpec): TargetAssignment;
}

export const ASSIGNORS: Record<AssignorName, Assignor> = {
  uniform: uniformAssignor,
  range: rangeAssignor,
};
