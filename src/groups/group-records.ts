import type { Doc, Item, MetaStore } from "../storage/ports.js";
import { groupKeys, MEMBER_PREFIX } from "./keys.js";
import { compareStrings, type PartitionSet, toPartitionSet, toTopicPartitions } from "./partition-set.js";
import type { MemberAssignment, MemberState } from "./reconcile.js";
import type { AssignorName, MemberProtocol, TopicPartitions } from "./types.js";

/**
 * The stored shape of a group (architecture §2): the `meta` item holds the epochs, the target assignment,
 * the subscribed topics' metadata, every member's subscription and who may still hold a partition the
 * target gives to someone else; each `member#` item holds one member's subscription, current
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
  /**
   * Every member's subscription, written with each epoch bump (the only writes that add, remove or
   * re-subscribe a member), so a bump and a heartbeat's topic check need no member item (decision
   * 0012). Undefined on a meta item written before the field existed: read every member item then.
   */
  subscriptions: Map<string, MemberSubscription> | undefined;
  /**
   * Member id → partitions it may still hold (assigned or being revoked) that the target gives to
   * another member. Recorded at each bump; until the next one such a member can only let them go,
   * so a member acquiring a partition reads just the items named here for it (decision 0012).
   * Undefined on a meta item written before the field existed.
   */
  releasing: Map<string, PartitionSet> | undefined;
  version: number;
}

export interface MemberSubscription {
  subscribedTopics: readonly string[];
  subscribedTopicRegex: string | null;
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
  /** Every member item (complete), or only those this operation read (its own, maybe a few others). */
  members: Map<string, MemberRecord>;
  complete: boolean;
}

/**
 * Reads meta first, then the members. The order matters: a member acquires a partition only in a
 * write conditional on the meta version it read, so every acquisition made under an older target is
 * already visible to a members query issued after reading the newer meta.
 */
export async function loadGroup(
  store: MetaStore,
  groupId: string,
  cache?: DecodedMetaCache,
): Promise<GroupSnapshot> {
  const k = groupKeys.meta(groupId);
  const item = await store.get(k.pk, k.sk);
  const memberItems = await store.query(groupKeys.group(groupId), { prefix: MEMBER_PREFIX });
  const members = new Map<string, MemberRecord>();
  for (const m of memberItems) {
    const record = memberFromItem(m);
    members.set(record.memberId, record);
  }
  return { ...fromMetaItem(groupId, item, cache), members, complete: true };
}

/**
 * The meta item and one member's item: all a steady heartbeat reads, whatever the group's size. The
 * two reads may run together: the member's own item is written only by its own requests and by
 * epoch bumps, and every write made from this view is conditional on both versions read.
 */
export async function loadMemberView(
  store: MetaStore,
  groupId: string,
  memberId: string,
  cache?: DecodedMetaCache,
): Promise<GroupSnapshot> {
  const k = groupKeys.meta(groupId);
  const [item, member] = await Promise.all([store.get(k.pk, k.sk), loadMember(store, groupId, memberId)]);
  const members = new Map<string, MemberRecord>();
  if (member) members.set(memberId, member);
  return { ...fromMetaItem(groupId, item, cache), members, complete: false };
}

export async function loadMember(
  store: MetaStore,
  groupId: string,
  memberId: string,
): Promise<MemberRecord | undefined> {
  const k = groupKeys.member(groupId, memberId);
  const item = await store.get(k.pk, k.sk);
  return item ? memberFromItem(item) : undefined;
}

function fromMetaItem(
  groupId: string,
  item: Item | undefined,
  cache: DecodedMetaCache | undefined,
): Pick<GroupSnapshot, "groupId" | "meta" | "metaVersion"> {
  let meta: GroupMeta | undefined;
  if (item && item.data.deleted !== true) meta = cache ? cache.decode(groupId, item) : metaFromItem(item);
  return { groupId, meta, metaVersion: item?.version };
}

/** Groups whose decoded meta item a process keeps; past it the least recently read are forgotten. */
const DEFAULT_CACHED_METAS = 256;

/**
 * The last decoded meta item per group. Its target and subscriptions grow with the group, and every
 * heartbeat reads it while it changes only at epoch bumps: decoding once per version keeps a steady
 * heartbeat's CPU from growing with the group. A version names one content for good (the item's
 * version only grows, across delete and re-create too), so a hit is always right. Callers treat
 * the decoded meta as immutable.
 */
export class DecodedMetaCache {
  private readonly byGroup = new Map<string, GroupMeta>();

  constructor(private readonly maxGroups = DEFAULT_CACHED_METAS) {}

  decode(groupId: string, item: Item): GroupMeta {
    const cached = this.byGroup.get(groupId);
    if (cached && cached.version === item.version) return cached;
    const meta = metaFromItem(item);
    // Re-inserting moves the key to the end of the map's order, which is what eviction reads.
    this.byGroup.delete(groupId);
    this.byGroup.set(groupId, meta);
    if (this.byGroup.size > this.maxGroups) {
      const oldest = this.byGroup.keys().next().value;
      if (oldest !== undefined) this.byGroup.delete(oldest);
    }
    return meta;
  }
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
    subscriptions: d.subscriptions === undefined ? undefined : subscriptionsFromStored(d.subscriptions),
    releasing:
      d.releasing === undefined
        ? undefined
        : new Map(d.releasing.map((r) => [r.memberId, toPartitionSet(r.partitions)])),
    version: item.version,
  };
}

function subscriptionsFromStored(stored: StoredSubscription[]): Map<string, MemberSubscription> {
  const out = new Map<string, MemberSubscription>();
  for (const s of stored) {
    // One object per distinct subscription, shared by its members: decoding stays cheap.
    const subscription: MemberSubscription = { subscribedTopics: s.topics, subscribedTopicRegex: s.regex };
    for (const memberId of s.members) out.set(memberId, subscription);
  }
  return out;
}

/** Members grouped by identical subscription: most groups have one, so the meta item stays small. */
function subscriptionsToStored(subscriptions: Map<string, MemberSubscription>): StoredSubscription[] {
  const byKey = new Map<string, StoredSubscription>();
  for (const [memberId, s] of [...subscriptions].sort((a, b) => compareStrings(a[0], b[0]))) {
    const topics = [...new Set(s.subscribedTopics)].sort(compareStrings);
    const key = JSON.stringify([topics, s.subscribedTopicRegex]);
    let entry = byKey.get(key);
    if (!entry) byKey.set(key, (entry = { topics, regex: s.subscribedTopicRegex, members: [] }));
    entry.members.push(memberId);
  }
  return [...byKey.values()];
}

/** The distinct subscriptions of a group: what decides its subscribed topics, once each. */
export function distinctSubscriptions(subscriptions: Map<string, MemberSubscription>): MemberSubscription[] {
  return [...new Set(subscriptions.values())];
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
  if (meta.subscriptions) stored.subscriptions = subscriptionsToStored(meta.subscriptions);
  if (meta.releasing) {
    stored.releasing = [...meta.releasing]
      .filter(([, set]) => set.size > 0)
      .sort((a, b) => compareStrings(a[0], b[0]))
      .map(([memberId, set]) => ({ memberId, partitions: toTopicPartitions(set) }));
  }
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
  /** Absent on meta items written before it existed. */
  subscriptions?: StoredSubscription[];
  /** Absent on meta items written before it existed; present (maybe empty) on every later one. */
  releasing?: { memberId: string; partitions: TopicPartitions[] }[];
}

interface StoredSubscription {
  topics: string[];
  regex: string | null;
  members: string[];
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
