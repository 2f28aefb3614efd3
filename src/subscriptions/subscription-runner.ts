import type { Broker } from "../broker/broker.js";
import { FloeError } from "../errors.js";
import type { GroupCoordinator } from "../groups/coordinator.js";
import {
  type HeartbeatRequest,
  type HeartbeatResponse,
  JOIN_GROUP_MEMBER_EPOCH,
  LEAVE_GROUP_MEMBER_EPOCH,
  type TopicPartitions,
} from "../groups/types.js";
import { backoffMs } from "./delivery-attempts.js";
import { addCounts, noCounts, type StatsStore } from "./delivery-stats.js";
import {
  LONG_POLL_MS,
  type PartitionContext,
  PartitionDelivery,
  type PartitionEnd,
  type ResumeReads,
} from "./partition-delivery.js";
import type {
  DeliveryCounts,
  DeliveryMetrics,
  DeliveryTarget,
  Subscription,
  TargetFactory,
} from "./types.js";

export interface RunnerContext {
  broker: Broker;
  groups: GroupCoordinator;
  store: StatsStore;
  targets: TargetFactory;
  clock: () => number;
  /** Waits; an aborted signal ends the wait early (Dispatcher's abortableSleep). */
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  random: () => number;
  retryBackoffMs: number;
  retryBackoffMaxMs: number;
  /**
   * Kafka's group.consumer.session.timeout.ms as the coordinator has it: a member that could not
   * heartbeat for half of it gives its partitions up, before the group hands them to another.
   */
  sessionTimeoutMs: number;
  metrics?: DeliveryMetrics;
  warn: (message: string, detail: Record<string, unknown>) => void;
}

/** Kafka's client.id for the dispatcher's members: `floe groups describe` shows who delivers. */
export const DISPATCHER_CLIENT_ID = "floe-dispatcher";

/** What one runner did: a DispatchReport's share. */
export interface RunnerReport extends DeliveryCounts {
  /** Partitions that ended with records still to deliver (once mode). */
  pendingPartitions: number;
}

/**
 * `once` (the Lambda dispatcher): no batch or retry starts after `stopStartingAt`, and a delivery
 * still in flight at `deadline` is aborted (its records stay uncommitted, for the next run).
 */
export type RunnerMode = { kind: "continuous" } | { kind: "once"; stopStartingAt: number; deadline: number };

interface Owned {
  loop: PartitionDelivery;
  /** Set once the loop ended; in once mode the partition stays owned until the group is left. */
  end?: PartitionEnd;
}

/**
 * One subscription's membership of its consumer group (decision 0013 §2), speaking KIP-848 to the
 * coordinator directly: it joins with the subscription's topics (or regex), heartbeats at the
 * interval the coordinator answers, runs a PartitionDelivery per assigned partition, and on a
 * revocation stops the partition's loop (its attempt in flight finished and its progress committed)
 * *before* a heartbeat reports the partition no longer owned: that is what keeps two dispatchers
 * from ever delivering the same partition at once. Fenced or forgotten (UNKNOWN_MEMBER_ID,
 * FENCED_MEMBER_EPOCH), it gives up every partition and joins again. Heartbeats and commits go one at
 * a time, so a commit always carries the epoch of the last answer.
 */
export class SubscriptionRunner {
  private subscriptionValue: Subscription;
  private targetValue: DeliveryTarget;
  private memberId: string | undefined;
  private memberEpoch = JOIN_GROUP_MEMBER_EPOCH;
  private readonly owned = new Map<string, Owned>();
  private stopRequested = false;
  private woken = false;
  private wakeNap: (() => void) | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private lastHeartbeatOk: number;
  private readonly report: RunnerReport = { ...noCounts(), pendingPartitions: 0 };
  /** Settles with the report once the group has been left. */
  readonly done: Promise<RunnerReport>;
  private startRun: () => void = () => {};

