import { randomUUID } from "node:crypto";
import { ConditionFailedError, FloeError } from "../errors.js";
import type { Doc, Item, MetaStore } from "../storage/ports.js";
import { keys } from "./keys.js";
import { currentHolder, leaseFromItem, leaseKey } from "./lease.js";
import {
  effectiveConfig,
  isTopicConfigKey,
  parseTopicConfig,
  type TopicConfig,
  unknownTopicConfig,
  validatePartitionCount,
  validateTopicName,
} from "./topic-config.js";
import type { PartitionDescription, PartitionHead, Topic, TopicDescription } from "./types.js";

export interface TopicAdminOptions {
  clock: () => number;
  /** Kafka's metadata.max.age.ms, scaled to a bus whose metadata is strongly consistent: appends re-check the topic version in their commit, so a stale cache costs one retry, never a wrong write. */
  topicCacheTtlMs: number;
  /**
   * Broker-wide defaults written into every new topic that does not set them itself, like a
   * deployment's log.retention.ms. Applied at creation: changing them later leaves existing topics
   * as they are.
   */
  topicDefaults?: Record<string, unknown>;
}

export function topicFromItem(item: Item): Topic {
  const d = item.data as unknown as {
    name: string;
    topicId: string;
    partitions: number;
    config: Partial<TopicConfig>;
    createdAt: number;
  };
  return {
    name: d.name,
    topicId: d.topicId,
    partitions: d.partitions,
    configOverrides: d.config,
    config: effectiveConfig(d.config),
    createdAt: d.createdAt,
    version: item.version,
  };
}

export function headFromItem(item: Item | undefined): PartitionHead {
  if (!item) {
    return {
      next: 0,
      logStart: 0,
      leaderEpoch: 0,
      bytes: 0,
      leaseOwner: null,
      leaseExpiry: null,
      version: 0,
    };
  }
  const d = item.data as Partial<Record<keyof PartitionHead, unknown>>;
  return {
    next: Number(d.next ?? 0),
    logStart: Number(d.logStart ?? 0),
    leaderEpoch: Number(d.leaderEpoch ?? 0),
    bytes: Number(d.bytes ?? 0),
    leaseOwner: (d.leaseOwner as string | null | undefined) ?? null,
    leaseExpiry: (d.leaseExpiry as number | null | undefined) ?? null,
    version: item.version,
  };
}

export function headToDoc(head: PartitionHead): Doc {
  return {
    next: head.next,
    logStart: head.logStart,
    leaderEpoch: head.leaderEpoch,
    bytes: head.bytes,
    leaseOwner: head.leaseOwner,
    leaseExpiry: head.leaseExpiry,
  };
}

export class TopicAdmin {
  private readonly cache = new Map<string, { topic: Topic; expires: number }>();

  constructor(
    private readonly meta: MetaStore,
    private readonly options: TopicAdminOptions,
  ) {}

  async create(name: unknown, partitions: unknown, config?: Record<string, unknown>): Promise<Topic> {
    const doc = this.newTopicDoc(name, partitions, config);
    const k = keys.topic(doc.name);
    // A deleted topic leaves a tombstone so the item's version keeps growing across delete and
    // re-create: a producer holding the old version in its cache can never pass the commit check.
    const previous = await this.meta.get(k.pk, k.sk);
    if (previous && !isTombstone(previous)) throw alreadyExists(doc.name);
    try {
      // Partition heads are created lazily by the first append: an absent head is an empty
      // partition, so creating a topic of any size is one small transaction.
      await this.meta.transact([
        {
          type: "put",
          ...k,
          data: doc,
          condition: previous ? { version: previous.version } : { absent: true },
        },
        {
          type: "put",
          ...keys.topicDirectoryEntry(doc.name),
          data: { topicId: doc.topicId },
          condition: { absent: true },
        },
      ]);
    } catch (e) {
      if (e instanceof ConditionFailedError) throw alreadyExists(doc.name, e);
      throw e;
    }
    const topic = topicFromItem({ ...k, version: (previous?.version ?? 0) + 1, data: doc });
    this.remember(topic);
    return topic;
  }

