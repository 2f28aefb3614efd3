import { randomBytes as nodeRandomBytes, randomUUID } from "node:crypto";
import { keys } from "../broker/keys.js";
import { ConditionFailedError, FloeError } from "../errors.js";
import { type Doc, type Item, MAX_TRANSACT_OPS, type MetaStore } from "../storage/ports.js";
import {
  applyChange,
  SECRET_PREFIX,
  settingsFromInput,
  subscriptionGroupId,
  validateSecret,
  validateSubscriptionName,
} from "./subscription-settings.js";
import type {
  PartitionDeliveryStats,
  Subscription,
  SubscriptionChange,
  SubscriptionInput,
  SubscriptionSettings,
  SubscriptionState,
} from "./types.js";

export interface SubscriptionStoreOptions {
  clock?: () => number;
  /** The incarnation of a new subscription. */
  newId?: () => string;
  /** The bytes a generated signing secret encodes. */
  randomBytes?: (n: number) => Uint8Array;
}

/** A generated secret's size: 32 bytes, what the Standard Webhooks libraries generate. */
const SECRET_BYTES = 32;

/** Attempts of an unconditional change before a persistent race is reported (each one re-reads). */
const MAX_ATTEMPTS = 10;

/**
 * Subscriptions in the MetaStore (architecture §14): one item per definition under a single
 * partition key so listing is one query, and one stats item per topic-partition, each written only
 * by the dispatcher that holds the partition in the subscription's group. Every write of a definition
 * is conditional on the version read, so two concurrent changes never lose one.
 */
export class SubscriptionStore {
  private readonly clock: () => number;
  private readonly newId: () => string;
  private readonly randomBytes: (n: number) => Uint8Array;

  constructor(
    private readonly meta: MetaStore,
    options: SubscriptionStoreOptions = {},
  ) {
    this.clock = options.clock ?? Date.now;
    this.newId = options.newId ?? randomUUID;
    this.randomBytes = options.randomBytes ?? ((n) => new Uint8Array(nodeRandomBytes(n)));
  }

  /** Stores a new subscription with its defaults applied; DUPLICATE_RESOURCE if the name is taken. */
  async create(name: string, input: SubscriptionInput): Promise<Subscription> {
    validateSubscriptionName(name);
    const settings = settingsFromInput(input);
    const state = input.state ?? "Enabled";
    if (state !== "Enabled" && state !== "Disabled") {
      throw new FloeError("INVALID_CONFIG", `state must be Enabled or Disabled, got ${String(state)}.`);
    }
    const now = this.clock();
    const subscription: Subscription = {
      name,
      ...settings,
      state,
      groupId: subscriptionGroupId(name),
      secret: this.secretFor(settings, input.secret),
      incarnation: this.newId(),
      createdAt: now,
      updatedAt: now,
      version: 1,
    };
    const k = keys.subscription(name);
    try {
      await this.meta.transact([
        { type: "put", ...k, data: toDoc(subscription), condition: { absent: true } },
      ]);
    } catch (e) {
      if (e instanceof ConditionFailedError) {
        throw new FloeError("DUPLICATE_RESOURCE", `Subscription "${name}" already exists.`);
      }
      throw e;
    }
    return subscription;
  }

  async get(name: string): Promise<Subscription | undefined> {
    const k = keys.subscription(name);
    const item = await this.meta.get(k.pk, k.sk);
    return item ? fromItem(item) : undefined;
  }

  /** Every subscription, by name. */
  async list(): Promise<Subscription[]> {
    const items = await this.meta.query(keys.subscriptionDirectory);
    return items.map(fromItem);
  }

  /**
   * Applies a change (settings, target, secret, state). With `expectedVersion`, only to that version
   * of the definition (INVALID_UPDATE_VERSION otherwise); without, re-read and re-applied on a race.
   */
  update(name: string, change: SubscriptionChange, expectedVersion?: number): Promise<Subscription> {
    return this.change(name, expectedVersion, (current) => {
      if (change === null || typeof change !== "object") {
        throw new FloeError("INVALID_CONFIG", "A change needs a body.");
      }
      refuseWhileDeleting(current);
      const settings = applyChange(settingsOf(current), change);
      let secret = current.secret;
      if (change.secret !== undefined || settings.target.type !== current.target.type) {
        secret = this.secretFor(settings, change.secret ?? undefined);
      }
      const state = change.state ?? current.state;
      if (state !== "Enabled" && state !== "Disabled") {
        throw new FloeError("INVALID_CONFIG", `state must be Enabled or Disabled, got ${String(state)}.`);
      }
      return { ...current, ...settings, secret, state };
    });
  }

  /** Pauses, resumes, or marks for deletion; a subscription being deleted only stays so. */
  setState(name: string, state: SubscriptionState): Promise<Subscription> {
    if (state !== "Enabled" && state !== "Disabled" && state !== "Deleting") {
      throw new FloeError(
        "INVALID_CONFIG",
        `state must be Enabled, Disabled or Deleting, got ${String(state)}.`,
      );
    }
    return this.change(name, undefined, (current) => {
      if (current.state === state) return undefined;
      if (state !== "Deleting") refuseWhileDeleting(current);
      return { ...current, state };
    });
  }

