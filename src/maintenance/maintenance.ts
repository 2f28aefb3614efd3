import { keys } from "../broker/keys.js";
import { PartitionLeases } from "../broker/lease.js";
import { TopicAdmin } from "../broker/topics.js";
import type { Topic } from "../broker/types.js";
import { FloeError } from "../errors.js";
import type { Backend } from "../storage/ports.js";
import { Budget, type MaintenanceBudget } from "./budget.js";
import { freshCursor, loadCursor, type MaintenanceCursor, type Phase, saveCursor } from "./cursor.js";
import { collectGarbagePage } from "./garbage-collection.js";
import type { MaintenanceContext } from "./maintenance-context.js";
import {
  type MaintenanceOptions,
  type ResolvedMaintenanceOptions,
  resolveMaintenanceOptions,
} from "./maintenance-options.js";
import { maintainPartition, type PartitionOutcome } from "./partition-maintenance.js";
import { expireProducersPage } from "./producer-expiry.js";
import { emptyReport, errorEntry, type MaintenanceReport, summarizeCycle } from "./report.js";
import { deletedTopicsAfter, reclaimDeletedTopic } from "./topic-reclaim.js";

const NEXT_PHASE: Record<Exclude<Phase, "gc">, Phase> = {
  "deleted-topics": "producers",
  producers: "partitions",
  partitions: "gc",
};

/**
 * Segment maintenance (architecture §7): a pass reclaims deleted topics, expires idle idempotent
 * producers (producer.id.expiration.ms), then visits every partition
 * (retention, then compaction, each under the partition's lease), then collects unreferenced
 * objects. `runOnce` does a bounded slice of a pass and stores a cursor, so a scheduled Lambda, a
 * timer in `floe dev` or an admin command each resume where the last slice stopped. Any number of
 * workers may run at once: leases keep them off each other's partitions, and every other write is
 * conditional.
 */
export class Maintenance {
  readonly options: ResolvedMaintenanceOptions;
  private readonly topics: TopicAdmin;
  private readonly leases: PartitionLeases;

  constructor(
    private readonly store: Pick<Backend, "meta" | "objects">,
    options: MaintenanceOptions = {},
  ) {
    this.options = resolveMaintenanceOptions(options);
    this.topics = new TopicAdmin(store.meta, { clock: this.options.clock, topicCacheTtlMs: 0 });
    this.leases = new PartitionLeases(store.meta, {
      clock: this.options.clock,
      durationMs: this.options.leaseMs,
    });
  }

  get owner(): string {
    return this.options.owner;
  }

  async runOnce(budget: MaintenanceBudget = {}): Promise<MaintenanceReport> {
    const { clock } = this.options;
    const report = emptyReport(this.owner, clock());
    const ctx: MaintenanceContext = {
      meta: this.store.meta,
      objects: this.store.objects,
      topics: this.topics,
      leases: this.leases,
      options: this.options,
      budget: new Budget(budget, clock),
      report,
    };
    let cursor = await loadCursor(ctx.meta, clock());
    try {
      while (!ctx.budget.exhausted && !report.cycleComplete) {
        const before = cursor.phase;
        const advanced =
          cursor.phase === "deleted-topics"
            ? await this.reclaimPhase(ctx, cursor)
            : cursor.phase === "producers"
              ? await this.producersPhase(ctx, cursor)
              : cursor.phase === "partitions"
                ? await this.partitionsPhase(ctx, cursor)
                : await this.gcPhase(ctx, cursor);
        if (!advanced) break;
        if (before === "gc") {
          report.cycle = summarizeCycle(cursor.totals, clock());
          report.cycleComplete = true;
          cursor = freshCursor(clock(), report.cycle);
        } else {
          cursor.phase = NEXT_PHASE[before];
        }
      }
    } finally {
      report.ops = ctx.budget.ops;
      report.budgetExhausted = ctx.budget.exhausted && !report.cycleComplete;
      report.finishedAt = clock();
      await saveCursor(ctx.meta, cursor).catch((e) => this.record(ctx, "cursor", e));
    }
    return report;
  }