  /**
   * The topic `create(name, partitions)` would make, validated the same way but written nowhere:
   * a produce is checked against it before its topic is auto-created, so a refused produce creates
   * nothing.
   */
  planned(name: unknown, partitions: unknown): Topic {
    const doc = this.newTopicDoc(name, partitions);
    return topicFromItem({ ...keys.topic(doc.name), version: 0, data: doc as unknown as Doc });
  }

  /** Whether the topic exists (as `cached` sees it); a name that is not one is never a topic. */
  async exists(name: string): Promise<boolean> {
    try {
      await this.cached(name);
      return true;
    } catch (e) {
      if (
        e instanceof FloeError &&
        (e.code === "UNKNOWN_TOPIC_OR_PARTITION" || e.code === "INVALID_TOPIC_EXCEPTION")
      )
        return false;
      throw e;
    }
  }

  private newTopicDoc(name: unknown, partitions: unknown, config?: Record<string, unknown>) {
    validateTopicName(name);
    validatePartitionCount(partitions);
    const overrides = parseTopicConfig({ ...this.options.topicDefaults, ...config });
    return {
      name: name as string,
      topicId: randomUUID(),
      partitions: partitions as number,
      config: overrides as Doc,
      createdAt: this.options.clock(),
    };
  }

  async list(): Promise<string[]> {
    const items = await this.meta.query(keys.topicDirectory);
    return items.map((i) => i.sk);
  }

  /** Every topic's name by its id, from the directory in one query: for Kafka's APIs that name topics by id (KIP-516). */
  async namesById(): Promise<Map<string, string>> {
    const items = await this.meta.query(keys.topicDirectory);
    return new Map(items.map((i) => [String(i.data.topicId), i.sk]));
  }

  /** Reads the topic from the store, bypassing the cache. */
  async get(name: string): Promise<Topic> {
    validateTopicName(name);
    const item = await this.meta.get(keys.topic(name).pk, keys.topic(name).sk);
    if (!item || isTombstone(item)) {
      this.cache.delete(name);
      throw unknownTopic(name);
    }
    const topic = topicFromItem(item);
    this.remember(topic);
    return topic;
  }

  /** The topic from the cache when fresh; for the hot paths, whose commits re-check the version. */
  async cached(name: string): Promise<Topic> {
    const hit = this.cache.get(name);
    if (hit && hit.expires > this.options.clock()) return hit.topic;
    return this.get(name);
  }

  /**
   * The topic as `cached` reads it; when it does not exist and `autoCreatePartitions` is given
   * (Kafka's auto.create.topics.enable), created first with that many partitions. A topic another
   * caller created meanwhile is the one answered.
   */
  async cachedOrCreated(name: string, autoCreatePartitions: number | undefined): Promise<Topic> {
    try {
      return await this.cached(name);
    } catch (e) {
      if (
        !(e instanceof FloeError && e.code === "UNKNOWN_TOPIC_OR_PARTITION") ||
        autoCreatePartitions === undefined
      )
        throw e;
      try {
        return await this.create(name, autoCreatePartitions);
      } catch (created) {
        if (created instanceof FloeError && created.code === "TOPIC_ALREADY_EXISTS") return this.get(name);
        throw created;
      }
    }
  }

  forget(name: string): void {
    this.cache.delete(name);
  }

  async describe(name: string): Promise<TopicDescription> {
    const topic = await this.get(name);
    const ids = Array.from({ length: topic.partitions }, (_, p) => p);
    const [heads, leases] = await Promise.all([
      Promise.all(ids.map((p) => this.getItem(keys.head(topic.topicId, p)))),
      // The lease lives beside the head, not on it (decision 0004).
      Promise.all(ids.map((p) => this.getItem(leaseKey(topic.topicId, p)))),
    ]);
    const now = this.options.clock();
    const partitions: PartitionDescription[] = heads.map((item, partition) => {
      const head = headFromItem(item);
      const lease = leaseFromItem(leases[partition]);
      const holder = currentHolder(lease, now);
      return {
        partition,
        logStartOffset: head.logStart,
        highWatermark: head.next,
        bytes: head.bytes,
        leaderEpoch: Math.max(head.leaderEpoch, lease.epoch),
        leaseOwner: holder,
        leaseExpiry: holder === null ? null : lease.expiry,
      };
    });
    return {
      name: topic.name,
      topicId: topic.topicId,
      partitions,
      config: topic.config,
      configOverrides: topic.configOverrides,
      createdAt: topic.createdAt,
    };
  }

