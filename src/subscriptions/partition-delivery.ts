import type { Broker } from "../broker/broker.js";
import type { FetchedRecord } from "../broker/types.js";
import { FloeError } from "../errors.js";
import type { GroupCoordinator } from "../groups/coordinator.js";
import type { GroupOffset } from "../groups/types.js";
import { backoffMs, deliverChunk, type FailedRecord } from "./delivery-attempts.js";
import { chunks, splitIntoLanes } from "./delivery-lanes.js";
import { noCounts, PartitionStats, type StatsStore } from "./delivery-stats.js";
import { writeFailures } from "./failure-destination.js";
import { compileFilters } from "./record-filter.js";
import type {
  DeliveryMetrics,
  DeliveryRecord,
  DeliveryResult,
  DeliveryTarget,
  PartitionDeliveryStats,
  Subscription,
} from "./types.js";

/** What a partition's loop needs of its subscription's group membership (SubscriptionRunner). */
export interface PartitionMember {
  /** Commits as the member, with its current id and epoch; a fenced member's commit throws. */
  commit(topic: string, partition: number, offset: number): Promise<void>;
}

/**
 * Where partitions started together resume from: one read of the group's committed offsets and one
 * of the stored stats for all of them, not one each (a Lambda run starts every partition at once).
 * A failed read is read again by the next call.
 */
export interface ResumeReads {
  committedOffsets: () => Promise<GroupOffset[]>;
  storedStats: () => Promise<PartitionDeliveryStats[]>;
}

/** Everything a partition loop shares with its runner and dispatcher. */
export interface PartitionContext {
  broker: Broker;
  groups: GroupCoordinator;
  stats: StatsStore;
  member: PartitionMember;
  /** The subscription as last read: settings changed by PATCH apply from the next run on. */
  subscription: () => Subscription;
  target: () => DeliveryTarget;
  clock: () => number;
  sleep: (ms: number) => Promise<void>;
  random: () => number;
  retryBackoffMs: number;
  retryBackoffMaxMs: number;
  metrics?: DeliveryMetrics;
  warn: (message: string, detail: Record<string, unknown>) => void;
  /**
   * `continuous`: long-polls for new records until stopped (floe dev, floe agent). `once`: ends at
   * the first fetch that finds nothing new, or once `stopStartingAt` passed (the Lambda dispatcher).
   */
  mode: { kind: "continuous"; longPollMs: number } | { kind: "once"; stopStartingAt: number };
}

/**
 * How a partition's loop ended: `stopped` on request, `fenced` when a commit was refused (the group
 * moved the partition on), `caughtUp`, `deadline` or `blocked` (its deliveries kept failing for
 * ONCE_BLOCKED_GIVE_UP_MS) in once mode. After `deadline` and `blocked` a later run delivers the rest.
 */
export type PartitionEnd = "stopped" | "fenced" | "caughtUp" | "deadline" | "blocked";

/** A run of records fetched together: delivered as one, committed as one (decision 0013 §3). */
interface Run {
  records: FetchedRecord[];
  /** Where the next run starts: past every record fetched, those filtered out included. */
  nextOffset: number;
}

/**
 * How long an idle partition's fetch waits for new records. A stop aborts the wait (the broker
 * notices at its next wake-up), so this only bounds how long an idle loop goes unchecked.
 */
export const LONG_POLL_MS = 5_000;

/**
 * How long a once-run (the Lambda dispatcher) goes on retrying a partition whose deliveries keep
 * failing before it leaves the partition to the next once-run. The one-minute schedule starts one
 * within ~30 s of that, which retries it; a once-run that retried for its whole ~4m50s instead
 * would overlap with up to four later ones, all paying for the same failing retries. Continuous
 * mode (floe dev, floe agent) retries without end, as Lambda's event source mapping does.
 */
export const ONCE_BLOCKED_GIVE_UP_MS = 30_000;

/**
 * One assigned partition's delivery loop (architecture §14): from the committed offset (the log
 * start when none), gather a run of up to batchSize × parallelizationFactor records within the
 * batching window, pass over what the filters refuse, deliver the rest in lanes by key (each lane
 * in chunks of batchSize, one after another), send what is given up on to the on-failure topic,
 * and only then commit past the run. The commit goes on in the background while the next runs are
 * gathered and delivered: one commit in flight at most, and the next, once it landed, is of the
 * latest settled offset, covering every run settled meanwhile (so commits land in offset order).
 * Otherwise every run, one record at batchSize 1, would wait out a commit (a DynamoDB write, or an
 * fsync where the embedded store syncs each commit) before the next began.
 * Stopping lets the attempt in flight finish, commits past whatever is settled and ends only once
 * that commit landed, so the next owner resumes exactly there.
 */
