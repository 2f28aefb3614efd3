import { ConditionFailedError } from "../errors.js";
import type { Doc, Item, MetaStore, WriteOp } from "../storage/ports.js";
import { groupKeys, MEMBER_PREFIX, TARGET_PREFIX } from "./keys.js";
import {
  compareStrings,
  type PartitionSet,
  sameSet,
  toPartitionSet,
  toTopicPartitions,
} from "./partition-set.js";
import type { MemberAssignment, MemberState } from "./reconcile.js";
import type { AssignorName, MemberProtocol, TopicPartitions } from "./types.js";

/**
 * The stored shape of a group (architecture §2, decision 0012): the `meta` item holds the epochs,
 * the subscribed topics' metadata, the group's distinct subscriptions, who may still hold a
 * partition the target gives to someone else, and which version of each target shard is current;
 * `target#{n}` items hold, for the members hashed to shard n, their subscription and target
 * assignment, written only together with meta by an epoch bump; each `member#` item holds one
 * member's subscription, current assignment and liveness, written only by that member's own
 * requests (or by its removal).
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
  /** Member id → target. Only the shards read when `partial` (a heartbeat reads its own). */
  target: Map<string, Set<string>>;
  /**
   * Every member's subscription, written with each epoch bump (the only writes that add, remove or
   * re-subscribe a member), so a bump needs no member item (decision 0012). Only the shards read
   * when `partial`; undefined on a meta item written before shards existed (read every member then).
   */
  subscriptions: Map<string, MemberSubscription> | undefined;
  /** The group's distinct subscriptions, on the meta item itself: a heartbeat's topic check. */
  distinct: MemberSubscription[];
  /**
   * Member id → partitions it may still hold (assigned or being revoked) that the target gives to
   * another member. Recorded at each bump; until the next one such a member can only let them go,
   * so a member acquiring a partition reads just the items named here for it (decision 0012).
   * Undefined on a meta item written before the field existed.
   */
  releasing: Map<string, PartitionSet> | undefined;
  /**
   * Shard → the meta version that last wrote it (shards absent here are empty). A shard item whose
   * `writtenAt` differs is from another version (newer: meta moved on; older: a deleted group's).
   * Undefined on a meta item written before shards existed, which holds its target inline.
   */
  shards: Map<number, number> | undefined;
  /** Whether target and subscriptions hold only some shards. */
  partial: boolean;
  version: number;
}

/**
 * Shards of the target and subscriptions. Fixed, so a bump rewriting every shard still fits one
 * transaction with meta, a member and its removals (100 operations); a heartbeat reads 1/32 of them.
 */
const TARGET_SHARDS = 32;

/** FNV-1a: stable across processes and versions, which a shard number must be. */
function shardOf(memberId: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < memberId.length; i++) {
    h ^= memberId.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % TARGET_SHARDS;
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
  const [memberItems, shardItems] = await Promise.all([
    store.query(groupKeys.group(groupId), { prefix: MEMBER_PREFIX }),
    store.query(groupKeys.group(groupId), { prefix: TARGET_PREFIX }),
  ]);
  const members = new Map<string, MemberRecord>();
  for (const m of memberItems) {
    const record = memberFromItem(m);
    members.set(record.memberId, record);
  }
  const head = fromMetaItem(groupId, item, cache);
  const meta = head.meta ? withShards(head.meta, shardItems, true) : undefined;
  return { ...head, meta, members, complete: true };
}

/** Meta with every shard read (for a bump, which needs all subscriptions and the whole target). */
export async function completeMeta(store: MetaStore, meta: GroupMeta): Promise<GroupMeta> {
  if (!meta.partial) return meta;
  return withShards(meta, await store.query(groupKeys.group(meta.groupId), { prefix: TARGET_PREFIX }), true);
}

/**
 * Adds the shard items' members to meta's target and subscriptions. Read after the meta item, a
 * shard is that version's or newer; newer means meta moved on, and the pass must run again (the
 * write it would make is conditional on the meta version anyway). Shards meta does not list are
 * leftovers of a deleted group, ignored.
 */
