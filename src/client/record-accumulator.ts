import type { LogRecord } from "../log/record-batch.js";

/** A validated record on its way into a batch, with its encoded size at most. */
export interface OutgoingRecord extends LogRecord {
  partition?: number;
  bytes: number;
}

/** Kafka's RecordBatch v2 header. */
export const BATCH_OVERHEAD = 61;

/** One partition's records that go, and are acknowledged, together: one RecordBatch v2. */
export interface ProducerBatch {
  readonly topic: string;
  readonly partition: number;
  readonly records: OutgoingRecord[];
  /** Encoded size at most: the header and every record's framing at its widest. */
  bytes: number;
  /** The records' own bytes, held in buffer.memory until the batch completes. */
  recordBytes: number;
  /** Most bytes this batch grows to: batch.size, or less when the topic's max.message.bytes is smaller. */
  readonly limit: number;
  readonly createdAt: number;
  /** Settles with the batch's base offset once acknowledged, or its failure. */
  readonly result: Promise<number>;
  resolve(baseOffset: number): void;
  reject(error: unknown): void;
}

export interface AccumulatorOptions {
  /** Kafka's batch.size. */
  batchSize: number;
  /** Kafka's linger.ms. */
  lingerMs: number;
}

/**
 * Kafka's RecordAccumulator: records wait in per-partition batches of up to batch.size bytes. A
 * partition is ready when its first batch is full (or another batch waits behind it), has lingered
 * linger.ms, or a flush or a send waiting for buffer.memory asks for everything now. Once any
 * partition is ready, a drain takes the first batch of every partition (ready or not, as Kafka's
 * does for a ready broker) up to max.request.size, so one request carries them all.
 */
export class RecordAccumulator {
  private readonly deques = new Map<string, ProducerBatch[]>();
  /** Partition keys in drain order, rotated so no partition is always last to fit. */
  private order: string[] = [];
  private drainIndex = 0;
  private flushes = 0;

  constructor(
    private readonly options: AccumulatorOptions,
    private readonly clock: () => number = Date.now,
  ) {}

  /**
   * Adds the record to its partition's last batch, or starts one when it would not fit under
   * `limit` (a record larger than that gets a batch of its own). Answers where the record sits.
   */
  append(
    topic: string,
    partition: number,
    record: OutgoingRecord,
    limit: number,
  ): { batch: ProducerBatch; index: number } {
    const key = partitionKey(topic, partition);
    let deque = this.deques.get(key);
    if (!deque) {
      deque = [];
      this.deques.set(key, deque);
      this.order.push(key);
    }
    let batch = deque[deque.length - 1];
    if (!batch || (batch.records.length > 0 && batch.bytes + record.bytes > batch.limit)) {
      batch = newBatch(topic, partition, Math.min(this.options.batchSize, limit), this.clock());
      deque.push(batch);
    }
    batch.records.push(record);
    batch.bytes += record.bytes;
    batch.recordBytes += record.bytes;
    return { batch, index: batch.records.length - 1 };
  }

  /** Everything held goes as soon as the sender can take it, until endFlush(). */
  beginFlush(): void {
    this.flushes++;
  }

  endFlush(): void {
    this.flushes--;
  }

  /** True when some partition's first batch may go now (see the class comment). */
  ready(exhausted: boolean, muted?: ReadonlySet<string>): boolean {
    const now = this.clock();
    for (const [key, deque] of this.deques) {
      const head = deque[0];
      if (!head || muted?.has(key)) continue;
      if (
        this.flushes > 0 ||
        exhausted ||
        deque.length > 1 ||
        head.bytes >= head.limit ||
        now >= head.createdAt + this.options.lingerMs
      )
        return true;
    }
    return false;
  }

  /** When the earliest waiting batch will have lingered enough; undefined when none waits. */
  nextExpiry(muted?: ReadonlySet<string>): number | undefined {
    let next: number | undefined;
    for (const [key, deque] of this.deques) {
      const head = deque[0];
      if (!head || muted?.has(key)) continue;
      const at = head.createdAt + this.options.lingerMs;
      if (next === undefined || at < next) next = at;
    }
    return next;
  }

  /**
   * The first batch of each partition not muted, up to `maxRequestSize` framed bytes (the first
   * batch always goes, so a batch larger than a request still leaves), in rotating partition order.
   */
  drain(maxRequestSize: number, frameBytes: (batch: ProducerBatch) => number, muted?: ReadonlySet<string>) {
    const drained: ProducerBatch[] = [];
    let size = 0;
    const keys = this.order;
    const start = keys.length === 0 ? 0 : this.drainIndex % keys.length;
    for (let n = 0; n < keys.length; n++) {
      const key = keys[(start + n) % keys.length];
      if (muted?.has(key)) continue;
      const deque = this.deques.get(key) as ProducerBatch[];
      const head = deque[0];
      if (!head) continue;
      const bytes = frameBytes(head);
      if (drained.length > 0 && size + bytes > maxRequestSize) break;
      deque.shift();
      drained.push(head);
      size += bytes;
    }
    this.drainIndex = start + 1;
    this.forgetEmpty();
    return drained;
  }

  /** Drops partitions with nothing waiting, so a producer writing to many over time does not scan them all forever. */
  private forgetEmpty(): void {
    if (this.order.length < 64) return;
    const live = this.order.filter((key) => (this.deques.get(key)?.length ?? 0) > 0);
    if (live.length * 2 > this.order.length) return;
    for (const key of this.order) if (this.deques.get(key)?.length === 0) this.deques.delete(key);
    this.order = live;
  }
}

export function partitionKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

function newBatch(topic: string, partition: number, limit: number, createdAt: number): ProducerBatch {
  let resolve!: (baseOffset: number) => void;
  let reject!: (error: unknown) => void;
  const result = new Promise<number>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // Its senders await it; one whose send gave up (max.block.ms) mid-way must not leave it unhandled.
  result.catch(() => {});
  return {
    topic,
    partition,
    records: [],
    bytes: BATCH_OVERHEAD,
    recordBytes: 0,
    limit: Math.max(limit, BATCH_OVERHEAD + 1),
    createdAt,
    result,
    resolve,
    reject,
  };
}
