import type { DeliveryCounts, DeliveryMetrics, PartitionDeliveryStats } from "./types.js";

const COUNTERS = ["delivered", "failed", "retried", "filtered"] as const;

/** The metric each counter is published as. */
const METRIC_NAMES = {
  delivered: "RecordsDelivered",
  failed: "RecordsFailed",
  retried: "DeliveryRetries",
  filtered: "RecordsFiltered",
} as const;

export function noCounts(): DeliveryCounts {
  return { delivered: 0, failed: 0, retried: 0, filtered: 0 };
}

/** Adds `more`'s counters into `into` (a status summing partitions, a report summing runs). */
export function addCounts(into: DeliveryCounts, more: Readonly<DeliveryCounts>): void {
  for (const field of COUNTERS) into[field] += more[field];
}

/** Where the stats live: SubscriptionStore's readStats and writeStats. */
export interface StatsStore {
  readStats(name: string): Promise<PartitionDeliveryStats[]>;
  writeStats(name: string, stats: PartitionDeliveryStats): Promise<void>;
}

/** A last error is kept short: a target's error page must not bloat the stats item. */
const MAX_ERROR_LENGTH = 1_000;

/** How often, at most, a partition's counters are written while it delivers (and once when it stops). */
export const STATS_FLUSH_INTERVAL_MS = 1_000;

/**
 * One partition's delivery counters (decision 0013 §1): cumulative across dispatchers, because the
 * partition's next owner starts from what the last one wrote, and written only by the partition's
 * current owner, so a plain put never loses another's update. Metrics get each change as it
 * happens; the store gets the totals at most once a second and when the partition stops.
 */
export class PartitionStats {
  private readonly stats: PartitionDeliveryStats;
  private dirty = false;
  private lastFlush = Number.NEGATIVE_INFINITY;
  private flushing: Promise<void> | undefined;
  /** What this owner counted (the stored totals include earlier owners'): a DispatchReport's share. */
  readonly counted = noCounts();

  constructor(
    private readonly subscription: string,
    topic: string,
    partition: number,
    previous: PartitionDeliveryStats | undefined,
    private readonly writer: StatsStore,
    private readonly clock: () => number,
    private readonly metrics: DeliveryMetrics | undefined,
    private readonly onWriteError: (e: unknown) => void,
  ) {
    this.stats = {
      topic,
      partition,
      ...noCounts(),
      oldestUndeliveredTimestamp: null,
      lastError: previous?.lastError ?? null,
      updatedAt: previous?.updatedAt ?? clock(),
    };
    if (previous) addCounts(this.stats, previous);
  }

  get current(): Readonly<PartitionDeliveryStats> {
    return this.stats;
  }

  count(delta: Partial<DeliveryCounts>): void {
    for (const field of COUNTERS) {
      const n = delta[field] ?? 0;
      if (n === 0) continue;
      this.stats[field] += n;
      this.counted[field] += n;
      this.metrics?.count(this.subscription, METRIC_NAMES[field], n);
      this.dirty = true;
    }
  }

  error(message: string): void {
    this.stats.lastError = {
      message: message.length > MAX_ERROR_LENGTH ? `${message.slice(0, MAX_ERROR_LENGTH)}…` : message,
      at: this.clock(),
      topic: this.stats.topic,
      partition: this.stats.partition,
    };
    this.dirty = true;
  }

  /** The timestamp of the oldest record not yet settled; null once everything fetched is. */
  pending(oldestTimestamp: number | null): void {
    if (this.stats.oldestUndeliveredTimestamp === oldestTimestamp) return;
    this.stats.oldestUndeliveredTimestamp = oldestTimestamp;
    this.dirty = true;
  }

  /** How long until a change may be written (0: now); Infinity when nothing changed. */
  flushDueInMs(): number {
    if (!this.dirty) return Number.POSITIVE_INFINITY;
    return Math.max(0, this.lastFlush + STATS_FLUSH_INTERVAL_MS - this.clock());
  }

  /** Writes if something changed and the last write is a second old; never throws. */
  maybeFlush(): Promise<void> {
    if (!this.dirty || this.clock() - this.lastFlush < STATS_FLUSH_INTERVAL_MS) return Promise.resolve();
    return this.flush();
  }

  /** Writes now if something changed (a stopping partition); never throws. */
  async flush(): Promise<void> {
    // One write at a time: lanes flush concurrently, and an older total must not land last.
    while (this.flushing) await this.flushing;
    if (!this.dirty) return;
    this.dirty = false;
    this.lastFlush = this.clock();
    const now = this.clock();
    this.stats.updatedAt = now;
    const oldest = this.stats.oldestUndeliveredTimestamp;
    if (oldest !== null) this.metrics?.oldestUndeliveredAge(this.subscription, Math.max(0, now - oldest));
    this.flushing = this.writer.writeStats(this.subscription, { ...this.stats }).then(
      () => {},
      (e) => {
        this.dirty = true;
        this.onWriteError(e);
      },
    );
    try {
      await this.flushing;
    } finally {
      this.flushing = undefined;
    }
  }
}
