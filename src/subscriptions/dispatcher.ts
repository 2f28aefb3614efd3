import type { Logger } from "@aws-lambda-powertools/logger";
import type { Broker } from "../broker/broker.js";
import type { GroupCoordinator } from "../groups/coordinator.js";
import { type RunnerContext, type RunnerReport, SubscriptionRunner } from "./subscription-runner.js";
import { deleteLeftoverGroup, deleteSubscription } from "./subscription-deletion.js";
import type { SubscriptionStore } from "./subscription-store.js";
import { addCounts, noCounts } from "./delivery-stats.js";
import type { DeliveryMetrics, DispatchReport, Subscription, TargetFactory } from "./types.js";

export interface DispatcherOptions {
  broker: Broker;
  groups: GroupCoordinator;
  store: SubscriptionStore;
  targets: TargetFactory;
  clock?: () => number;
  random?: () => number;
  /**
   * Waits; a wait whose signal aborts ends at once (its timer cleared), so a stopped dispatcher
   * leaves no timer behind to keep a process that embeds it alive.
   */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  logger?: Pick<Logger, "warn">;
  metrics?: DeliveryMetrics;
  /** How often start() re-reads the subscriptions (new, changed, paused, deleted); default 1000. */
  pollIntervalMs?: number;
  /** Kafka's retry.backoff.ms: the first retry's backoff ceiling (default 100). */
  retryBackoffMs?: number;
  /** Kafka's retry.backoff.max.ms: where the doubling stops (default 1000). */
  retryBackoffMaxMs?: number;
  /**
   * The coordinator's group.consumer.session.timeout.ms (default 45000, Kafka's): a member whose
   * heartbeats fail for half of it gives its partitions up before the group can move them.
   */
  sessionTimeoutMs?: number;
}

/** Leave this much of a once-run for the last batch in flight, at most: the target's own timeout or less. */
const ONCE_MARGIN_MS = 10_000;

/**
 * Delivers push subscriptions (architecture §14, decision 0013): one SubscriptionRunner, a member of
 * the subscription's consumer group, per Enabled subscription. `start()` keeps them running in a
 * long-lived process (floe dev, floe agent), following the definitions as they change;
 * `runOnce()` is the Lambda dispatcher's: deliver what is there, then leave.
 */
export class Dispatcher {
  private readonly ctx: RunnerContext;
  private readonly store: SubscriptionStore;
  private readonly pollIntervalMs: number;
  private readonly runners = new Map<string, SubscriptionRunner>();
  /** Runners being stopped (paused, deleted): a Deleting one's group is deleted once they left. */
  private readonly retiring = new Map<string, Promise<void>>();
  private polling: Promise<void> | undefined;
  private running = false;
  private wakePoll: (() => void) | undefined;
  private readonly logger: Pick<Logger, "warn"> | undefined;

  constructor(options: DispatcherOptions) {
    this.store = options.store;
    this.logger = options.logger;
    this.pollIntervalMs = options.pollIntervalMs ?? 1_000;
    const sleep = options.sleep ?? abortableSleep;
    this.ctx = {
      broker: options.broker,
      groups: options.groups,
      store: options.store,
      targets: options.targets,
      clock: options.clock ?? Date.now,
      sleep,
      random: options.random ?? Math.random,
      retryBackoffMs: options.retryBackoffMs ?? 100,
      retryBackoffMaxMs: options.retryBackoffMaxMs ?? 1_000,
      sessionTimeoutMs: options.sessionTimeoutMs ?? 45_000,
      metrics: options.metrics,
      warn: (message, detail) => this.logger?.warn(message, detail),
    };
  }

  /** Runs until stop(): every pollIntervalMs, starts, updates and stops runners as the definitions say. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.polling = this.pollLoop();
  }

  /**
   * Stops every runner: each partition finishes its attempt in flight (aborted after the target's
   * timeout) and commits what is settled, then each group is left.
   */
  async stop(): Promise<void> {
    this.running = false;
    this.wakePoll?.();
    await this.polling;
    const runners = [...this.runners.values()];
    this.runners.clear();
    await Promise.all([...runners.map((r) => r.stop()), ...this.retiring.values()]);
  }

