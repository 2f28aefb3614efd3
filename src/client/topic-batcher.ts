import { FloeError } from "../errors.js";
import type { WireRecordIn } from "./types.js";

export interface BatcherOptions {
  /** Kafka's linger.ms: how long a batch that is not full waits for company. */
  lingerMs: number;
  /** Kafka's batch.size: a batch this big (estimated request bytes) goes at once and grows no further. */
  batchBytes: number;
  /** Kafka's max.in.flight.requests.per.connection, here per topic. */
  maxInFlight: number;
}

export interface WireOffset {
  partition: number;
  offset: number;
}

/** One caller's send, waiting in the queue for its offsets. */
interface PendingSend<R> {
  records: R[];
  bytes: number;
  /** Set after it failed in company: it then goes alone, so only its own records decide its fate. */
  alone: boolean;
  resolve(offsets: WireOffset[]): void;
  reject(error: unknown): void;
}

/**
 * Coalesces concurrent sends to one topic into one produce request (Kafka's RecordAccumulator),
 * each caller answered with its own slice of the offsets. Requests leave in queue order and, with
 * one in flight (the default) or an idempotent producer's sequences, commit in that order too, so
 * two sends of the same key are never reordered, retries included. Under load the queue fills while a request is out, so batches grow
 * by themselves without any linger.
 */
export class TopicBatcher<R = WireRecordIn> {
  /** Pending sends from `head` on; taken by index, since shift() would make a long queue quadratic. */
  private queue: PendingSend<R>[] = [];
  private head = 0;
  private queuedBytes = 0;
  private inFlight = 0;
  private lingerTimer: NodeJS.Timeout | undefined;
  /** Set when the linger ran out or a flush was asked for; everything queued is then ready until the queue empties. */
  private lingerExpired = false;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly options: BatcherOptions,
    private readonly sendRequest: (records: R[]) => Promise<WireOffset[]>,
  ) {}

  add(records: R[], bytes: number): Promise<WireOffset[]> {
    return new Promise((resolve, reject) => {
      this.queue.push({ records, bytes, alone: false, resolve, reject });
      this.queuedBytes += bytes;
      this.drain();
    });
  }

  /** Resolves once everything queued so far has been answered; lingering batches go at once. */
  flush(): Promise<void> {
    this.lingerExpired = true;
    this.drain();
    if (this.queued === 0 && this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private drain(): void {
    while (this.queued > 0 && this.inFlight < this.options.maxInFlight) {
      const full = this.queuedBytes >= this.options.batchBytes || this.queue[this.head].alone;
      if (!full && !this.lingerExpired) {
        this.armLinger();
        return;
      }
      this.dispatch(this.takeBatch());
    }
    if (this.queued === 0) {
      this.queue = [];
      this.head = 0;
      this.clearLinger();
      this.lingerExpired = false;
      if (this.inFlight === 0) for (const wake of this.idleWaiters.splice(0)) wake();
    }
  }

  /** Sends from the head of the queue up to batchBytes; always at least one, since a send is never split. */
  private takeBatch(): PendingSend<R>[] {
    const first = this.queue[this.head];
    let end = this.head + 1;
    let bytes = first.bytes;
    if (!first.alone) {
      while (
        end < this.queue.length &&
        !this.queue[end].alone &&
        bytes + this.queue[end].bytes <= this.options.batchBytes
      ) {
        bytes += this.queue[end].bytes;
        end++;
      }
    }
    const batch = this.queue.slice(this.head, end);
    this.head = end;
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    this.queuedBytes -= bytes;
    return batch;
  }

  private get queued(): number {
    return this.queue.length - this.head;
  }

  private armLinger(): void {
    if (this.lingerTimer) return;
    // linger 0 still yields once, so sends issued in the same tick (a Promise.all, a loop) share a request.
    const fire = () => {
      this.lingerTimer = undefined;
      this.lingerExpired = true;
      this.drain();
    };
    this.lingerTimer =
      this.options.lingerMs > 0
        ? setTimeout(fire, this.options.lingerMs)
        : (setImmediate(fire) as unknown as NodeJS.Timeout);
  }

  private clearLinger(): void {
    if (!this.lingerTimer) return;
    if (this.options.lingerMs > 0) clearTimeout(this.lingerTimer);
    else clearImmediate(this.lingerTimer as unknown as NodeJS.Immediate);
    this.lingerTimer = undefined;
  }

  private dispatch(batch: PendingSend<R>[]): void {
    this.inFlight++;
    const records = batch.length === 1 ? batch[0].records : batch.flatMap((send) => send.records);
    this.sendRequest(records).then(
      (offsets) => {
        let at = 0;
        for (const send of batch) {
          send.resolve(offsets.slice(at, at + send.records.length));
          at += send.records.length;
        }
        this.settled();
      },
      (error: unknown) => {
        if (batch.length > 1 && blamesRecords(error) && this.inFlight === 1) {
          // One bad record refuses its whole request; isolate the sends so the good ones still land.
          // Only when no later request is out: resending them after it would reorder the partition.
          for (const send of batch) send.alone = true;
          this.queue = [...batch, ...this.queue.slice(this.head)];
          this.head = 0;
          this.queuedBytes += batch.reduce((n, send) => n + send.bytes, 0);
        } else {
          for (const send of batch) send.reject(error);
        }
        this.settled();
      },
    );
  }

  private settled(): void {
    this.inFlight--;
    this.drain();
  }
}

/** A refusal caused by the content of some record (invalid, too large), not by the topic or the server. */
function blamesRecords(error: unknown): boolean {
  if (!(error instanceof FloeError) || error.retriable) return false;
  const status = (error as { status?: number }).status;
  return status === 400 || status === 413;
}