export class PartitionDelivery {
  private stopRequested = false;
  private readonly fetchAbort = new AbortController();
  private readonly deliveryAbort = new AbortController();
  private stats: PartitionStats | undefined;
  private filterOf: { subscription: Subscription; filter: (r: DeliveryRecord) => boolean } | undefined;
  private committed: number | undefined;
  /** The settled offset the background commits are to reach: only ever the latest run's end. */
  private toCommit: number | undefined;
  /** Whether the background commits are running (commitsUntilCurrent). */
  private committing = false;
  /** The background commits: true once toCommit landed, false if the member was fenced. */
  private commitInFlight: Promise<boolean> = Promise.resolve(true);
  /** A commit was refused (or failed unexpectedly): no delivery starts, the loop ends "fenced". */
  private commitRefused = false;
  /** When the deliveries began failing: the first failed attempt since the last accepted record. */
  private failingSince: number | undefined;
  /** Settles when the loop has ended and committed; set by start(). */
  ended: Promise<PartitionEnd> = Promise.resolve("stopped");

  constructor(
    private readonly ctx: PartitionContext,
    readonly topic: string,
    readonly partition: number,
    private readonly resume: ResumeReads,
  ) {}

  start(): this {
    this.ended = this.run().catch((e) => {
      // Nothing in the loop is meant to throw; if it does, the partition is released and delivered again.
      this.ctx.warn("partition delivery failed", {
        topic: this.topic,
        partition: this.partition,
        error: String(e),
      });
      return "stopped" as const;
    });
    return this;
  }

  /** Finish the attempt in flight, commit what is settled, end. */
  stop(): Promise<PartitionEnd> {
    this.stopRequested = true;
    this.fetchAbort.abort();
    return this.ended;
  }

  /** Give up on the attempt in flight too (a stop that cannot wait for the target any longer). */
  abort(): void {
    this.stopRequested = true;
    this.fetchAbort.abort();
    this.deliveryAbort.abort();
  }

  /** What this loop counted so far (delivered, failed, retried, filtered). */
  get counted(): Readonly<PartitionStats["counted"]> {
    return this.stats?.counted ?? noCounts();
  }

  get stopping(): boolean {
    return this.stopRequested;
  }

  /**
   * No new delivery attempt starts: the loop is stopping, or a once-run's time for new batches is
   * up (a target failing without end must not hold a Lambda run past its deadline), or the run has
   * retried a failing target long enough (blocked).
   */
  private get winding(): boolean {
    const mode = this.ctx.mode;
    return (
      this.stopRequested ||
      this.commitRefused ||
      (mode.kind === "once" && this.ctx.clock() >= mode.stopStartingAt) ||
      this.blocked
    );
  }

  /** A once-run's deliveries have kept failing for ONCE_BLOCKED_GIVE_UP_MS: the next once-run retries. */
  private get blocked(): boolean {
    return (
      this.ctx.mode.kind === "once" &&
      this.failingSince !== undefined &&
      this.ctx.clock() - this.failingSince >= ONCE_BLOCKED_GIVE_UP_MS
    );
  }

  private async run(): Promise<PartitionEnd> {
    const sub = this.ctx.subscription();
    this.stats = new PartitionStats(
      sub.name,
      this.topic,
      this.partition,
      await this.previousStats(sub.name),
      this.ctx.stats,
      this.ctx.clock,
      this.ctx.metrics,
      (e) => this.ctx.warn("could not write delivery stats", { subscription: sub.name, error: String(e) }),
    );
    try {
      return await this.loop();
    } finally {
      await this.stats.flush();
    }
  }

  /** The counters resume from what the partition's last owner wrote (none if that cannot be read). */
  private async previousStats(name: string): Promise<PartitionDeliveryStats | undefined> {
    try {
      const all = await this.resume.storedStats();
      return all.find((s) => s.topic === this.topic && s.partition === this.partition);
    } catch (e) {
      this.ctx.warn("could not read delivery stats", { subscription: name, error: message(e) });
      return undefined;
    }
  }