  /** Removes the definition and every stats item; removing what is not there is not an error. */
  async remove(name: string): Promise<void> {
    // Stats first, the definition last: a removal cut short leaves the definition (Deleting), so
    // deleting again finishes the job rather than leaving orphaned stats nobody lists.
    const pk = keys.subscriptionStatsPartition(name);
    for (;;) {
      const stats = await this.meta.query(pk, {
        prefix: keys.subscriptionStatsPrefix,
        limit: MAX_TRANSACT_OPS,
      });
      if (stats.length === 0) break;
      await this.meta.transact(stats.map((s) => ({ type: "delete" as const, pk: s.pk, sk: s.sk })));
    }
    const k = keys.subscription(name);
    await this.meta.transact([{ type: "delete", ...k }]);
  }

  /** Every partition's stats as its dispatcher last wrote them, by topic then partition. */
  async readStats(name: string): Promise<PartitionDeliveryStats[]> {
    const items = await this.meta.query(keys.subscriptionStatsPartition(name), {
      prefix: keys.subscriptionStatsPrefix,
    });
    return items
      .map((i) => i.data as unknown as PartitionDeliveryStats)
      .sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition));
  }

  /** A plain put: only the dispatcher the group assigned the partition to writes its stats. */
  async writeStats(name: string, stats: PartitionDeliveryStats): Promise<void> {
    const k = keys.subscriptionStats(name, stats.topic, stats.partition);
    const data: PartitionDeliveryStats = {
      topic: stats.topic,
      partition: stats.partition,
      delivered: stats.delivered,
      failed: stats.failed,
      retried: stats.retried,
      filtered: stats.filtered,
      oldestUndeliveredTimestamp: stats.oldestUndeliveredTimestamp,
      lastError: stats.lastError,
      updatedAt: stats.updatedAt,
    };
    await this.meta.transact([{ type: "put", ...k, data: data as unknown as Doc }]);
  }

  /** The secret a definition signs with: none for Lambda, the given one, or 32 fresh random bytes. */
  private secretFor(settings: SubscriptionSettings, given: string | undefined): string | null {
    if (settings.target.type !== "http") {
      if (given !== undefined) {
        throw new FloeError(
          "INVALID_CONFIG",
          "secret applies only to http targets; Lambda invocations are not signed.",
        );
      }
      return null;
    }
    if (given !== undefined) {
      validateSecret(given);
      return given;
    }
    return SECRET_PREFIX + Buffer.from(this.randomBytes(SECRET_BYTES)).toString("base64");
  }

  /**
   * Read, change, write conditionally on the version read. `next` returns undefined to write
   * nothing (already so). A lost race is retried unless the caller named the version it changes.
   */
  private async change(
    name: string,
    expectedVersion: number | undefined,
    next: (current: Subscription) => Subscription | undefined,
  ): Promise<Subscription> {
    for (let attempt = 1; ; attempt++) {
      const current = await this.get(name);
      if (!current) throw notFound(name);
      if (expectedVersion !== undefined && current.version !== expectedVersion) {
        throw versionMismatch(name, expectedVersion, current.version);
      }
      const changed = next(current);
      if (changed === undefined) return current;
      const written: Subscription = { ...changed, updatedAt: this.clock(), version: current.version + 1 };
      const k = keys.subscription(name);
      try {
        await this.meta.transact([
          { type: "put", ...k, data: toDoc(written), condition: { version: current.version } },
        ]);
        return written;
      } catch (e) {
        if (!(e instanceof ConditionFailedError)) throw e;
        if (expectedVersion !== undefined) throw versionMismatch(name, expectedVersion, undefined);
        if (attempt >= MAX_ATTEMPTS) throw e;
      }
    }
  }
}

function refuseWhileDeleting(current: Subscription): void {
  if (current.state === "Deleting") {
    throw new FloeError(
      "INVALID_REQUEST",
      `Subscription "${current.name}" is being deleted; it can no longer be changed.`,
    );
  }
}

export function subscriptionNotFound(name: string): FloeError {
  return new FloeError("RESOURCE_NOT_FOUND", `Subscription "${name}" does not exist.`);
}

const notFound = subscriptionNotFound;

function versionMismatch(name: string, expected: number, actual: number | undefined): FloeError {
  const now = actual === undefined ? "it changed meanwhile" : `it is at version ${actual}`;
  return new FloeError(
    "INVALID_UPDATE_VERSION",
    `Subscription "${name}" is not at version ${expected}: ${now}. Read it again and retry.`,
  );
}

function settingsOf(s: Subscription): SubscriptionSettings {
  return {
    topics: s.topics,
    topicRegex: s.topicRegex,
    target: s.target,
    batchSize: s.batchSize,
    maximumBatchingWindowMs: s.maximumBatchingWindowMs,
    startingPosition: s.startingPosition,
    startingPositionTimestamp: s.startingPositionTimestamp,
    maximumRetryAttempts: s.maximumRetryAttempts,
    maximumRecordAgeMs: s.maximumRecordAgeMs,
    bisectBatchOnError: s.bisectBatchOnError,
    reportBatchItemFailures: s.reportBatchItemFailures,
    parallelizationFactor: s.parallelizationFactor,
    onFailureTopic: s.onFailureTopic,
    filters: s.filters,
  };
}

/** The stored document: the subscription without its version, which is the item's own. */
function toDoc(s: Subscription): Doc {
  const { version: _version, ...rest } = s;
  return rest as unknown as Doc;
}

function fromItem(item: Item): Subscription {
  return { ...(item.data as unknown as Omit<Subscription, "version">), version: item.version };
}