function withShards(meta: GroupMeta, items: Item[], all: boolean): GroupMeta {
  if (!meta.shards) return meta;
  const target = new Map(meta.target);
  const subscriptions = new Map(meta.subscriptions);
  const seen = new Set<number>();
  for (const item of items) {
    const shard = Number(item.sk.slice(TARGET_PREFIX.length));
    const expected = meta.shards.get(shard);
    if (expected === undefined) continue;
    const d = item.data as unknown as StoredShard;
    if (d.writtenAt !== expected) throw shardMoved(meta.groupId);
    seen.add(shard);
    for (const e of d.members) {
      target.set(e.memberId, toPartitionSet(e.assignment));
      subscriptions.set(e.memberId, { subscribedTopics: e.topics, subscribedTopicRegex: e.regex });
    }
  }
  if (all && seen.size !== meta.shards.size) throw shardMoved(meta.groupId);
  return { ...meta, target, subscriptions, partial: !all };
}

function shardMoved(groupId: string): ConditionFailedError {
  return new ConditionFailedError(`Group '${groupId}' changed while it was read.`);
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
  const s = groupKeys.targetShard(groupId, shardOf(memberId));
  const [item, member, shard] = await Promise.all([
    store.get(k.pk, k.sk),
    loadMember(store, groupId, memberId),
    store.get(s.pk, s.sk),
  ]);
  const members = new Map<string, MemberRecord>();
  if (member) members.set(memberId, member);
  const head = fromMetaItem(groupId, item, cache);
  let meta = head.meta;
  const expected = meta?.shards?.get(shardOf(memberId));
  if (meta && expected !== undefined) {
    // Read beside meta, the shard may predate it: then read it again, now after meta.
    const current =
      shard && (shard.data as unknown as StoredShard).writtenAt === expected
        ? shard
        : await store.get(s.pk, s.sk);
    // Gone: a later bump removed its last member, so meta has moved on.
    if (!current) throw shardMoved(groupId);
    meta = withShards(meta, [current], false);
  }
  return { ...head, meta, members, complete: false };
}

/**
 * The meta item and, given an id, that member's item, read together and nothing else: what an
 * offset commit checks (the member's epoch and holdings are on its own item, the incarnation on
 * meta), whatever the group's size. No target shard is read, so meta's target and subscriptions are
 * empty and `partial` (a bump made from this view reads every shard first). Unlike a heartbeat, a
 * commit's write is conditional on the member item alone, so the two reads need no order.
 */
export async function loadOwnItems(
  store: MetaStore,
  groupId: string,
  memberId: string | undefined,
  cache?: DecodedMetaCache,
): Promise<GroupSnapshot> {
  const k = groupKeys.meta(groupId);
  const [item, member] = await Promise.all([
    store.get(k.pk, k.sk),
    memberId === undefined ? undefined : loadMember(store, groupId, memberId),
  ]);
  const members = new Map<string, MemberRecord>();
  if (member) members.set(member.memberId, member);
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
    // Before shards the target was inline, and the subscriptions only on the member items.
    target: d.shards
      ? new Map()
      : new Map((d.target ?? []).map((t) => [t.memberId, toPartitionSet(t.assignment)])),
    subscriptions: d.shards ? new Map() : undefined,
    distinct: (d.shards ? (d.subscriptions ?? []) : []).map((s) => ({
      subscribedTopics: s.topics,
      subscribedTopicRegex: s.regex,
    })),
    releasing:
      d.releasing === undefined
        ? undefined
        : new Map(d.releasing.map((r) => [r.memberId, toPartitionSet(r.partitions)])),
    shards: d.shards ? new Map(d.shards) : undefined,
    partial: d.shards !== undefined,
    version: item.version,
  };
}

/** A subscription's canonical form: topics deduplicated and sorted, so equal ones compare equal. */
function canonical(s: MemberSubscription): StoredSubscription {
  const topics = s.subscribedTopics;
  let sorted = true;
  for (let i = 1; i < topics.length && sorted; i++) sorted = compareStrings(topics[i - 1], topics[i]) < 0;
  // Stored ones already are: most calls copy nothing.
  return {
    topics: sorted ? (topics as string[]) : [...new Set(topics)].sort(compareStrings),
    regex: s.subscribedTopicRegex,
  };
}

/** Equal subscriptions give equal keys (topic names cannot contain NUL). */
function subscriptionKey(s: MemberSubscription): string {
  const c = canonical(s);
  return `${c.regex === null ? "-" : `+${c.regex}`}\u0000${c.topics.join("\u0000")}`;
}

