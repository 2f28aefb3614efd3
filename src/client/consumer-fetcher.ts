import type { KafkaErrorCode } from "../errors.js";
import type { Batch, EachBatchPayload, EachMessagePayload, RunConfig } from "./consumer-types.js";
import type { OwnedPartition, OwnedPartitions } from "./consumer-partitions.js";
import { Wakeup } from "./consumer-wakeup.js";
import type { PartitionFetchError, PartitionReader } from "./partition-reader.js";
import type { PartitionFetch } from "./types.js";

/** What the fetch loop needs from its consumer. */
export interface FetchContext {
  reader: PartitionReader;
  owned: OwnedPartitions;
  run: Required<Pick<RunConfig, "eachBatchAutoResolve" | "partitionsConsumedConcurrently">> &
    Pick<RunConfig, "eachMessage" | "eachBatch">;
  maxWaitMs: number;
  maxBytes: number | undefined;
  maxRecords: number;
  isRunning(): boolean;
  /** The partition's auto.offset.reset position, for a fetch past either end of the log. */
  resetPosition(topic: string, partition: number): Promise<number>;
  /** Counts records handed over, for autoCommitThreshold. */
  processed(count: number): void;
  /** Commits processed positions if autoCommit is due; never throws. */
  autoCommitIfDue(): Promise<void>;
  pause(owned: OwnedPartition): () => void;
  crash(error: unknown): void;
  backoffMs(attempt: number): number;
}

interface Asked {
  owned: OwnedPartition;
  generation: number;
}

const noHeartbeat = async () => {};

/**
 * The consumer's poll loop: one multi-partition long-poll over every partition it may read, then
 * each partition's records handed to the application in offset order (partitions side by side up
 * to partitionsConsumedConcurrently), then autoCommit. A change of what it may read (assignment,
 * pause, seek, stop) aborts the long-poll so it takes effect at once.
 */
export class Fetcher {
  private readonly wakeup = new Wakeup();
  private abort: AbortController | undefined;
  private done: Promise<void> | undefined;

  constructor(private readonly ctx: FetchContext) {}

  start(): void {
    this.done ??= this.loop().finally(() => {
      this.done = undefined;
    });
  }

  /** Something changed: refetch now. */
  interrupt(): void {
    this.abort?.abort(new Error("the consumer's assignment changed"));
    this.wakeup.wake();
  }

  /** Resolves once the loop has ended (isRunning() is false) and no record is being handled. */
  async stopped(): Promise<void> {
    this.interrupt();
    await this.done;
  }

  private async loop(): Promise<void> {
    let failures = 0;
    while (this.ctx.isRunning()) {
      const asked: Asked[] = this.ctx.owned
        .fetchable()
        .map((owned) => ({ owned, generation: owned.generation }));
      if (asked.length === 0) {
        await this.wakeup.wait();
        continue;
      }
      const abort = new AbortController();
      this.abort = abort;
      let results: (PartitionFetch | PartitionFetchError)[];
      try {
        results = await this.ctx.reader.fetchMany({
          partitions: asked.map(({ owned }) => ({
            topic: owned.topic,
            partition: owned.partition,
            offset: owned.position,
          })),
          maxWaitMs: this.ctx.maxWaitMs,
          maxBytes: this.ctx.maxBytes,
          maxRecords: this.ctx.maxRecords,
          signal: abort.signal,
        });
      } catch (error) {
        if (abort.signal.aborted) continue;
        this.ctx.crash(error);
        await this.wakeup.wait(this.ctx.backoffMs(failures++));
        continue;
      } finally {
        this.abort = undefined;
      }

      let failed = false;
      await forEachConcurrently(asked, this.ctx.run.partitionsConsumedConcurrently, async (one, i) => {
        const handling = this.handle(one, results[i]);
        one.owned.processing = handling;
        try {
          if (!(await handling)) failed = true;
        } finally {
          if (one.owned.processing === handling) one.owned.processing = undefined;
        }
      });
      await this.ctx.autoCommitIfDue();
      if (failed) await this.wakeup.wait(this.ctx.backoffMs(failures++));
      else failures = 0;
    }
  }

