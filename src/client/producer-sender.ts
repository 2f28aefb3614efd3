import { FloeError, type KafkaErrorCode } from "../errors.js";
import { encodeRecordBatch } from "../log/record-batch.js";
import type { BufferMemory } from "./buffer-memory.js";
import { FloeClientError } from "./client-error.js";
import type { HttpTransport } from "./http-transport.js";
import type { PartitionSequence, ProducerIdentities, Stamp } from "./idempotence.js";
import {
  encodePartitionBatches,
  entryBytes,
  PARTITION_BATCHES_MEDIA_TYPE,
} from "./partition-batches-body.js";
import { partitionKey, type ProducerBatch, type RecordAccumulator } from "./record-accumulator.js";
import type { RetryPolicy } from "./retry.js";
import { afterFailure, type NextStep } from "./sequence-failure.js";

export interface SenderOptions {
  /** Kafka's max.request.size. */
  maxRequestSize: number;
  /** Kafka's max.in.flight.requests.per.connection. */
  maxInFlight: number;
  retry: RetryPolicy;
}

export interface SenderDeps {
  transport: HttpTransport;
  accumulator: RecordAccumulator;
  memory: BufferMemory;
  /** Set with idempotence. */
  identities: ProducerIdentities | undefined;
  sequence(topic: string, partition: number): PartitionSequence;
  /** The server does not know the topic or partition: its metadata is stale. */
  forgetTopic(topic: string): void;
}

/** A batch's encoded attempt, waiting for a request to carry it. */
interface Outbound {
  batch: ProducerBatch;
  bytes: Uint8Array;
  settle(outcome: { baseOffset: number } | { error: unknown }): void;
}

/** One entry's answer in the route's `results`. */
interface EntryResult {
  topic?: string;
  partition?: number;
  baseOffset?: number;
  count?: number;
  error?: { code?: string; message?: string; retriable?: boolean; status?: number };
}

/**
 * Kafka's Sender: takes batches from the accumulator while fewer than max.in.flight requests are
 * out, and sends every batch ready at that moment in one `POST /v1/records`. Each batch is then on
 * its own: answered with its own offsets or error, and retried (stamped as before, or again) in a
 * later request, with the idempotent producer's rules (sequence-failure.ts).
 *
 * Without idempotence a partition has at most one batch out (Kafka's guaranteeMessageOrder, which
 * Kafka needs only at max.in.flight 1 because one connection keeps order; HTTP requests on
 * separate connections may commit in any order, so here it always holds).
 */
export class ProducerSender {
  private inFlight = 0;
  private outbox: Outbound[] = [];
  private scheduled = false;
  private lingerTimer: NodeJS.Timeout | undefined;
  private lingerDue = Number.POSITIVE_INFINITY;
  /** Partitions with a batch out, for a producer without sequences. */
  private readonly muted = new Set<string>();
  constructor(
    private readonly options: SenderOptions,
    private readonly deps: SenderDeps,
  ) {}