/** The distinct subscriptions among `subscriptions`: what decides the group's topics, once each. */
export function distinctSubscriptions(subscriptions: Map<string, MemberSubscription>): MemberSubscription[] {
  const byKey = new Map<string, MemberSubscription>();
  for (const s of new Set(subscriptions.values())) {
    const key = subscriptionKey(s);
    if (!byKey.has(key)) {
      const c = canonical(s);
      byKey.set(key, { subscribedTopics: c.topics, subscribedTopicRegex: c.regex });
    }
  }
  return [...byKey].sort((a, b) => compareStrings(a[0], b[0])).map(([, s]) => s);
}

/**
 * The shard items a bump writes: every shard whose members' subscriptions or targets differ from
 * the previous version's (all of them over a meta item from before shards), each stamped with the
 * meta version this bump creates; a shard left with no members is deleted. Returns which version
 * of each shard is current afterwards, for the meta item.
 */
export function shardWrites(
  groupId: string,
  next: { target: Map<string, Set<string>>; subscriptions: Map<string, MemberSubscription> },
  previous: GroupMeta | undefined,
  newVersion: number,
): { shards: Map<number, number>; ops: WriteOp[] } {
  // Which shards change: a member added, removed, re-subscribed or re-targeted. Compared as sets,
  // so an unchanged shard costs no encoding.
  const changed = new Set<number>();
  const comparable = previous?.shards !== undefined && previous.subscriptions !== undefined;
  if (!comparable) for (let shard = 0; shard < TARGET_SHARDS; shard++) changed.add(shard);
  else {
    const before = previous.subscriptions!;
    for (const id of before.keys()) if (!next.subscriptions.has(id)) changed.add(shardOf(id));
    for (const [id, s] of next.subscriptions) {
      const shard = shardOf(id);
      if (changed.has(shard)) continue;
      const was = before.get(id);
      if (
        !was ||
        (was !== s && subscriptionKey(was) !== subscriptionKey(s)) ||
        !sameSet(previous.target.get(id) ?? new Set(), next.target.get(id) ?? new Set())
      ) {
        changed.add(shard);
      }
    }
  }
  const members = new Map<number, StoredShard["members"]>();
  for (const memberId of [...next.subscriptions.keys()].sort(compareStrings)) {
    const shard = shardOf(memberId);
    if (!changed.has(shard)) continue;
    let list = members.get(shard);
    if (!list) members.set(shard, (list = []));
    const c = canonical(next.subscriptions.get(memberId)!);
    list.push({
      memberId,
      topics: c.topics,
      regex: c.regex,
      assignment: toTopicPartitions(next.target.get(memberId) ?? []),
    });
  }
  const shards = new Map<number, number>();
  const ops: WriteOp[] = [];
  for (let shard = 0; shard < TARGET_SHARDS; shard++) {
    const k = groupKeys.targetShard(groupId, shard);
    const list = members.get(shard);
    const kept = previous?.shards?.get(shard);
    if (!changed.has(shard)) {
      if (kept !== undefined) shards.set(shard, kept);
    } else if (list) {
      const data: StoredShard = { writtenAt: newVersion, members: list };
      ops.push({ type: "put", ...k, data: data as unknown as Doc });
      shards.set(shard, newVersion);
    } else if (kept !== undefined) {
      ops.push({ type: "delete", ...k });
    }
  }
  return { shards, ops };
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
    subscriptions: meta.distinct.map(canonical),
    shards: [...(meta.shards ?? [])].sort((a, b) => a[0] - b[0]),
  };
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
  /** Only on meta items written before shards existed. */
  target?: { memberId: string; assignment: TopicPartitions[] }[];
  /** The distinct subscriptions (absent, or carrying member ids, on items from before shards). */
  subscriptions?: StoredSubscription[];
  /** Absent on meta items written before it existed; present (maybe empty) on every later one. */
  releasing?: { memberId: string; partitions: TopicPartitions[] }[];
  /** [shard, meta version that wrote it]; absent on meta items written before shards existed. */
  shards?: [number, number][];
}

interface StoredSubscription {
  topics: string[];
  regex: string | null;
}

interface StoredShard {
  /** The meta version written in the same transaction. */
  writtenAt: number;
  members: { memberId: string; topics: string[]; regex: string | null; assignment: TopicPartitions[] }[];
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
