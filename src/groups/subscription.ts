import type { Broker } from "../broker/broker.js";
import { FloeError } from "../errors.js";
import type { TopicMetadata } from "./group-records.js";
import { compareStrings } from "./partition-set.js";
import { type TopicList, topicList, topicsMatching } from "./topic-regex.js";

export interface Subscriber {
  memberId: string;
  subscribedTopics: readonly string[];
  subscribedTopicRegex: string | null;
}

export interface ResolvedSubscriptions {
  /** Every existing topic some member subscribes to, sorted by name. */
  topics: TopicMetadata[];
  /** Member id → the existing topics its subscription covers; shared between members and calls, never to be changed. */
  byMember: Map<string, readonly string[]>;
}

/**
 * Resolves names and patterns against the topics that exist now. Topics come from the broker's
 * metadata cache (Kafka's metadata.max.age.ms), so a heartbeat costs no topic reads most of the time;
 * `fresh` reads them from the store instead. A topic named but not existing is skipped, and creating
 * it later changes the resolution and with it the group epoch. Members with the same subscription
 * share one (read-only) array in `byMember`.
 */
export async function resolveSubscriptions(
  broker: Broker,
  members: Iterable<Subscriber>,
  options: { fresh?: boolean } = {},
): Promise<ResolvedSubscriptions> {
  const list = [...members];
  const needsListing = list.some((m) => m.subscribedTopicRegex !== null);
  const listed = needsListing ? await currentTopicList(broker) : undefined;
  // Members of a group mostly share one subscription: each distinct one is resolved once, and its
  // regex matched once per listing (topicsMatching's cache), not once per member per heartbeat.
  const bySubscription = new Map<string, readonly string[]>();
  const wanted = new Map<string, readonly string[]>();
  const distinctSet = new Set<string>();
  for (const m of list) {
    const key = JSON.stringify([m.subscribedTopicRegex, m.subscribedTopics]);
    let names = bySubscription.get(key);
    if (!names) {
      const matched =
        m.subscribedTopicRegex !== null && listed ? topicsMatching(m.subscribedTopicRegex, listed) : [];
      // A regex alone (the usual case) answers the cached array itself: no copy per heartbeat.
      names = m.subscribedTopics.length === 0 ? matched : [...new Set([...m.subscribedTopics, ...matched])];
      bySubscription.set(key, names);
      for (const n of names) distinctSet.add(n);
    }
    wanted.set(m.memberId, names);
  }
  const distinct = [...distinctSet].sort(compareStrings);
  const found = await Promise.all(
    distinct.map((name) => topicMetadata(broker, name, options.fresh ?? false)),
  );
  const topics = found.filter((t): t is TopicMetadata => t !== undefined);
  const existing = new Set(topics.map((t) => t.name));
  const allExist = topics.length === distinct.length;
  const kept = new Map<readonly string[], readonly string[]>();
  const byMember = new Map<string, readonly string[]>();
  for (const [id, names] of wanted) {
    let present = kept.get(names);
    if (!present) {
      present = allExist ? names : names.filter((n) => existing.has(n));
      kept.set(names, present);
    }
    byMember.set(id, present);
  }
  return { topics, byMember };
}

/** The last listing of each broker, so that a listing with the same names reuses what was matched. */
const lastListing = new WeakMap<Broker, TopicList>();

async function currentTopicList(broker: Broker): Promise<TopicList> {
  const list = topicList(await broker.listTopics(), lastListing.get(broker));
  lastListing.set(broker, list);
  return list;
}

async function topicMetadata(
  broker: Broker,
  name: string,
  fresh: boolean,
): Promise<TopicMetadata | undefined> {
  try {
    const topic = fresh ? await broker.topics.get(name) : await broker.topics.cached(name);
    return { name: topic.name, topicId: topic.topicId, partitions: topic.partitions };
  } catch (e) {
    if (
      e instanceof FloeError &&
      (e.code === "UNKNOWN_TOPIC_OR_PARTITION" || e.code === "INVALID_TOPIC_EXCEPTION")
    ) {
      return undefined;
    }
    throw e;
  }
}

export function sameTopics(a: readonly TopicMetadata[], b: readonly TopicMetadata[]): boolean {
  return (
    a.length === b.length &&
    a.every((t, i) => t.name === b[i].name && t.topicId === b[i].topicId && t.partitions === b[i].partitions)
  );
}
