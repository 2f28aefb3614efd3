import type { GroupCoordinator } from "../../groups/coordinator.js";
import type { TopicPartitions } from "../../groups/types.js";

/**
 * What this process remembers of the classic-protocol members it serves, which the KIP-848
 * coordinator has no field for: the classic protocol splits a rebalance into JoinGroup and
 * SyncGroup and then only sends a generation, so the heartbeat that tells the coordinator what the
 * member holds must come from here. The coordinator stays the only authority on ownership; this is
 * a cache of what was said on the wire. A member this process does not remember (it joined through
 * another agent, or this one restarted) is asked to rejoin, which costs a rebalance and nothing else.
 */
export interface ClassicMember {
  /** The member's epoch at the coordinator as this process last saw it: a rejoin heartbeats at it. */
  memberEpoch: number;
  /** The last JoinGroup's answer: its generation, what the member said it owned, how it reads assignments. */
  joined?: {
    generation: number;
    owned: TopicPartitions[];
    protocolName: string;
    /** ConsumerProtocolAssignment version to answer with: the subscription's, capped to ours. */
    assignmentVersion: number;
  };
  /** What SyncGroup handed out, at which generation: what the client consumes until it rejoins. */
  handedOut?: { generation: number; assignment: TopicPartitions[] };
}

/** Enough for any realistic number of members per agent; past it the least recently seen are forgotten. */
const DEFAULT_MAX_MEMBERS = 100_000;

export class ClassicMembers {
  private readonly members = new Map<string, ClassicMember>();

  constructor(private readonly maxMembers = DEFAULT_MAX_MEMBERS) {}

  get(groupId: string, memberId: string): ClassicMember | undefined {
    return this.members.get(key(groupId, memberId));
  }

  /** Merges `change` into the member's record (creating it), and marks it most recently seen. */
  update(
    groupId: string,
    memberId: string,
    change: Partial<ClassicMember> & { memberEpoch: number },
  ): ClassicMember {
    const k = key(groupId, memberId);
    const merged = { ...this.members.get(k), ...change };
    // Re-inserting moves the key to the end of the map's order, which is what eviction reads.
    this.members.delete(k);
    this.members.set(k, merged);
    if (this.members.size > this.maxMembers) {
      const oldest = this.members.keys().next().value;
      if (oldest !== undefined) this.members.delete(oldest);
    }
    return merged;
  }

  /**
   * The member epoch an OffsetCommit from a classic member at `generationId` should carry.
   *
   * A classic member learns a new generation only by rejoining, but the coordinator may move its
   * epoch on at a Heartbeat that also gives it more (another member left): Heartbeat then answers
   * REBALANCE_IN_PROGRESS, and the client commits what it consumed before rejoining, at the
   * generation it holds, as Java and librdkafka do. Kafka accepts that commit (its classic members'
   * epochs move only at JoinGroup). When the generation is the one this process handed an
   * assignment out at, the member still holds that assignment, so its commit is carried at the
   * member's current epoch; the coordinator still refuses any partition no longer assigned to the
   * member or being revoked from it. Any other generation is passed on as it is.
   */
  commitEpoch(groupId: string, memberId: string, generationId: number): number {
    const member = this.get(groupId, memberId);
    return member?.handedOut?.generation === generationId ? member.memberEpoch : generationId;
  }

  forget(groupId: string, memberId: string): void {
    this.members.delete(key(groupId, memberId));
  }

  get size(): number {
    return this.members.size;
  }
}

function key(groupId: string, memberId: string): string {
  // Length-prefixed, so no pair of ids can spell another pair's key.
  return `${groupId.length}:${groupId}${memberId}`;
}

const byCoordinator = new WeakMap<GroupCoordinator, ClassicMembers>();

/** One record per coordinator, so two servers in one process (tests) never share members. */
export function classicMembersOf(coordinator: GroupCoordinator): ClassicMembers {
  let members = byCoordinator.get(coordinator);
  if (!members) {
    members = new ClassicMembers();
    byCoordinator.set(coordinator, members);
  }
  return members;
}

/** Whether two assignments name the same partitions, whatever their order. */
export function sameAssignment(a: readonly TopicPartitions[], b: readonly TopicPartitions[]): boolean {
  const keys = (list: readonly TopicPartitions[]) => {
    const set = new Set<string>();
    for (const { topic, partitions } of list) for (const p of partitions) set.add(`${p}\u0000${topic}`);
    return set;
  };
  const x = keys(a);
  const y = keys(b);
  if (x.size !== y.size) return false;
  for (const k of x) if (!y.has(k)) return false;
  return true;
}