  /**
   * Delivers until the loop ends, then waits for the commit still in flight: a stopped partition
   * is released (`ended`) only once its progress is committed, and the stats are written after it.
   */
  private async loop(): Promise<PartitionEnd> {
    let end: PartitionEnd;
    try {
      end = await this.deliverUntilEnd();
    } finally {
      await this.commitInFlight.catch(() => false);
    }
    return (await this.commitInFlight) ? end : "fenced";
  }

  private async deliverUntilEnd(): Promise<PartitionEnd> {
    let position = await this.startingPosition();
    if (position === undefined) return "stopped";
    for (let failures = 0; ; ) {
      if (this.commitRefused) return "fenced";
      if (this.stopRequested) return "stopped";
      const mode = this.ctx.mode;
      if (mode.kind === "once" && this.ctx.clock() >= mode.stopStartingAt) return "deadline";
      let run: Run;
      try {
        run = await this.gather(position);
        failures = 0;
      } catch (e) {
        if (this.stopRequested) return "stopped";
        if (e instanceof FloeError && e.code === "OFFSET_OUT_OF_RANGE") {
          const moved = await this.skipToLogStart(position);
          if (moved === undefined) return "fenced";
          position = moved;
          continue;
        }
        this.stats!.error(
          `Fetching ${this.topic}-${this.partition} at offset ${position} failed: ${message(e)}`,
        );
        await this.stats!.maybeFlush();
        await this.ctx.sleep(backoffMs(++failures, this.ctx));
        continue;
      }
      if (run.records.length === 0) {
        // Idle: what the last runs counted is written now (gather waited until it was due).
        await this.stats!.maybeFlush();
        if (this.stopRequested) return "stopped";
        if (mode.kind === "once") return "caughtUp";
        continue;
      }
      // Gathered but not begun: the next owner delivers it.
      if (this.commitRefused) return "fenced";
      if (this.stopRequested) return "stopped";
      const settledUntil = await this.deliverRun(run);
      if (this.commitRefused) return "fenced"; // learned during the run: nothing more is committed
      if (settledUntil > position) {
        this.commitInBackground(settledUntil);
        position = settledUntil;
      }
      if (settledUntil < run.nextOffset) {
        if (this.stopRequested) return "stopped";
        return this.blocked ? "blocked" : "deadline";
      }
    }
  }

  /** The committed offset, or the log start when the group has none for this partition. */
  private async startingPosition(): Promise<number | undefined> {
    for (let failures = 0; !this.stopRequested; ) {
      try {
        const offsets = await this.resume.committedOffsets();
        const mine = offsets.find((o) => o.topic === this.topic && o.partition === this.partition);
        if (mine) {
          this.committed = mine.offset;
          return mine.offset;
        }
        return (await this.ctx.broker.listOffsets(this.topic, this.partition, "earliest")).offset;
      } catch (e) {
        this.stats!.error(
          `Reading the committed offset of ${this.topic}-${this.partition} failed: ${message(e)}`,
        );
        await this.ctx.sleep(backoffMs(++failures, this.ctx));
      }
    }
    return undefined;
  }

  /**
   * Records below the log start were removed by retention before they were delivered: the loop
   * moves on (nothing else could deliver them) but says how many went, as the partition's last error.
   */
  private async skipToLogStart(position: number): Promise<number | undefined> {
    const earliest = (await this.ctx.broker.listOffsets(this.topic, this.partition, "earliest")).offset;
    const latest = (await this.ctx.broker.listOffsets(this.topic, this.partition, "latest")).offset;
    const to = position < earliest ? earliest : Math.min(position, latest);
    if (position < earliest) {
      this.stats!.error(
        `${earliest - position} record(s) of ${this.topic}-${this.partition} (offsets ${position} to ${earliest - 1}) were deleted by retention before they were delivered; delivery resumes at ${earliest}.`,
      );
    } else if (position > latest) {
      this.stats!.error(
        `Offset ${position} of ${this.topic}-${this.partition} is past its high-water mark ${latest}; delivery resumes at ${latest}.`,
      );
    }
    await this.stats!.flush();
    // After the commit in flight, never beside it: commits must land in the order they were made.
    if (!(await this.commitInFlight)) return undefined;
    this.commitInBackground(to);
    if (!(await this.commitInFlight)) return undefined;
    return to;
  }