  /** Looks for something to send on the next turn of the event loop (sends of one tick go together). */
  wake(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.run();
    });
  }

  private run(): void {
    const { maxInFlight, maxRequestSize } = this.options;
    while (this.inFlight < maxInFlight && this.outbox.length > 0) this.post(this.takeRequest());
    const muted = this.deps.identities ? undefined : this.muted;
    if (this.inFlight < maxInFlight && this.deps.accumulator.ready(this.deps.memory.exhausted, muted)) {
      const batches = this.deps.accumulator.drain(maxRequestSize, frameBytes, muted);
      for (const batch of batches) {
        if (muted) muted.add(partitionKey(batch.topic, batch.partition));
        void this.deliver(batch);
      }
    }
    this.armLinger(muted);
  }

  /** Wakes when the earliest waiting batch has lingered enough, unless a request's answer will wake it first. */
  private armLinger(muted: ReadonlySet<string> | undefined): void {
    if (this.inFlight >= this.options.maxInFlight) return;
    const due = this.deps.accumulator.nextExpiry(muted);
    if (due === undefined || due >= this.lingerDue) return;
    if (this.lingerTimer) clearTimeout(this.lingerTimer);
    this.lingerDue = due;
    this.lingerTimer = setTimeout(
      () => {
        this.lingerTimer = undefined;
        this.lingerDue = Number.POSITIVE_INFINITY;
        this.wake();
      },
      Math.max(0, due - Date.now()),
    );
  }

  /** Outbound attempts for one request: first come first, one per partition, up to max.request.size. */
  private takeRequest(): Outbound[] {
    const taken: Outbound[] = [];
    const rest: Outbound[] = [];
    const partitions = new Set<string>();
    let size = 0;
    for (const out of this.outbox) {
      const key = partitionKey(out.batch.topic, out.batch.partition);
      const bytes = entryBytes(out.batch.topic, out.bytes.length);
      if (partitions.has(key) || (taken.length > 0 && size + bytes > this.options.maxRequestSize)) {
        rest.push(out);
        continue;
      }
      partitions.add(key);
      taken.push(out);
      size += bytes;
    }
    this.outbox = rest;
    return taken;
  }

  private post(entries: Outbound[]): void {
    this.inFlight++;
    const body = encodePartitionBatches(
      entries.map((e) => ({ topic: e.batch.topic, partition: e.batch.partition, bytes: e.bytes })),
    );
    this.deps.transport
      .exchange("POST", "/v1/records", {
        body,
        contentType: PARTITION_BATCHES_MEDIA_TYPE,
        accept: "application/json",
        // Each batch decides for itself what a retry may resend (deliver); the transport must not.
        retry: { retries: 0, initialRetryTime: 0, maxRetryTime: 0 },
      })
      .then(
        ({ bytes }) => {
          const results = parseResults(bytes, entries.length);
          for (const [i, entry] of entries.entries()) entry.settle(outcomeOf(entry.batch, results[i]));
        },
        (error: unknown) => {
          for (const entry of entries) entry.settle({ error });
        },
      )
      .catch((error: unknown) => {
        for (const entry of entries) entry.settle({ error });
      })
      .finally(() => {
        this.inFlight--;
        this.wake();
      });
  }

  /** Hands one attempt to the next request with room for it. */
  private submit(batch: ProducerBatch, bytes: Uint8Array): Promise<number> {
    return new Promise((resolve, reject) => {
      let settled = false;
      this.outbox.push({
        batch,
        bytes,
        settle: (outcome) => {
          if (settled) return;
          settled = true;
          if ("error" in outcome) reject(outcome.error);
          else resolve(outcome.baseOffset);
        },
      });
      this.wake();
    });
  }

  /**
   * One batch from its first request until acknowledged or failed for good: stamped once, in drain
   * order (before any await), and resent with the same stamp, so the same bytes, until answered.
   */
  private async deliver(batch: ProducerBatch): Promise<void> {
    const { identities, transport } = this.deps;
    const sequence = identities ? this.deps.sequence(batch.topic, batch.partition) : undefined;
    const ticket = sequence?.open(batch.records.length);
    let encoded: { stamp: Stamp | undefined; bytes: Uint8Array } | undefined;
    let attempt = 0;
    try {
      for (;;) {
        const stamp = sequence && ticket ? await sequence.stamp(ticket) : undefined;
        if (!encoded || encoded.stamp !== stamp) {
          const producer = stamp && { ...stamp.identity, baseSequence: stamp.baseSequence };
          encoded = { stamp, bytes: encodeRecordBatch(batch.records, producer ?? {}) };
        }
        try {
          const baseOffset = await this.submit(batch, encoded.bytes);
          if (sequence && ticket) sequence.close(ticket);
          batch.resolve(baseOffset);
          return;
        } catch (error) {
          if (error instanceof FloeClientError && error.code === "UNKNOWN_TOPIC_OR_PARTITION")
            this.deps.forgetTopic(batch.topic);
          let next: NextStep;
          if (identities && sequence && ticket && stamp)
            next = afterFailure(identities, sequence, ticket, stamp, error);
          else next = error instanceof FloeError && error.retriable ? "backoff" : "fail";
          if (next === "wait" && sequence) {
            await sequence.wait();
            continue;
          }
          if (next === "fail" || attempt >= this.options.retry.retries) throw error;
          if (next === "backoff") await transport.backoff(this.options.retry, attempt);
          attempt++;
        }
      }
    } catch (error) {
      if (sequence && ticket) sequence.failed(ticket);
      batch.reject(error);
    } finally {
      this.deps.memory.release(batch.recordBytes);
      if (!identities && this.muted.delete(partitionKey(batch.topic, batch.partition))) this.wake();
    }
  }
}

function frameBytes(batch: ProducerBatch): number {
  return entryBytes(batch.topic, batch.bytes);
}

function parseResults(bytes: Buffer, expected: number): EntryResult[] {
  let answer: { results?: unknown };
  try {
    answer = JSON.parse(bytes.toString("utf8")) as { results?: unknown };
  } catch {
    throw new FloeClientError(
      "UNKNOWN_SERVER_ERROR",
      "the server answered a produce with something other than JSON",
    );
  }
  if (!Array.isArray(answer?.results) || answer.results.length !== expected) {
    throw new FloeClientError(
      "UNKNOWN_SERVER_ERROR",
      `the server answered ${Array.isArray(answer?.results) ? answer.results.length : "no"} outcomes for ${expected} partitions`,
    );
  }
  return answer.results as EntryResult[];
}

/** The entry's own outcome: its base offset, checked against what was sent, or its error. */
function outcomeOf(batch: ProducerBatch, result: EntryResult): { baseOffset: number } | { error: unknown } {
  if (result?.topic !== batch.topic || result.partition !== batch.partition) {
    return {
      error: new FloeClientError(
        "UNKNOWN_SERVER_ERROR",
        `the server answered for ${result?.topic}-${result?.partition} where ${batch.topic}-${batch.partition} was sent`,
      ),
    };
  }
  const failure = result.error;
  if (failure && typeof failure.code === "string") {
    return {
      error: new FloeClientError(failure.code as KafkaErrorCode, failure.message ?? failure.code, {
        retriable: failure.retriable === true,
        status: typeof failure.status === "number" ? failure.status : 500,
      }),
    };
  }
  if (!Number.isSafeInteger(result.baseOffset) || result.count !== batch.records.length) {
    return {
      error: new FloeClientError(
        "UNKNOWN_SERVER_ERROR",
        `the server acknowledged ${result.count ?? "no"} records for ${batch.records.length}`,
      ),
    };
  }
  return { baseOffset: result.baseOffset as number };
}