  /**
   * Kafka's CreatePartitions and IncrementalAlterConfigs in one call: partitions may only grow,
   * config keys set to null revert to the default.
   */
  async update(
    name: string,
    change: { partitions?: unknown; config?: Record<string, unknown | null> },
  ): Promise<Topic> {
    const topic = await this.get(name);
    let partitions = topic.partitions;
    if (change.partitions !== undefined) {
      validatePartitionCount(change.partitions);
      if (change.partitions < topic.partitions) {
        throw new FloeError(
          "INVALID_PARTITIONS",
          `Topic currently has ${topic.partitions} partitions, which is higher than the requested ${change.partitions}; partitions can only be added.`,
        );
      }
      partitions = change.partitions;
    }
    // Null-prototype maps: a key such as "__proto__" must be refused as unknown, not assigned to
    // the object's prototype and silently dropped.
    const overrides: Record<string, unknown> = Object.assign(Object.create(null), topic.configOverrides);
    const sets: Record<string, unknown> = Object.create(null);
    const changes = change.config ?? {};
    for (const k of Object.keys(changes)) {
      // Reverting an unknown key is refused as setting one is.
      if (!isTopicConfigKey(k)) throw unknownTopicConfig(k);
      const v = changes[k];
      if (v === null) delete overrides[k];
      else sets[k] = v;
    }
    Object.assign(overrides, parseTopicConfig(sets));
    const doc: Doc = {
      name: topic.name,
      topicId: topic.topicId,
      partitions,
      config: { ...overrides } as Doc,
      createdAt: topic.createdAt,
    };
    try {
      await this.meta.transact([
        { type: "put", ...keys.topic(name), data: doc, condition: { version: topic.version } },
      ]);
    } catch (e) {
      if (e instanceof ConditionFailedError) {
        throw new FloeError("CONCURRENT_TRANSACTIONS", `Topic '${name}' was changed concurrently; retry.`, {
          retriable: true,
          cause: e,
        });
      }
      throw e;
    }
    this.cache.delete(name);
    return this.get(name);
  }

  /**
   * Removes the topic from the namespace at once; its partitions' data is keyed by topicId, so a
   * topic re-created under the same name starts empty. Maintenance reclaims the storage later.
   */
  async delete(name: string): Promise<void> {
    const topic = await this.get(name);
    try {
      await this.meta.transact([
        {
          type: "put",
          ...keys.topic(name),
          data: { deleted: true, topicId: topic.topicId, deletedAt: this.options.clock() },
          condition: { version: topic.version },
        },
        { type: "delete", ...keys.topicDirectoryEntry(name) },
        {
          type: "put",
          ...keys.deletedTopicEntry(topic.topicId),
          data: { name, partitions: topic.partitions, deletedAt: this.options.clock() },
        },
      ]);
    } catch (e) {
      if (e instanceof ConditionFailedError) {
        throw new FloeError("CONCURRENT_TRANSACTIONS", `Topic '${name}' was changed concurrently; retry.`, {
          retriable: true,
          cause: e,
        });
      }
      throw e;
    }
    this.cache.delete(name);
  }

  private getItem(k: { pk: string; sk: string }): Promise<Item | undefined> {
    return this.meta.get(k.pk, k.sk);
  }

  private remember(topic: Topic): void {
    this.cache.set(topic.name, { topic, expires: this.options.clock() + this.options.topicCacheTtlMs });
  }
}

function isTombstone(item: Item): boolean {
  return item.data.deleted === true;
}

function alreadyExists(name: string, cause?: unknown): FloeError {
  return new FloeError("TOPIC_ALREADY_EXISTS", `Topic '${name}' already exists.`, { cause });
}

export function unknownTopic(name: string): FloeError {
  return new FloeError("UNKNOWN_TOPIC_OR_PARTITION", `Topic '${name}' does not exist.`);
}

export function unknownPartition(topic: string, partition: number, partitions: number): FloeError {
  return new FloeError(
    "UNKNOWN_TOPIC_OR_PARTITION",
    `Partition ${partition} of topic '${topic}' does not exist (it has ${partitions} partition${partitions === 1 ? "" : "s"}).`,
  );
}