  /**
   * The Lambda dispatcher's run: for each Enabled subscription, joins its group, delivers until every
   * assigned partition is caught up, blocked (its deliveries kept failing for
   * ONCE_BLOCKED_GIVE_UP_MS: the next run retries it), or `deadline` (ms since the epoch) is near —
   * no new batch starts in the last min(target timeout, 10 s), and a delivery still in flight at the
   * deadline is aborted, uncommitted — and leaves; then finishes deleting Deleting subscriptions
   * whose group is empty, and deletes the group of any removed while the run held it.
   */
  async runOnce(options: { deadline: number }): Promise<DispatchReport> {
    const subscriptions = await this.store.list();
    const enabled = subscriptions.filter((s) => s.state === "Enabled");
    const reports = await Promise.all(
      enabled.map(async (s): Promise<RunnerReport> => {
        try {
          return await new SubscriptionRunner(this.ctx, s, {
            kind: "once",
            stopStartingAt: options.deadline - Math.min(s.target.timeoutMs, ONCE_MARGIN_MS),
            deadline: options.deadline,
          }).start().done;
        } catch (e) {
          // One subscription's fault (a target that cannot be built) is not the others'.
          this.ctx.warn("subscription run failed", {
            subscription: s.name,
            error: e instanceof Error ? e.message : String(e),
          });
          return { ...noCounts(), pendingPartitions: 0 };
        }
      }),
    );
    // Read again after the runs: a subscription deleted while this run held its group is finished
    // (or its group cleaned up) now, not by the next run.
    const after = await this.store.list();
    const current = new Map(after.map((s) => [s.name, s]));
    await Promise.all([
      ...after.filter((s) => s.state === "Deleting").map((s) => this.finishDeletion(s.name)),
      ...enabled.filter((s) => !current.has(s.name)).map((s) => this.cleanUpAfter(s.name)),
    ]);
    const report: DispatchReport = {
      subscriptions: enabled.length,
      ...noCounts(),
      pendingPartitions: 0,
    };
    for (const r of reports) {
      addCounts(report, r);
      report.pendingPartitions += r.pendingPartitions;
    }
    return report;
  }

  private async pollLoop(): Promise<void> {
    while (this.running) {
      try {
        await this.poll();
      } catch (e) {
        this.ctx.warn("reading the subscriptions failed", {
          error: e instanceof Error ? e.message : String(e),
        });
      }
      if (!this.running) break;
      const nap = new AbortController();
      await Promise.race([
        this.ctx.sleep(this.pollIntervalMs, nap.signal),
        new Promise<void>((resolve) => (this.wakePoll = resolve)),
      ]);
      nap.abort();
      this.wakePoll = undefined;
    }
  }

  private async poll(): Promise<void> {
    const subscriptions = await this.store.list();
    if (!this.running) return;
    const byName = new Map(subscriptions.map((s) => [s.name, s]));
    for (const [name, runner] of this.runners) {
      const current = byName.get(name);
      if (current?.state === "Enabled" && current.incarnation === runner.subscription.incarnation) {
        runner.update(current);
        continue;
      }
      this.runners.delete(name);
      this.retire(name, runner, current);
    }
    for (const s of subscriptions) {
      if (s.state === "Enabled" && !this.runners.has(s.name) && !this.retiring.has(s.name)) {
        try {
          this.runners.set(s.name, new SubscriptionRunner(this.ctx, s, { kind: "continuous" }).start());
        } catch (e) {
          // A target that cannot be built holds up only its own subscription; the next poll tries again.
          this.ctx.warn("cannot start a subscription", {
            subscription: s.name,
            error: e instanceof Error ? e.message : String(e),
          });
        }
      } else if (s.state === "Deleting" && !this.runners.has(s.name) && !this.retiring.has(s.name)) {
        // A deletion no runner of this process held up (or one started before it was restarted).
        this.retire(s.name, undefined, s);
      }
    }
  }

  /** Stops a runner in the background (the poll goes on); then finishes a deletion. */
  private retire(
    name: string,
    runner: SubscriptionRunner | undefined,
    current: Subscription | undefined,
  ): void {
    const retired = (async () => {
      if (runner) await runner.stop();
      if (current?.state === "Deleting") await this.finishDeletion(name);
      else if (current === undefined && runner) await this.cleanUpAfter(name);
    })().finally(() => this.retiring.delete(name));
    this.retiring.set(name, retired);
  }

  /** A runner left the group of a subscription that is gone: the group must not outlive it. */
  private async cleanUpAfter(name: string): Promise<void> {
    try {
      await deleteLeftoverGroup(this.store, this.ctx.groups, name);
    } catch (e) {
      this.ctx.warn("deleting a removed subscription's group failed", {
        subscription: name,
        error: e instanceof Error ? e.message : String(e),
      });
    }
  }

  private async finishDeletion(name: string): Promise<void> {
    try {
      await deleteSubscription(this.store, this.ctx.groups, name);
    } catch (e) {
      // Gone already (another dispatcher finished it), or the next poll tries again.
      if (!(e instanceof Error && e.name === "RESOURCE_NOT_FOUND")) {
        this.ctx.warn("finishing a subscription's deletion failed", {
          subscription: name,
          error: e instanceof Error ? e.message : String(e),
        });
      }
    }
  }
}

/** setTimeout as a promise that an abort ends early, clearing the timer. */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, Math.max(0, ms));
    signal?.addEventListener("abort", done, { once: true });
  });
}