  constructor(
    private readonly ctx: RunnerContext,
    subscription: Subscription,
    private readonly mode: RunnerMode,
  ) {
    this.subscriptionValue = subscription;
    this.targetValue = ctx.targets(subscription);
    this.lastHeartbeatOk = ctx.clock();
    this.done = new Promise<void>((resolve) => (this.startRun = resolve)).then(() => this.run());
  }

  get subscription(): Subscription {
    return this.subscriptionValue;
  }

  start(): this {
    this.startRun();
    return this;
  }

  /** A changed definition: new settings apply from each partition's next run, new topics at the next heartbeat. */
  update(subscription: Subscription): void {
    if (subscription.version === this.subscriptionValue.version) return;
    try {
      this.targetValue = this.ctx.targets(subscription);
    } catch (e) {
      // The target as last built goes on delivering; the next change may build again.
      this.ctx.warn("cannot build a subscription's changed target", {
        subscription: subscription.name,
        error: e instanceof Error ? e.message : String(e),
      });
    }
    this.subscriptionValue = subscription;
    this.wake();
  }

  /**
   * Stops every partition (each finishes its attempt in flight and commits; one still waiting once
   * `graceMs` passed is aborted), leaves the group, and settles `done`.
   */
  stop(graceMs = this.subscriptionValue.target.timeoutMs): Promise<RunnerReport> {
    this.stopRequested = true;
    this.graceMs = graceMs;
    // No partition starts another batch from now on, even while a heartbeat is in flight.
    for (const owned of this.owned.values()) void owned.loop.stop();
    this.wake();
    return this.done;
  }

  private graceMs = Number.POSITIVE_INFINITY;

  private async run(): Promise<RunnerReport> {
    let finished = false;
    const deadlineTimer = new AbortController();
    if (this.mode.kind === "once") {
      void this.ctx
        .sleep(Math.max(0, this.mode.deadline - this.ctx.clock()), deadlineTimer.signal)
        .then(() => {
          if (!finished) for (const owned of this.owned.values()) owned.loop.abort();
        });
    }
    try {
      for (let failures = 0; !this.stopRequested; ) {
        let answer: HeartbeatResponse;
        try {
          answer = await this.heartbeat();
          failures = 0;
          this.lastHeartbeatOk = this.ctx.clock();
        } catch (e) {
          failures++;
          if (
            e instanceof FloeError &&
            (e.code === "UNKNOWN_MEMBER_ID" || e.code === "FENCED_MEMBER_EPOCH")
          ) {
            await this.loseEverything(`the group fenced this member: ${e.message}`);
            // Joins again at once the first time; a group that keeps refusing is not asked in a hot loop.
            if (failures > 1) await this.ctx.sleep(backoffMs(failures - 1, this.ctx));
            continue;
          }
          this.ctx.warn("subscription heartbeat failed", {
            subscription: this.subscriptionValue.name,
            error: e instanceof Error ? e.message : String(e),
          });
          if (this.ctx.clock() - this.lastHeartbeatOk > this.ctx.sessionTimeoutMs / 2) {
            await this.loseEverything("no heartbeat succeeded for half a session timeout");
          }
          await this.ctx.sleep(backoffMs(failures, this.ctx));
          continue;
        }
        const startedAny = this.reconcile(answer.assignment);
        if (this.mode.kind === "once" && !startedAny && this.everyLoopEnded()) break;
        await this.nap(answer.heartbeatIntervalMs);
      }
    } finally {
      await this.stopLoops([...this.owned.keys()], this.graceMs);
      finished = true;
      deadlineTimer.abort();
      await this.leave();
    }
    return this.report;
  }

