import { FloeError } from "../errors.js";
import { type AppendRequest, isBatchRequest, type ProduceOutcome, settleOutcome } from "./append.js";
import type { RecordOffset } from "./types.js";

export interface GroupCommitterOptions {
  /** How long the first request of a batch waits for company; Kafka's linger.ms. Default 5. */
  lingerMs?: number;
  /** A batch this large is sent without waiting out the linger; Kafka's batch.size, scaled to objects. Default 4 MiB. */
  maxBatchBytes?: number;
  /**
   * Batches being written at once. Default 1: batches then commit in arrival order, and a request
   * never waits for a slot while a commit could take it along.
   */
  maxInflight?: number;
}

export interface GroupCommitStats {
  /** produce() calls accepted. */
  requests: number;
  /** Group commits made: produceMany calls, each one object and one metadata commit. */
  commits: number;
  /** Segment objects acknowledged: group commits in which at least one request was appended. */
  objects: number;
}

interface Waiter {
  request: AppendRequest;
  resolve: (offsets: RecordOffset[]) => void;
  reject: (error: unknown) => void;
}

interface Batch {
  waiters: Waiter[];
  bytes: number;
  /** Full: later requests start the next batch. */
  sealed: boolean;
  /** The linger has passed (or a flush asked): send as soon as a slot is free. */
  due: boolean;
  timer?: NodeJS.Timeout;
}

/** Kafka's per-record framing, roughly: what a record costs besides its key, value and headers. */
const RECORD_OVERHEAD = 24;

function requestBytes(request: AppendRequest): number {
  let n = 0;
  if (isBatchRequest(request)) {
    for (const b of request.batches ?? []) n += b.bytes?.length ?? 0;
    return n;
  }
  for (const r of request.records ?? []) {
    n += RECORD_OVERHEAD + (r.key?.length ?? 0) + (r.value?.length ?? 0);
    for (const h of r.headers ?? []) n += h.key.length + (h.value?.length ?? 0);
  }
  return n;
}

type Producer = { produceMany(requests: AppendRequest[]): Promise<ProduceOutcome[]> };

/**
 * Group commit for long-running processes (architecture §3): concurrent produce requests are buffered
 * for `lingerMs` or until `maxBatchBytes`, then appended with one produceMany call: one object, one
 * metadata commit, each request answered with its own offsets or its own error. While a batch is
 * being written the next one keeps filling, so under load batches grow instead of queueing and
 * throughput is not bounded by one round trip per linger.
 */
export class GroupCommitter {
  private readonly lingerMs: number;
  private readonly maxBatchBytes: number;
  private readonly maxInflight: number;
  /** Batches not yet sent, oldest first; only the last may still be open. */
  private readonly queue: Batch[] = [];
  private readonly inflight = new Set<Promise<void>>();
  private closed = false;
  private readonly counters: GroupCommitStats = { requests: 0, commits: 0, objects: 0 };

  constructor(
    private readonly broker: Producer,
    options: GroupCommitterOptions = {},
  ) {
    this.lingerMs = options.lingerMs ?? 5;
    this.maxBatchBytes = options.maxBatchBytes ?? 4 * 1024 * 1024;
    this.maxInflight = options.maxInflight ?? 1;
    if (!(this.lingerMs >= 0)) throw new RangeError(`lingerMs must be >= 0, got ${this.lingerMs}`);
    if (!(this.maxBatchBytes >= 1))
      throw new RangeError(`maxBatchBytes must be >= 1, got ${this.maxBatchBytes}`);
    if (!Number.isInteger(this.maxInflight) || this.maxInflight < 1) {
      throw new RangeError(`maxInflight must be an integer >= 1, got ${this.maxInflight}`);
    }
  }

  /**
   * Resolves with the request's offsets once its batch is committed (acked means durable): per
   * record, or per `batches` entry for client-encoded batches (see ProduceOutcome).
   */
  produce(request: AppendRequest): Promise<RecordOffset[]> {
    if (this.closed) {
      // Kafka's answer from a broker in controlled shutdown: retry, elsewhere or later.
      return Promise.reject(
        new FloeError("NOT_LEADER_OR_FOLLOWER", "The server is shutting down; retry the request.", {
          retriable: true,
          fault: "server",
        }),
      );
    }
    const bytes = requestBytes(request);
    return new Promise<RecordOffset[]>((resolve, reject) => {
      const batch = this.batchFor(bytes);
      batch.waiters.push({ request, resolve, reject });
      batch.bytes += bytes;
      if (batch.bytes >= this.maxBatchBytes) batch.sealed = true;
      this.counters.requests++;
      this.pump();
    });
  }

  /** Sends everything buffered now, without waiting out the linger, and waits until all is answered. */
  async flush(): Promise<void> {
    while (this.queue.length > 0 || this.inflight.size > 0) {
      for (const batch of this.queue) batch.due = true;
      this.pump();
      if (this.inflight.size > 0) await Promise.race(this.inflight);
    }
  }

  /** Refuses new requests, then flushes: every request accepted before is answered. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
  }

  stats(): GroupCommitStats {
    return { ...this.counters };
  }

  private batchFor(bytes: number): Batch {
    const last = this.queue[this.queue.length - 1];
    if (last && !last.sealed && last.bytes + bytes <= this.maxBatchBytes) return last;
    if (last) last.sealed = true;
    const batch: Batch = { waiters: [], bytes: 0, sealed: false, due: false };
    batch.timer = setTimeout(() => {
      batch.due = true;
      this.pump();
    }, this.lingerMs);
    this.queue.push(batch);
    return batch;
  }

  private pump(): void {
    while (this.inflight.size < this.maxInflight && this.queue.length > 0) {
      const head = this.queue[0];
      if (!head.sealed && !head.due) return;
      this.queue.shift();
      clearTimeout(head.timer);
      this.send(head);
    }
  }

  private send(batch: Batch): void {
    this.counters.commits++;
    const done: Promise<void> = this.broker
      .produceMany(batch.waiters.map((w) => w.request))
      .then(
        (outcomes) => {
          let appended = false;
          batch.waiters.forEach((w, i) => {
            const outcome = outcomes[i];
            if (!outcome) {
              w.reject(new Error("produceMany answered fewer outcomes than requests"));
              return;
            }
            if ("offsets" in outcome) appended = true;
            try {
              w.resolve(settleOutcome(outcome));
            } catch (error) {
              w.reject(error);
            }
          });
          if (appended) this.counters.objects++;
        },
        (error: unknown) => {
          for (const w of batch.waiters) w.reject(error);
        },
      )
      .finally(() => {
        this.inflight.delete(done);
        this.pump();
      });
    this.inflight.add(done);
  }
}
