import type { Broker } from "../broker/broker.js";
import { FloeError } from "../errors.js";
import type { TopicMetadata } from "./group-records.js";
import { compareStrings } from "./partition-set.js";

/** Long enough for any real pattern; short enough that a pathological one cannot run for long. */
export const MAX_REGEX_LENGTH = 1000;

/**
 * Kafka matches a subscription regex against the whole topic name (Java's Matcher.matches), so
 * "orders" does not subscribe to "orders-dlq". JavaScript's RegExp is close to the RE2/J syntax
 * Kafka accepts for the common cases: character classes, alternation, quantifiers.
 */
export function compileTopicRegex(source: string): RegExp {
  if (source.length > MAX_REGEX_LENGTH) {
    throw new FloeError(
      "INVALID_REQUEST",
      `subscribedTopicRegex is longer than ${MAX_REGEX_LENGTH} characters.`,
    );
  }
  try {
    return new RegExp(`^(?:${source})$`);
  } catch (e) {
    throw new FloeError(
      "INVALID_REQUEST",
      `subscribedTopicRegex is not a valid regular expression: ${source}`,
      {
        cause: e,
      },
    );
  }
}

export interface Subscriber {
  memberId: string;
  subscribedTopics: readonly string[];
  subscribedTopicRegex: string | null;
}

export interface ResolvedSubscriptions {
  /** Every existing topic some member subscribes to, sorted by name. */
  topics: TopicMetadata[];
  /** Member id → the existing topics its subscription covers. */
  byMember: Map<string, string[]>;
}

/**
 * Resolves names and patterns against the topics that exist now. Topics come from the broker's
 * metadata cache (Kafka's metadata.max.age.ms), so a heartbeat costs no topic reads most of the time;
 * `fresh` reads them from the store instead. A topic named but not existing is skipped, and creating
 * it later changes the resolution and with it the group epoch.
 */
export async function resolveSubscriptions(
  broker: Broker,
  members: Iterable<Subscriber>,
  options: { fresh?: boolean } = {},
): Promise<ResolvedSubscriptions> {
  const list = [...members];
  const needsListing = list.some((m) => m.subscribedTopicRegex !== null);
  const allTopics = needsListing ? await broker.listTopics() : [];
  const patterns = new Map<string, RegExp>();
  const wanted = new Map<string, string[]>();
  for (const m of list) {
    const names = new Set(m.subscribedTopics);
    if (m.subscribedTopicRegex !== null) {
      let re = patterns.get(m.subscribedTopicRegex);
      if (!re) patterns.set(m.subscribedTopicRegex, (re = compileTopicRegex(m.subscribedTopicRegex)));
      for (const t of allTopics) if (re.test(t)) names.add(t);
    }
    wanted.set(m.memberId, [...names]);
  }
  const distinct = [...new Set([...wanted.values()].flat())].sort(compareStrings);
  const found = await Promise.all(
    distinct.map((name) => topicMetadata(broker, name, options.fresh ?? false)),
  );
  const topics = found.filter((t): t is TopicMetadata => t !== undefined);
  const existing = new Set(topics.map((t) => t.name));
  const byMember = new Map([...wanted].map(([id, names]) => [id, names.filter((n) => existing.has(n))]));
  return { topics, byMember };
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
