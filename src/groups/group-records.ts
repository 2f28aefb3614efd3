import type { Doc, Item, MetaStore } from "../storage/ports.js";
import { groupKeys, MEMBER_PREFIX } from "./keys.js";
import { toPartitionSet, toTopicPartitions } from "./partition-set.js";
import type { MemberAssignment, MemberState } from "./reconcile.js";
import type { AssignorName, MemberProtocol, TopicPartitions } from "./types.js";

/**
 * The stored shape of a group (architecture §2): the `meta` item holds the epochs, the target assignment
 * and the subscribed topics' metadata; each `member#` item holds one member's subscription, current
 * assignment and liveness, written only by that member's own requests (or by its removal).
 * Assignments are stored as [{topic, partitions}] lists, never as objects keyed by topic name, so a
 * topic called "__proto__" is just a topic.
 */

export interface TopicMetadata {
  name: string;
  topicId: string;
  partitions: number;
}

export interface GroupMeta {
  groupId: string;
  /** New each time the group is created: offsets of an earlier group of the same id are not ours. */
  incarnation: string;
  createdAt: number;
  groupEpoch: number;
  assignmentEpoch: number;
  assignor: AssignorName;
  /** The subscribed topics as of groupEpoch, sorted by name: when they change, the epoch bumps. */
  topics: TopicMetadata[];
  target: Map<string, Set<string>>;
  version: number;
}

export interface MemberRecord extends MemberAssignment {
  memberId: string;
  clientId: string | null;
  subscribedTopics: string[];
  subscribedTopicRegex: string | null;
  rebalanceTimeoutMs: number;
  lastHeartbeatMs: number;
  protocol: MemberProtocol;
  /** 0 for a member not yet stored. */
  version: number;
}

export interface GroupSnapshot {
  groupId: string;
  /** Undefined when the group does not exist (never created, or deleted). */
  meta: GroupMeta | undefined;
  /**
   * The version of the meta item whatever it holds: creating a group over a deleted one's tombstone
   * is conditional on it, so the item's version only ever grows and no stale write can match it.
   */
  metaVersion: number | undefined;
  members: Map<string, MemberRecord>;
}

/**
 * Reads meta first, then the members. The order matters: a member acquires a partition only in a
 * write conditional on the meta version it read, so every acquisition made under an older target is
 * already visible to a members query issued after reading the newer meta.
 */
export async function loadGroup(store: MetaStore, groupId: string): Promise<GroupSnapshot> {
  const k = groupKeys.meta(groupId);
  const item = await store.get(k.pk, k.sk);
  const memberItems = await store.query(groupKeys.group(groupId), { prefix: MEMBER_PREFIX });
  const members = new Map<string, MemberRecord>();
  for (const m of memberItems) {
    const record = memberFromItem(m);
    members.set(record.memberId, record);
  }
  return {
    groupId,
    meta: item && item.data.deleted !== true ? metaFromItem(item) : undefined,
    metaVersion: item?.version,
    members,
  };
}

export function metaFromItem(item: Item): GroupMeta {
  const d = item.data as unknown as StoredMeta;
  return {
    groupId: d.groupId,
    incarnation: d.incarnation,
    createdAt: d.createdAt,
    groupEpoch: d.groupEpoch,
    assignmentEpoch: d.assignmentEpoch,
    assignor: d.assignor,
    topics: d.topics,
    target: new Map(d.target.map((t) => [t.memberId, toPartitionSet(t.assignment)])),
    version: item.version,
  };
}

export function metaToDoc(meta: Omit<GroupMeta, "version">): Doc {
  const stored: StoredMeta = {
    groupId: meta.groupId,
    incarnation: meta.incarnation,
    createdAt: meta.createdAt,
    groupEpoch: meta.groupEpoch,
    assignmentEpoch: meta.assignmentEpoch,
    assignor: meta.assignor,
    topics: meta.topics,
    target: [...meta.target].map(([memberId, set]) => ({ memberId, assignment: toTopicPartitions(set) })),
  };
  return stored as unknown as Doc;
}

export function tombstoneDoc(meta: GroupMeta, now: number): Doc {
  return { deleted: true, groupId: meta.groupId, incarnation: meta.incarnation, deletedAt: now };
}

export function memberFromItem(item: Item): MemberRecord {
  const d = item.data as unknown as StoredMember;
  return {
    memberId: d.memberId,
    clientId: d.clientId,
    subscribedTopics: d.subscribedTopics,
    subscribedTopicRegex: d.subscribedTopicRegex,
    rebalanceTimeoutMs: d.rebalanceTimeoutMs,
    lastHeartbeatMs: d.lastHeartbeatMs,
    memberEpoch: d.memberEpoch,
    previousMemberEpoch: d.previousMemberEpoch,
    state: d.state,
    assigned: toPartitionSet(d.assigned),
    revoking: toPartitionSet(d.revoking),
    revocationDeadline: d.revocationDeadline,
    // Items written before the field existed: assume the worst, which costs at most an epoch.
    grown: d.grown ?? true,
    // Items written before the field existed, and every consumer-protocol member, carry none.
    protocol: d.protocol ?? "consumer",
    version: item.version,
  };
}

export function memberToDoc(m: MemberRecord): Doc {
  const stored: StoredMember = {
    memberId: m.memberId,
    clientId: m.clientId,
    subscribedTopics: m.subscribedTopics,
    subscribedTopicRegex: m.subscribedTopicRegex,
    rebalanceTimeoutMs: m.rebalanceTimeoutMs,
    lastHeartbeatMs: m.lastHeartbeatMs,
    memberEpoch: m.memberEpoch,
    previousMemberEpoch: m.previousMemberEpoch,
    state: m.state,
    assigned: toTopicPartitions(m.assigned),
    revoking: toTopicPartitions(m.revoking),
    revocationDeadline: m.revocationDeadline,
    grown: m.grown,
  };
  // Stored only for classic members, so the common case costs no bytes.
  if (m.protocol === "classic") stored.protocol = "classic";
  return stored as unknown as Doc;
}

export interface StoredOffset {
  topic: string;
  partition: number;
  /** The topic's id when committed: a re-created topic of the same name does not inherit it. */
  topicId: string;
  offset: number;
  metadata: string;
  committedAt: number;
  incarnation: string;
}

export function offsetFromItem(item: Item): StoredOffset {
  return item.data as unknown as StoredOffset;
}

export function offsetToDoc(o: StoredOffset): Doc {
  return { ...o };
}

interface StoredMeta {
  groupId: string;
  incarnation: string;
  createdAt: number;
  groupEpoch: number;
  assignmentEpoch: number;
  assignor: AssignorName;
  topics: TopicMetadata[];
  target: { memberId: string; assignment: TopicPartitions[] }[];
}

interface StoredMember {
  memberId: string;
  clientId: string | null;
  subscribedTopics: string[];
  subscribedTopicRegex: string | null;
  rebalanceTimeoutMs: number;
  lastHeartbeatMs: number;
  memberEpoch: number;
  previousMemberEpoch: number;
  state: MemberState;
  assigned: TopicPartitions[];
  revoking: TopicPartitions[];
  revocationDeadline: number | null;
  /** Absent on items written before it existed. */
  grown?: boolean;
  /** Present only for a classic member; absent reads as "consumer". */
  protocol?: "classic";
}