  /** Hands one partition's answer to the application; false when it failed and should be retried later. */
  private async handle(
    { owned, generation }: Asked,
    result: PartitionFetch | PartitionFetchError,
  ): Promise<boolean> {
    // A seek since the fetch makes its answer irrelevant; the new position is fetched next round.
    const current = () => owned.generation === generation;
    const deliverable = () => current() && !owned.released && !owned.paused && this.ctx.isRunning();
    if (!deliverable()) return true;
    if ("error" in result) {
      if (!isOutOfRange(result.error.code)) {
        this.ctx.crash(result.error);
        return false;
      }
      try {
        const position = await this.ctx.resetPosition(owned.topic, owned.partition);
        if (current()) owned.position = position;
        return true;
      } catch (error) {
        this.ctx.crash(error);
        return false;
      }
    }
    if (result.records.length === 0) {
      owned.position = Math.max(owned.position, result.nextOffset);
      return true;
    }
    return this.ctx.run.eachBatch
      ? this.handleBatch(owned, result, current, deliverable)
      : this.handleMessages(owned, result, current, deliverable);
  }

  private async handleMessages(
    owned: OwnedPartition,
    result: PartitionFetch,
    current: () => boolean,
    deliverable: () => boolean,
  ): Promise<boolean> {
    const eachMessage = this.ctx.run.eachMessage!;
    for (const message of result.records) {
      if (!deliverable()) return true;
      const payload: EachMessagePayload = {
        topic: owned.topic,
        partition: owned.partition,
        message,
        heartbeat: noHeartbeat,
        pause: () => this.ctx.pause(owned),
      };
      try {
        await eachMessage(payload);
      } catch (error) {
        // The position stays on this record: it is delivered again after a backoff (at least once).
        this.ctx.crash(error);
        return false;
      }
      // Handled, even if the partition was paused or revoked meanwhile: its successor starts after it.
      if (current()) owned.position = message.offset + 1;
      this.ctx.processed(1);
    }
    if (current()) owned.position = Math.max(owned.position, result.nextOffset);
    return true;
  }

  private async handleBatch(
    owned: OwnedPartition,
    result: PartitionFetch,
    current: () => boolean,
    deliverable: () => boolean,
  ): Promise<boolean> {
    const messages = result.records;
    const last = messages[messages.length - 1].offset;
    const resolve = (offset: number) => {
      if (!current() || offset < owned.position - 1) return;
      this.ctx.processed(messages.filter((m) => m.offset >= owned.position && m.offset <= offset).length);
      owned.position = offset + 1;
    };
    const batch: Batch = {
      topic: owned.topic,
      partition: owned.partition,
      highWatermark: result.highWatermark,
      messages,
      isEmpty: () => messages.length === 0,
      firstOffset: () => messages[0]?.offset ?? null,
      lastOffset: () => last,
      offsetLag: () => Math.max(0, result.highWatermark - 1 - last),
    };
    const payload: EachBatchPayload = {
      batch,
      resolveOffset: resolve,
      heartbeat: noHeartbeat,
      pause: () => this.ctx.pause(owned),
      commitOffsetsIfNecessary: () => this.ctx.autoCommitIfDue(),
      isRunning: () => this.ctx.isRunning(),
      isStale: () => !deliverable(),
    };
    try {
      await this.ctx.run.eachBatch!(payload);
    } catch (error) {
      this.ctx.crash(error);
      return false;
    }
    // A batch that went stale midway counts only what it resolved itself.
    if (this.ctx.run.eachBatchAutoResolve && deliverable()) {
      resolve(last);
      owned.position = Math.max(owned.position, result.nextOffset);
    }
    return true;
  }
}

function isOutOfRange(code: KafkaErrorCode): boolean {
  return code === "OFFSET_OUT_OF_RANGE";
}

/** Runs `work` over `items` with at most `limit` at a time, in order of start. */
async function forEachConcurrently<T>(
  items: readonly T[],
  limit: number,
  work: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      await work(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}
