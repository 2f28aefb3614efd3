import type { KafkaErrorCode } from "../errors.js";
import type { FetchSettings } from "./consumer-fetch-settings.js";
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
  settings: FetchSettings;
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

/** One partition of a fetch: asked at `offset`, while the partition was at `generation`. */
interface Asked {
  owned: OwnedPartition;
  generation: number;
  offset: number;
}

type Answer =
  | { kind: "answered"; results: (PartitionFetch | PartitionFetchError)[] }
  | { kind: "failed"; error: unknown }
  | { kind: "aborted" };

/** One fetch request: what it asked, and its answer (which never rejects). */
interface Fetch {
  asked: Asked[];
  abort: AbortController;
  answer: Promise<Answer>;
}

const noHeartbeat = async () => {};

/**
 * The consumer's poll loop: one multi-partition long-poll over every partition it may read, then
 * each partition's records handed to the application in offset order (partitions side by side up
 * to partitionsConsumedConcurrently), then autoCommit.
 *
 * Like Kafka's consumer, it sends the next fetch as soon as one is answered, for the positions
 * after that answer's records, so the server reads fetch N+1 while the application handles fetch
 * N. At most one fetch is prefetched (bounded by fetch.max.bytes). A prefetched partition's records
 * are handed over only if it is still at the offset and generation they were asked at and neither
 * paused nor released; otherwise they are dropped and the partition is fetched again from where it
 * is. A change of what it may read (assignment, pause, resume, seek, stop) aborts the fetch in
 * flight so it takes effect at once.
 */
export class Fetcher {
  private readonly wakeup = new Wakeup();
  /** The fetch whose answer has not arrived yet, which interrupt() aborts. */
  private inFlight: Fetch | undefined;
  private done: Promise<void> | undefined;

  constructor(private readonly ctx: FetchContext) {}

  start(): void {
    this.done ??= this.loop().finally(() => {
      this.done = undefined;
    });
  }

  /** Something changed: refetch now. */
  interrupt(): void {
    this.inFlight?.abort.abort(new Error("the consumer's assignment changed"));
    this.wakeup.wake();
  }

  /** Resolves once the loop has ended (isRunning() is false) and no record is being handled. */
  async stopped(): Promise<void> {
    this.interrupt();
    await this.done;
  }

  private async loop(): Promise<void> {
    let failures = 0;
    let prefetched: Fetch | undefined;
    try {
      while (this.ctx.isRunning()) {
        const fetch = prefetched ?? this.send(this.fetchable([]));
        prefetched = undefined;
        if (!fetch) {
          await this.wakeup.wait();
          continue;
        }
        const answer = await fetch.answer;
        if (answer.kind === "aborted") continue;
        if (answer.kind === "failed") {
          this.ctx.crash(answer.error);
          await this.wakeup.wait(this.ctx.backoffMs(failures++));
          continue;
        }
        if (!this.ctx.isRunning()) break;
        // Only what still applies: a partition sought, paused, released or moved since it was
        // asked (a prefetch asked for where it would be) is fetched again from where it is.
        const round = fetch.asked
          .map((asked, i) => ({ asked, result: answer.results[i] }))
          .filter(({ asked }) => stillApplies(asked));
        prefetched = this.send(this.fetchable(round));

        let failed = false;
        await forEachConcurrently(round, this.ctx.run.partitionsConsumedConcurrently, async (one) => {
          const handling = this.handle(one.asked, one.result);
          one.asked.owned.processing = handling;
          try {
            if (!(await handling)) failed = true;
          } finally {
            if (one.asked.owned.processing === handling) one.asked.owned.processing = undefined;
          }
        });
        await this.ctx.autoCommitIfDue();
        if (failed) await this.wakeup.wait(this.ctx.backoffMs(failures++));
        else failures = 0;
      }
    } finally {
      // Stopping drops the prefetch; waiting for its abort leaves no request behind.
      prefetched?.abort.abort(new Error("the consumer stopped"));
      await prefetched?.answer;
    }
  }

  /**
   * Every partition that may be read, at the position it will have once `round` is handled: after
   * its records for a partition in it (whose handling may still be running), else where it is. A
   * partition whose answer was an error is left out: its position is known only once handled.
   */
  private fetchable(
    round: readonly { asked: Asked; result: PartitionFetch | PartitionFetchError }[],
  ): Asked[] {
    const next = new Map<OwnedPartition, number | undefined>();
    for (const { asked, result } of round)
      next.set(asked.owned, "error" in result ? undefined : result.nextOffset);
    const asked: Asked[] = [];
    for (const owned of this.ctx.owned.fetchable()) {
      const offset = next.has(owned) ? next.get(owned) : owned.position;
      if (offset !== undefined) asked.push({ owned, generation: owned.generation, offset });
    }
    return asked;
  }

  /** Sends one fetch now, or nothing when there is no partition to read. */
  private send(asked: Asked[]): Fetch | undefined {
    if (asked.length === 0) return undefined;
    const abort = new AbortController();
    const { minBytes, maxWaitMs, maxPartitionBytes, maxBytes, maxRecords } = this.ctx.settings;
    const answer = this.ctx.reader
      .fetchMany({
        partitions: asked.map(({ owned, offset }) => ({
          topic: owned.topic,
          partition: owned.partition,
          offset,
        })),
        minBytes,
        maxWaitMs,
        maxBytes,
        partitionMaxBytes: maxPartitionBytes,
        maxRecords,
        signal: abort.signal,
      })
      .then(
        (results): Answer => ({ kind: "answered", results }),
        (error: unknown): Answer => (abort.signal.aborted ? { kind: "aborted" } : { kind: "failed", error }),
      );
    const fetch: Fetch = { asked, abort, answer };
    this.inFlight = fetch;
    // Once answered it is no longer in flight: its records are kept, and filtered per partition.
    void answer.then(() => {
      if (this.inFlight === fetch) this.inFlight = undefined;
    });
    return fetch;
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

/** Whether an answer asked for this partition may still be handed over. */
function stillApplies({ owned, generation, offset }: Asked): boolean {
  return owned.generation === generation && owned.position === offset && !owned.released && !owned.paused;
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