  /** Starts loops for new partitions and stops revoked ones; true when it started any. */
  private reconcile(assignment: TopicPartitions[]): boolean {
    const assigned = new Set<string>();
    for (const tp of assignment) for (const p of tp.partitions) assigned.add(key(tp.topic, p));
    const revoked = [...this.owned.keys()].filter((k) => !assigned.has(k));
    if (revoked.length > 0) {
      // Reported released only once stopped: the heartbeat after that lets the group move them.
      void this.stopLoops(revoked, Number.POSITIVE_INFINITY).then(() => this.wake());
    }
    const added = assignment
      .map((tp) => ({
        topic: tp.topic,
        partitions: tp.partitions.filter((p) => !this.owned.has(key(tp.topic, p))),
      }))
      .filter((tp) => tp.partitions.length > 0);
    // A runner being stopped takes on nothing new: what it was given goes to the next member.
    if (added.length === 0 || this.stopRequested) return false;
    const sub = this.subscriptionValue;
    const topics = added.map((tp) => tp.topic);
    const resume: ResumeReads = {
      committedOffsets: readOnce(() => this.ctx.groups.fetchOffsets(sub.groupId, topics)),
      storedStats: readOnce(() => this.ctx.store.readStats(sub.name)),
    };
    for (const tp of added)
      for (const partition of tp.partitions) this.startLoop(tp.topic, partition, resume);
    return true;
  }

  private startLoop(topic: string, partition: number, resume: ResumeReads): void {
    const k = key(topic, partition);
    const owned: Owned = {
      loop: new PartitionDelivery(this.partitionContext(), topic, partition, resume).start(),
    };
    this.owned.set(k, owned);
    void owned.loop.ended.then((end) => this.loopEnded(k, owned, end));
  }

  private loopEnded(k: string, owned: Owned, end: PartitionEnd): void {
    owned.end = end;
    addCounts(this.report, owned.loop.counted);
    if (end === "deadline" || (this.mode.kind === "once" && end !== "caughtUp"))
      this.report.pendingPartitions++;
    // In continuous mode a loop that ended on its own is released (and restarted while assigned);
    // in once mode the partition stays owned, delivered as far as this run goes, until the group is left.
    if (this.mode.kind === "continuous" && this.owned.get(k) === owned && !owned.loop.stopping)
      this.owned.delete(k);
    this.wake();
  }

  private everyLoopEnded(): boolean {
    return [...this.owned.values()].every((o) => o.end !== undefined);
  }

  /**
   * Stops the loops (each commits what it settled) and forgets them; those still running after
   * `graceMs` have their attempt in flight aborted.
   */
  private async stopLoops(keys: string[], graceMs: number): Promise<void> {
    const stopping = keys
      .map((k) => [k, this.owned.get(k)] as const)
      .filter((e): e is readonly [string, Owned] => e[1] !== undefined);
    const all = Promise.all(
      stopping.map(async ([k, owned]) => {
        await owned.loop.stop();
        await owned.loop.ended;
        if (this.owned.get(k) === owned) this.owned.delete(k);
      }),
    );
    if (Number.isFinite(graceMs)) {
      let timedOut = false;
      const grace = new AbortController();
      await Promise.race([
        all,
        this.ctx.sleep(graceMs, grace.signal).then(() => (timedOut = !grace.signal.aborted)),
      ]);
      grace.abort();
      if (timedOut) for (const [, owned] of stopping) owned.loop.abort();
    }
    await all;
  }

  /** The partitions are someone else's now: abort at once, then join again as a new member. */
  private async loseEverything(why: string): Promise<void> {
    this.ctx.warn("subscription member lost its partitions", {
      subscription: this.subscriptionValue.name,
      why,
    });
    for (const owned of this.owned.values()) owned.loop.abort();
    await this.stopLoops([...this.owned.keys()], 0);
    this.memberId = undefined;
    this.memberEpoch = JOIN_GROUP_MEMBER_EPOCH;
  }

  private heartbeat(): Promise<HeartbeatResponse> {
    const sub = this.subscriptionValue;
    const request: HeartbeatRequest = {
      ...(this.memberId === undefined ? {} : { memberId: this.memberId }),
      memberEpoch: this.memberEpoch,
      clientId: DISPATCHER_CLIENT_ID,
      subscribedTopics: sub.topics ?? [],
      subscribedTopicRegex: sub.topicRegex ?? "",
      ownedPartitions: this.ownedPartitions(),
      // A revocation waits for the attempt in flight: give it the target's timeout and then some.
      rebalanceTimeoutMs: Math.max(300_000, sub.target.timeoutMs + 60_000),
    };
    return this.serially(async () => {
      const answer = await this.ctx.groups.heartbeat(sub.groupId, request);
      this.memberId = answer.memberId;
      this.memberEpoch = answer.memberEpoch;
      return answer;
    });
  }