  /**
   * Fetches until the run holds batchSize × parallelizationFactor records or the batching window,
   * counted from the run's first record, has passed (a window of 0 takes what one fetch finds).
   */
  private async gather(position: number): Promise<Run> {
    const sub = this.ctx.subscription();
    const max = sub.batchSize * sub.parallelizationFactor;
    const records: FetchedRecord[] = [];
    let next = position;
    let firstAt = 0;
    while (records.length < max && !this.stopRequested) {
      let maxWaitMs: number;
      if (records.length === 0) {
        // An idle partition still writes its last counts within a second: the long-poll ends by then.
        maxWaitMs =
          this.ctx.mode.kind === "continuous"
            ? Math.min(this.ctx.mode.longPollMs, this.stats!.flushDueInMs())
            : 0;
      } else {
        maxWaitMs = sub.maximumBatchingWindowMs - (this.ctx.clock() - firstAt);
        if (sub.maximumBatchingWindowMs === 0 || maxWaitMs <= 0) break;
      }
      const fetched = await this.ctx.broker.fetch({
        topic: this.topic,
        partition: this.partition,
        offset: next,
        maxRecords: max - records.length,
        maxWaitMs,
        signal: this.fetchAbort.signal,
      });
      if (fetched.records.length === 0) {
        if (records.length === 0) break;
        continue;
      }
      if (records.length === 0) firstAt = this.ctx.clock();
      records.push(...fetched.records);
      next = fetched.nextOffset;
    }
    return { records, nextOffset: next };
  }

  /** Delivers a run; returns the offset below which every record of it is settled. */
  private async deliverRun(run: Run): Promise<number> {
    const sub = this.ctx.subscription();
    const all = run.records.map((r) => toDeliveryRecord(this.topic, this.partition, r));
    const filter = this.filterFor(sub);
    const passed = all.filter(filter);
    this.stats!.count({ filtered: all.length - passed.length });
    this.stats!.pending(oldestTimestamp(passed));
    const laneEnds = await Promise.all(
      splitIntoLanes(passed, sub.parallelizationFactor).map((lane) => this.deliverLane(sub, lane)),
    );
    const unsettled = laneEnds.filter((end): end is number => end !== undefined);
    if (unsettled.length === 0) {
      this.stats!.pending(null);
      return run.nextOffset;
    }
    // Each lane settles in offset order, so below every lane's first unsettled record all is settled.
    return Math.min(...unsettled);
  }

  /** A lane's records in chunks of batchSize, one after another; the first unsettled offset if it stopped. */
  private async deliverLane(sub: Subscription, lane: DeliveryRecord[]): Promise<number | undefined> {
    const target = this.watchingForAcceptance(this.ctx.target(), sub);
    for (const chunk of chunks(lane, sub.batchSize)) {
      if (this.winding) return chunk[0].offset;
      const out = await deliverChunk(chunk, {
        subscription: sub,
        target,
        clock: this.ctx.clock,
        sleep: this.ctx.sleep,
        random: this.ctx.random,
        retryBackoffMs: this.ctx.retryBackoffMs,
        retryBackoffMaxMs: this.ctx.retryBackoffMaxMs,
        stopping: () => this.winding,
        signal: this.deliveryAbort.signal,
        onRetry: () => this.stats!.count({ retried: 1 }),
        onFailedAttempt: (reason, records, attempt) => {
          this.failingSince ??= this.ctx.clock();
          this.stats!.error(
            `Delivering offsets ${records[0].offset}..${records[records.length - 1].offset} of ${this.topic}-${this.partition} failed (attempt ${attempt}): ${reason}`,
          );
          void this.stats!.maybeFlush();
        },
      });
      this.stats!.count({ delivered: out.delivered });
      if (out.failed.length > 0) {
        if (!(await this.sendFailures(sub, out.failed))) return out.failed[0].record.offset;
        this.stats!.count({ failed: out.failed.length });
      }
      await this.stats!.maybeFlush();
      if (out.pending.length > 0) return out.pending[0].offset;
    }
    return undefined;
  }

  /**
   * The target, telling the loop when an answer accepted any record: that ends a failing spell
   * (even part-way through a chunk's retries, which deliverChunk reports only once it is done).
   */
  private watchingForAcceptance(target: DeliveryTarget, sub: Subscription): DeliveryTarget {
    return {
      deliver: async (batch, signal) => {
        const result = await target.deliver(batch, signal);
        if (acceptsAny(result, batch.records, sub.reportBatchItemFailures)) this.failingSince = undefined;
        return result;
      },
    };
  }

