/**
 * The coordinator's public request and response shapes. They are plain JSON on purpose: the HTTP
 * routes (architecture §8) pass them through unchanged and the client Consumer speaks them as they are.
 */

export interface TopicPartitions {
  topic: string;
  /** Ascending, no duplicates. */
  partitions: number[];
}

/** KIP-848's ConsumerGroupState. */
export type GroupState = "Empty" | "Assigning" | "Reconciling" | "Stable" | "Dead";

/** Kafka's group.consumer.assignors: `uniform` (sticky, balanced) or `range` (per topic, by member id). */
export type AssignorName = "uniform" | "range";

/** The member epochs with a meaning of their own, as in ConsumerGroupHeartbeat. */
export const JOIN_GROUP_MEMBER_EPOCH = 0;
export const LEAVE_GROUP_MEMBER_EPOCH = -1;

/**
 * The protocol a member speaks: `classic` for Kafka's JoinGroup/SyncGroup/Heartbeat (served on this
 * coordinator by the Kafka listener), `consumer` for KIP-848's heartbeat (ConsumerGroupHeartbeat,
 * HTTP, the client Consumer). Kafka answers the two differently (ListGroups' type, describe's member
 * type, a classic member's stale commit being ILLEGAL_GENERATION), so the coordinator records it.
 */
export type MemberProtocol = "classic" | "consumer";

export interface HeartbeatRequest {
  /** Absent on a first join: the coordinator generates one. Required once joined. */
  memberId?: string;
  /** 0 joins (or rejoins after a fence), -1 leaves, otherwise the epoch the last response gave. */
  memberEpoch: number;
  clientId?: string;
  /** Replaces the subscription when present; absent keeps it. Required on join unless a regex is. */
  subscribedTopics?: string[];
  /** Matched against every topic name as a full match (Kafka's anchored semantics); "" clears it. */
  subscribedTopicRegex?: string;
  /**
   * The partitions the member is consuming right now, i.e. the assignment of the last response it
   * acted on. A partition being revoked moves only once a heartbeat stops listing it; absent means
   * "unchanged", so revocations wait.
   */
  ownedPartitions?: TopicPartitions[];
  /** Kafka's max.poll.interval.ms: how long the member may take to revoke. Default 300000. */
  rebalanceTimeoutMs?: number;
  /** The protocol the member speaks, recorded at every heartbeat; absent is `consumer`. */
  protocol?: MemberProtocol;
}

export interface HeartbeatResponse {
  memberId: string;
  /** Send this back in the next heartbeat and with every offset commit. -1 after a leave. */
  memberEpoch: number;
  heartbeatIntervalMs: number;
  /** The partitions the member may consume now; everything else it holds it must give up. */
  assignment: TopicPartitions[];
}

export interface OffsetToCommit {
  topic: string;
  partition: number;
  /** The next record to read (Kafka's convention), in [0, high-water mark]. */
  offset: number;
  /** At most 4096 characters (Kafka's offset.metadata.max.bytes). */
  metadata?: string | null;
}

export interface CommitRequest {
  /** Absent for a standalone consumer, which may commit only while the group has no members. */
  memberId?: string;
  /** The member's current epoch; absent or -1 for a standalone commit. */
  memberEpoch?: number;
  offsets: OffsetToCommit[];
}

export interface CommittedOffset {
  topic: string;
  partition: number;
  offset: number;
  metadata: string;
}

export interface GroupOffset extends CommittedOffset {
  /** The partition's high-water mark when the offset was read (kafka-consumer-groups' LOG-END-OFFSET). */
  highWatermark: number;
  /** highWatermark − offset, never negative. */
  lag: number;
}

export interface MemberDescription {
  memberId: string;
  clientId: string | null;
  memberEpoch: number;
  subscribedTopics: string[];
  subscribedTopicRegex: string | null;
  /** What the member may consume now. */
  assignment: TopicPartitions[];
  /** What it is converging to. */
  targetAssignment: TopicPartitions[];
  /** Partitions it was told to give up and has not yet reported released. */
  pendingRevocation: TopicPartitions[];
  lastHeartbeatMs: number;
  /** What its last heartbeat spoke. */
  protocol: MemberProtocol;
}

export interface GroupDescription {
  groupId: string;
  state: GroupState;
  groupEpoch: number;
  assignmentEpoch: number;
  assignor: AssignorName;
  members: MemberDescription[];
  offsets: GroupOffset[];
}

export interface GroupListing {
  groupId: string;
  state: GroupState;
  members: number;
  /**
   * Kafka's group type: `classic` while the group has members and every one of them speaks the
   * classic protocol, `consumer` otherwise (an empty group included: the coordinator keeps no type
   * for a group apart from its members').
   */
  type: MemberProtocol;
}

/** kafka-consumer-groups --reset-offsets: --to-earliest, --to-latest, --to-offset, --to-datetime, --shift-by. */
export type ResetTarget =
  | "earliest"
  | "latest"
  | { offset: number }
  | { timestamp: number }
  | { shiftBy: number };

export interface ResetRequest {
  topic: string;
  /** Every partition of the topic when absent. */
  partitions?: number[];
  to: ResetTarget;
}

export interface ResetOptions {
  /** Plan only (kafka-consumer-groups without --execute). */
  dryRun?: boolean;
}

export interface PlannedOffset {
  topic: string;
  partition: number;
  /** The committed offset before the reset, null when none was committed. */
  previousOffset: number | null;
  /** The new offset, clamped to [log start, high-water mark]. */
  offset: number;
}