  /** Answers true once no deleted topic is left to visit in this pass. */
  private async reclaimPhase(ctx: MaintenanceContext, cursor: MaintenanceCursor): Promise<boolean> {
    while (!ctx.budget.exhausted) {
      let next: Awaited<ReturnType<typeof deletedTopicsAfter>>;
      try {
        next = await deletedTopicsAfter(ctx, cursor.deletedAfter ?? undefined, 1);
      } catch (e) {
        this.record(ctx, "deleted-topics", e);
        return false;
      }
      if (next.length === 0) return true;
      const topic = next[0];
      let done = false;
      try {
        done = await reclaimDeletedTopic(ctx, topic);
      } catch (e) {
        this.record(ctx, `deleted-topic/${topic.topicId}`, e);
      }
      // Stopped by the budget: resume this topic next slice. Leased elsewhere or failed: pass it by.
      if (!done && ctx.budget.exhausted) return false;
      if (!done) cursor.deletedAfter = topic.topicId;
    }
    return false;
  }

  /** Answers true once every idempotent producer was visited in this pass. */
  private async producersPhase(ctx: MaintenanceContext, cursor: MaintenanceCursor): Promise<boolean> {
    while (!ctx.budget.exhausted) {
      try {
        const next = await expireProducersPage(ctx, cursor.producerAfter);
        if (next === null) return true;
        cursor.producerAfter = next;
      } catch (e) {
        this.record(ctx, "producers", e);
        return false;
      }
    }
    return false;
  }

  /** Answers true once every partition of every topic was visited in this pass. */
  private async partitionsPhase(ctx: MaintenanceContext, cursor: MaintenanceCursor): Promise<boolean> {
    let name: string | null;
    try {
      name = await this.topicFrom(cursor.topic, true);
      if (name !== cursor.topic) cursor.partition = 0;
      while (name !== null) {
        cursor.topic = name;
        const topic = await this.topicNamed(ctx, name);
        while (topic && cursor.partition < topic.partitions) {
          if (ctx.budget.exhausted) return false;
          const outcome = await this.visit(ctx, topic, cursor.partition);
          if (!outcome.finished) return false;
          cursor.totals.partitions++;
          cursor.totals.segments += outcome.segments;
          cursor.partition++;
        }
        name = await this.topicFrom(name, false);
        cursor.partition = 0;
      }
    } catch (e) {
      this.record(ctx, "topics", e);
      return false;
    }
    return true;
  }

  private async visit(ctx: MaintenanceContext, topic: Topic, partition: number): Promise<PartitionOutcome> {
    try {
      return await maintainPartition(ctx, topic, partition);
    } catch (e) {
      if (e instanceof FloeError && e.code === "FENCED_LEADER_EPOCH") ctx.report.partitions.fenced++;
      else this.record(ctx, `${topic.name}/${partition}`, e);
      return { segments: 0, finished: true };
    }
  }

  /** Answers true once the listing reached its end. */
  private async gcPhase(ctx: MaintenanceContext, cursor: MaintenanceCursor): Promise<boolean> {
    while (!ctx.budget.exhausted) {
      try {
        const page = await collectGarbagePage(ctx, cursor.gcAfter ?? undefined);
        cursor.totals.objects += page.keptObjects;
        cursor.totals.bytes += page.keptBytes;
        if (page.next === null) return true;
        cursor.gcAfter = page.next;
      } catch (e) {
        this.record(ctx, "gc", e);
        return false;
      }
    }
    return false;
  }

  /** The first topic name at (or after) `name` in the directory; null past the last. */
  private async topicFrom(name: string | null, inclusive: boolean): Promise<string | null> {
    const range = name === null ? {} : inclusive ? { gte: name } : { gt: name };
    const items = await this.store.meta.query(keys.topicDirectory, { ...range, limit: 1 });
    return items.length === 0 ? null : items[0].sk;
  }

  private async topicNamed(ctx: MaintenanceContext, name: string): Promise<Topic | null> {
    try {
      return await this.topics.get(name);
    } catch (e) {
      // Deleted since it was listed: the deleted-topics phase of a later pass reclaims it.
      if (!(e instanceof FloeError && e.code === "UNKNOWN_TOPIC_OR_PARTITION")) this.record(ctx, name, e);
      return null;
    }
  }

  private record(ctx: MaintenanceContext, scope: string, e: unknown): void {
    ctx.report.errors.push(errorEntry(scope, e));
  }
}