  /** A partition loop's commit, with the member's id and epoch as of the last heartbeat answer. */
  private commit(topic: string, partition: number, offset: number): Promise<void> {
    return this.serially(async () => {
      if (this.memberId === undefined || this.memberEpoch <= JOIN_GROUP_MEMBER_EPOCH) {
        throw new FloeError("UNKNOWN_MEMBER_ID", "The dispatcher is not a member of the group any more.");
      }
      await this.ctx.groups.commitOffsets(this.subscriptionValue.groupId, {
        memberId: this.memberId,
        memberEpoch: this.memberEpoch,
        offsets: [{ topic, partition, offset }],
      });
    });
  }

  private async leave(): Promise<void> {
    if (this.memberId === undefined || this.memberEpoch === JOIN_GROUP_MEMBER_EPOCH) return;
    const memberId = this.memberId;
    this.memberId = undefined;
    this.memberEpoch = JOIN_GROUP_MEMBER_EPOCH;
    try {
      await this.serially(() =>
        this.ctx.groups.heartbeat(this.subscriptionValue.groupId, {
          memberId,
          memberEpoch: LEAVE_GROUP_MEMBER_EPOCH,
        }),
      );
    } catch (e) {
      // Gone already (expired or fenced); otherwise its session expires and the group moves on.
      if (!(e instanceof FloeError && e.code === "UNKNOWN_MEMBER_ID")) {
        this.ctx.warn("leaving a subscription's group failed", {
          subscription: this.subscriptionValue.name,
          error: e instanceof Error ? e.message : String(e),
        });
      }
    }
  }

  private ownedPartitions(): TopicPartitions[] {
    const byTopic = new Map<string, number[]>();
    for (const owned of this.owned.values()) {
      const { topic, partition } = owned.loop;
      const list = byTopic.get(topic) ?? [];
      list.push(partition);
      byTopic.set(topic, list);
    }
    return [...byTopic].map(([topic, partitions]) => ({
      topic,
      partitions: partitions.sort((a, b) => a - b),
    }));
  }

  private partitionContext(): PartitionContext {
    return {
      broker: this.ctx.broker,
      groups: this.ctx.groups,
      stats: this.ctx.store,
      member: { commit: (topic, partition, offset) => this.commit(topic, partition, offset) },
      subscription: () => this.subscriptionValue,
      target: () => this.targetValue,
      clock: this.ctx.clock,
      sleep: this.ctx.sleep,
      random: this.ctx.random,
      retryBackoffMs: this.ctx.retryBackoffMs,
      retryBackoffMaxMs: this.ctx.retryBackoffMaxMs,
      metrics: this.ctx.metrics,
      warn: this.ctx.warn,
      mode:
        this.mode.kind === "once"
          ? { kind: "once", stopStartingAt: this.mode.stopStartingAt }
          : { kind: "continuous", longPollMs: Math.min(LONG_POLL_MS, this.ctx.sessionTimeoutMs / 4) },
    };
  }

  /** Waits for the heartbeat interval, or less when something the group should hear of happened. */
  private async nap(ms: number): Promise<void> {
    if (!this.stopRequested && !this.woken) {
      const nap = new AbortController();
      await Promise.race([
        this.ctx.sleep(ms, nap.signal),
        new Promise<void>((resolve) => (this.wakeNap = resolve)),
      ]);
      nap.abort();
    }
    this.wakeNap = undefined;
    this.woken = false;
  }

  private wake(): void {
    this.woken = true;
    this.wakeNap?.();
  }

  private serially<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => {});
    return next;
  }
}

function key(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

/** One read shared by its callers; a failed one is made again by the next call. */
function readOnce<T>(read: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () =>
    (pending ??= read().catch((e) => {
      pending = undefined;
      throw e;
    }));
}