  /** Appends to the on-failure topic, retrying until it succeeds or the partition stops (false). */
  private async sendFailures(sub: Subscription, failed: FailedRecord[]): Promise<boolean> {
    for (let attempt = 1; ; attempt++) {
      try {
        await writeFailures(this.ctx.broker, sub, failed);
        return true;
      } catch (e) {
        this.stats!.error(
          `Writing ${failed.length} failed record(s) of ${this.topic}-${this.partition} to '${sub.onFailureTopic}' failed: ${message(e)}`,
        );
        await this.stats!.maybeFlush();
        if (this.winding) return false;
        await this.ctx.sleep(backoffMs(attempt, this.ctx));
      }
    }
  }

  /**
   * Has `offset` committed in the background: at once if no commit is in flight, else once it
   * landed (the loop goes on delivering meanwhile). Offsets asked for while one is in flight are
   * not committed one by one: the next commit is of the latest, which covers them.
   */
  private commitInBackground(offset: number): void {
    this.toCommit = offset;
    if (this.committing || this.commitRefused) return;
    this.committing = true;
    const landing = this.commitsUntilCurrent();
    // Awaited by skipToLogStart or the loop's end; an early failure must not count as unhandled.
    landing.catch(() => {});
    this.commitInFlight = landing;
  }

  /** Commits until the latest offset asked for has landed; false once one was refused. */
  private async commitsUntilCurrent(): Promise<boolean> {
    try {
      while (this.toCommit !== undefined && this.toCommit !== this.committed) {
        if (!(await this.commit(this.toCommit))) {
          this.commitRefused = true;
          return false;
        }
      }
      return true;
    } catch (e) {
      this.commitRefused = true;
      throw e;
    } finally {
      // In the same step as the last check above: an offset asked for after it starts new commits.
      this.committing = false;
    }
  }

  /** Commits as the member; false once the member was fenced (the partition is someone else's now). */
  private async commit(offset: number): Promise<boolean> {
    if (offset === this.committed) return true;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.ctx.member.commit(this.topic, this.partition, offset);
        this.committed = offset;
        return true;
      } catch (e) {
        if (isFenced(e)) {
          this.stats!.error(
            `Committing offset ${offset} of ${this.topic}-${this.partition} was refused (${message(e)}); the partition's next owner delivers from the last committed offset.`,
          );
          return false;
        }
        this.stats!.error(
          `Committing offset ${offset} of ${this.topic}-${this.partition} failed: ${message(e)}`,
        );
        await this.stats!.maybeFlush();
        if (this.deliveryAbort.signal.aborted) return false;
        await this.ctx.sleep(backoffMs(attempt, this.ctx));
      }
    }
  }

  private filterFor(sub: Subscription): (r: DeliveryRecord) => boolean {
    if (this.filterOf?.subscription !== sub)
      this.filterOf = { subscription: sub, filter: compileFilters(sub.filters) };
    return this.filterOf.filter;
  }
}

/** The member lost the partition: the group moved on (a rebalance, an expired session, a rejoin). */
export function isFenced(e: unknown): boolean {
  return (
    e instanceof FloeError &&
    (e.code === "STALE_MEMBER_EPOCH" ||
      e.code === "FENCED_MEMBER_EPOCH" ||
      e.code === "UNKNOWN_MEMBER_ID" ||
      e.code === "GROUP_ID_NOT_FOUND")
  );
}

/**
 * Whether an answer accepted at least one record, as deliverChunk reads it: a success, a partial
 * answer ignored (reportBatchItemFailures off), or one naming a record after the batch's first.
 */
function acceptsAny(
  result: DeliveryResult,
  records: DeliveryRecord[],
  reportBatchItemFailures: boolean,
): boolean {
  if (result.outcome === "success") return true;
  if (result.outcome === "error") return false;
  if (!reportBatchItemFailures) return true;
  return records.findIndex((r) => r.offset === result.firstFailedOffset) > 0;
}

function toDeliveryRecord(topic: string, partition: number, r: FetchedRecord): DeliveryRecord {
  return {
    topic,
    partition,
    offset: r.offset,
    timestamp: r.timestamp,
    key: r.key,
    value: r.value,
    headers: r.headers,
  };
}

/** A loop, not Math.min(...): a run may hold 100,000 records, more arguments than a call takes. */
function oldestTimestamp(records: DeliveryRecord[]): number | null {
  let oldest: number | null = null;
  for (const r of records) if (oldest === null || r.timestamp < oldest) oldest = r.timestamp;
  return oldest;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
