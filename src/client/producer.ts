import { murmur2, toPositive } from "../log/murmur2.js";
import type { RecordHeader } from "../log/record-batch.js";
import { BufferMemory } from "./buffer-memory.js";
import { toBytes, toWire } from "./bytes.js";
import { FloeClientError } from "./client-error.js";
import { type HttpTransport, topicSegment, type WireProtocol } from "./http-transport.js";
import { PartitionSequence, type ProducerIdentity, ProducerIdentities, type Stamp } from "./idempotence.js";
import { ProducerSender } from "./producer-sender.js";
import {
  BATCH_OVERHEAD,
  type OutgoingRecord,
  type ProducerBatch,
  partitionKey,
  RecordAccumulator,
} from "./record-accumulator.js";
import { type RetryOptions, type RetryPolicy, retryPolicy } from "./retry.js";
import { afterFailure } from "./sequence-failure.js";
import { TopicBatcher, type WireOffset } from "./topic-batcher.js";
import type { Message, ProducerRecord, RecordMetadata, TopicDescription, WireRecordIn } from "./types.js";

export interface ProducerOptions {
  /**
   * Kafka's batch.size: the most bytes (encoded, at most) one partition's batch grows to before it
   * goes. A record larger than that goes in a batch of its own. Default 16384.
   */
  batchSize?: number;
  /** The earlier name of batchSize, still accepted; batchSize wins when both are given. */
  batchBytes?: number;
  /**
   * Kafka's linger.ms: how long a batch that is not full waits for more records before it goes.
   * Default 5 (Kafka 4.0's): a busy producer fills its batches anyway; an idle one pays at most
   * 5 ms for sending several partitions' batches in one request.
   */
  lingerMs?: number;
  /**
   * Kafka's max.request.size: the most bytes one request carries, the batches of every ready
   * partition of every topic together; a record larger than that is refused (MESSAGE_TOO_LARGE).
   * Default 1048576. The server takes at most 4 MiB per request.
   */
  maxRequestSize?: number;
  /**
   * Kafka's max.in.flight.requests.per.connection: requests out at once. Default 5, and at most 5
   * with idempotence (the server remembers each producer's last 5 batches per partition); order per
   * partition is kept either way: an idempotent batch that overtakes an earlier one is refused
   * (OUT_OF_ORDER_SEQUENCE_NUMBER) and resent once that one has landed, and without idempotence a
   * partition has one batch out at a time. With `protocol: "json"` it counts per partition
   * (idempotent) or per topic (not idempotent, where the default stays 1: the server partitions
   * those records and commits concurrent requests in any order).
   */
  maxInFlightRequests?: number;
  /**
   * Kafka's buffer.memory: the bytes of records sent but not yet acknowledged. A send that would
   * pass it waits (every batch held then goes at once) until acknowledgements make room. Default
   * 33554432.
   */
  bufferMemory?: number;
  /**
   * Kafka's max.block.ms: how long a send waits for bufferMemory before it fails with
   * REQUEST_TIMED_OUT (Kafka's TimeoutException). Default 60000.
   */
  maxBlockMs?: number;
  /**
   * Kafka's enable.idempotence. Default true (Kafka's default since 3.0): the producer gets an id
   * from `POST /v1/producers` on its first send and stamps every request with it and a sequence
   * per partition, so a retry after a lost answer or a timeout is answered with the original offsets
   * instead of appending twice. false: at-least-once, as before (a retry may append a record twice).
   */
  idempotent?: boolean;
  /**
   * Kafka's transactional.id, default none. Here only its fencing (Floe has no transactions): every
   * producer initialised with the same name gets the same producer id at a newer epoch, and the
   * previous instance's sends then fail with INVALID_PRODUCER_EPOCH, for good. Needs idempotence.
   */
  transactionalId?: string;
  /** Backoff on retriable failures; defaults from the Floe client (5 retries, 100 ms doubling to 1 s). */
  retry?: RetryOptions;
  /** Default "binary": records are encoded here as Kafka RecordBatch v2 and partitioned as Kafka's producer does. */
  protocol?: WireProtocol;
  /** Kafka's metadata.max.age.ms: how long a topic's partition count is trusted. Default 300000. */
  metadataMaxAgeMs?: number;
}

/** JSON and base64 framing per record: `{"key":…,"value":…,"partition":…,"timestamp":…}`. */
const RECORD_OVERHEAD = 64;
/** RecordBatch v2 framing per record, at most (varints at their widest). */
const BATCH_RECORD_OVERHEAD = 26;
/** Kafka's default max.message.bytes, until the topic's own is known. */
const DEFAULT_MAX_MESSAGE_BYTES = 1_048_588;
/** Kafka's limit on max.in.flight.requests.per.connection with idempotence. */
const MAX_IN_FLIGHT_IDEMPOTENT = 5;
/** The producer retries itself (it must decide per answer what a retry may resend); the transport must not. */
const NO_RETRY: RetryPolicy = { retries: 0, initialRetryTime: 0, maxRetryTime: 0 };

/** What the producer knows of a topic: enough to partition and to size batches. */
interface TopicMetadata {
  partitions: number;
  maxMessageBytes: number;
}

/** A cached metadata lookup; `null` means the topic did not exist when asked. */
interface MetadataEntry {
  value: Promise<TopicMetadata | null>;
  expires: number;
}

/**
 * KafkaJS-shaped producer built like Kafka's: it partitions as Kafka's producer does (explicit
 * partition, else murmur2(key) mod N, else a sticky partition per batch), gathers each partition's
 * records into batches (RecordAccumulator: batchSize, lingerMs, bufferMemory) and sends every ready
 * partition's batch, across topics, as Kafka RecordBatch v2 bytes in one `POST /v1/records`, up to
 * maxInFlightRequests at once (ProducerSender). With `protocol: "json"` it sends per topic (per
 * partition when idempotent) to `POST /v1/topics/{t}/records?encoding=base64` instead. Keys and
 * values are bytes; strings are sent as UTF-8. Order is kept per partition; send() resolves with
 * each message's partition and offset, in message order.
 *
 * Idempotent by default (Kafka's enable.idempotence, KIP-98; architecture §13): exactly once per
 * partition while the producer lives. Each request is stamped, once, with the producer's id, epoch
 * and the partition's next sequence, and every retry resends the same stamp, so a request whose
 * answer was lost (a timeout, a dropped connection, a 5xx) is retried safely: the server answers
 * a duplicate with its original offsets. A topic it cannot describe is looked up with
 * allowAutoTopicCreation (so `floe dev` creates it). On the server's answers:
 * - OUT_OF_ORDER_SEQUENCE_NUMBER while an earlier request of the partition is unresolved: that one
 *   has not landed yet; resent (same stamp) once it has settled, without using up a retry.
 * - OUT_OF_ORDER_SEQUENCE_NUMBER on the oldest unresolved request, or UNKNOWN_PRODUCER_ID (the
 *   producer's state expired): KIP-360, simplified. Neither request appended anything, so it and
 *   every later one of the partition are stamped again from sequence 0 under a new producer id
 *   (with a transactionalId, the same id at the next epoch), once the requests before them settled.
 * - INVALID_PRODUCER_EPOCH or PRODUCER_FENCED from another instance's initialisation: fatal, as
 *   Kafka's ProducerFencedException; this and every later send fail with it.
 * - A refusal (400, 404, 413, …) appended nothing: its sequences are handed out again, or, when
 *   later requests were stamped after it, those start over under a new identity.
 * A send that fails after its retries (or whose outcome is unknown when its partition must start
 * over) is reported to its caller, who may send it again: that new send is not deduplicated, as in
 * Kafka once delivery.timeout.ms passed.
 *
 * With `idempotent: false` delivery is at least once: a retry after a lost answer may append a
 * record twice, and a send to a topic the producer cannot describe goes over the JSON route so the
 * server can auto-create it.
 */
export class Producer {
  private readonly batchers = new Map<string, TopicBatcher>();
  private readonly partitionBatchers = new Map<string, TopicBatcher<OutgoingRecord>>();
  private readonly metadata = new Map<string, MetadataEntry>();
  private readonly sticky = new Map<string, { partition: number; bytes: number }>();
  private readonly retry: RetryPolicy;
  private readonly lingerMs: number;
  private readonly batchSize: number;
  private readonly maxRequestSize: number;
  private readonly maxInFlight: number;
  private readonly maxBlockMs: number;
  private readonly memory: BufferMemory;
  private readonly accumulator: RecordAccumulator;
  private readonly sender: ProducerSender;
  /** Sends not yet settled, so flush() can wait for them. */
  private readonly pending = new Set<Promise<unknown>>();
  private readonly protocol: WireProtocol;
  private readonly metadataMaxAgeMs: number;
  /** Set with idempotence: the producer's id and epoch, and each partition's sequence. */
  private readonly identities: ProducerIdentities | undefined;
  private readonly sequences = new Map<string, PartitionSequence>();
  private closed = false;

  constructor(
    private readonly transport: HttpTransport,
    options: ProducerOptions = {},
    defaultRetry?: RetryPolicy,
  ) {
    this.retry = retryPolicy(options.retry, defaultRetry);
    this.lingerMs = nonNegative(options.lingerMs ?? 5, "lingerMs");
    this.batchSize = nonNegative(options.batchSize ?? options.batchBytes ?? 16_384, "batchSize");
    this.maxRequestSize = positive(options.maxRequestSize ?? 1_048_576, "maxRequestSize");
    this.maxBlockMs = nonNegative(options.maxBlockMs ?? 60_000, "maxBlockMs");
    this.memory = new BufferMemory(positive(options.bufferMemory ?? 33_554_432, "bufferMemory"));
    const idempotent = options.idempotent ?? true;
    if (typeof idempotent !== "boolean")
      throw new FloeClientError("INVALID_CONFIG", "idempotent must be true or false");
    this.protocol = options.protocol ?? "binary";
    // A JSON producer without idempotence sends per topic and lets the server partition: one
    // request out per topic keeps its order, as before.
    const defaultInFlight = this.protocol === "json" && !idempotent ? 1 : 5;
    this.maxInFlight = Math.max(
      1,
      nonNegative(options.maxInFlightRequests ?? defaultInFlight, "maxInFlightRequests"),
    );
    if (idempotent && this.maxInFlight > MAX_IN_FLIGHT_IDEMPOTENT) {
      throw new FloeClientError(
        "INVALID_CONFIG",
        `maxInFlightRequests must be at most ${MAX_IN_FLIGHT_IDEMPOTENT} with idempotence (the server deduplicates a producer's last ${MAX_IN_FLIGHT_IDEMPOTENT} requests per partition); got ${this.maxInFlight}`,
      );
    }
    const transactionalId = options.transactionalId;
    if (transactionalId !== undefined) {
      if (!idempotent)
        throw new FloeClientError("INVALID_CONFIG", "transactionalId needs idempotence (idempotent: true)");
      if (typeof transactionalId !== "string" || transactionalId.length === 0)
        throw new FloeClientError("INVALID_CONFIG", "transactionalId must be a non-empty string");
    }
    this.identities = idempotent
      ? new ProducerIdentities(() =>
          this.transport.request<ProducerIdentity>("POST", "/v1/producers", {
            body: transactionalId === undefined ? {} : { transactionalId },
            retry: this.retry,
          }),
        )
      : undefined;
    if (this.protocol !== "binary" && this.protocol !== "json") {
      throw new FloeClientError(
        "INVALID_CONFIG",
        `protocol must be "binary" or "json", got ${String(this.protocol)}`,
      );
    }
    this.metadataMaxAgeMs = nonNegative(options.metadataMaxAgeMs ?? 300_000, "metadataMaxAgeMs");
    this.accumulator = new RecordAccumulator({ batchSize: this.batchSize, lingerMs: this.lingerMs });
    this.sender = new ProducerSender(
      { maxRequestSize: this.maxRequestSize, maxInFlight: this.maxInFlight, retry: this.retry },
      {
        transport,
        accumulator: this.accumulator,
        memory: this.memory,
        identities: this.identities,
        sequence: (topic, partition) => this.sequence(topic, partition),
        forgetTopic: (topic) => this.metadata.delete(topic),
      },
    );
  }

  /** Nothing to open over HTTP; kept so KafkaJS code ports unchanged. */
  async connect(): Promise<void> {}

  /** Delivers everything already sent, then refuses further sends. */
  async disconnect(): Promise<void> {
    this.closed = true;
    await this.flush();
  }

  /** Resolves once every send issued so far has been answered; batches still lingering go at once. */
  async flush(): Promise<void> {
    this.accumulator.beginFlush();
    this.sender.wake();
    try {
      await Promise.all([
        Promise.allSettled([...this.pending]),
        ...[...this.batchers.values(), ...this.partitionBatchers.values()].map((b) => b.flush()),
      ]);
    } finally {
      this.accumulator.endFlush();
    }
  }

  /** Appends the messages; resolves with each one's partition and offset, in message order. */
  send(record: ProducerRecord): Promise<RecordMetadata[]> {
    const sent = this.sendRecords(record);
    this.pending.add(sent);
    const forget = () => this.pending.delete(sent);
    sent.then(forget, forget);
    return sent;
  }

  private async sendRecords(record: ProducerRecord): Promise<RecordMetadata[]> {
    if (this.closed) throw new FloeClientError("INVALID_REQUEST", "the producer is disconnected");
    const topic = record?.topic;
    if (typeof topic !== "string" || topic.length === 0) {
      throw new FloeClientError("INVALID_TOPIC_EXCEPTION", "send() needs a topic name");
    }
    if (!Array.isArray(record.messages)) {
      throw new FloeClientError("INVALID_RECORD", `send() needs a messages array for topic "${topic}"`);
    }
    this.identities?.throwIfFenced();
    if (record.messages.length === 0) return [];
    if (this.protocol === "json" && !this.identities) return this.sendJson(topic, record.messages);
    const now = Date.now();
    const outgoing = record.messages.map((message, i) => toOutgoingRecord(message, i, now));
    const metadata = await this.topicMetadata(topic);
    // Unknown topic: the JSON route lets the server auto-create it (floe dev) or refuse it.
    if (metadata === null) return this.sendJson(topic, record.messages, true);
    if (this.protocol === "json") return this.sendPartitioned(topic, outgoing, metadata);
    return this.accumulate(topic, outgoing, metadata);
  }

  /**
   * Adds the records to their partitions' batches, in order, each once bufferMemory has room for
   * it (waiting at most maxBlockMs from the send), and answers once every batch is acknowledged.
   */
  private async accumulate(
    topic: string,
    records: OutgoingRecord[],
    metadata: TopicMetadata,
  ): Promise<RecordMetadata[]> {
    // Kafka's ensureValidRecordSize: a record that can never be sent is refused before any is added.
    for (const [i, r] of records.entries()) {
      const size = r.bytes + BATCH_OVERHEAD;
      const limit = Math.min(this.maxRequestSize, this.memory.total);
      if (size > limit) {
        throw new FloeClientError(
          "MESSAGE_TOO_LARGE",
          `message ${i} is ${size} bytes encoded, more than ${size > this.maxRequestSize ? `maxRequestSize (max.request.size) ${this.maxRequestSize}` : `bufferMemory (buffer.memory) ${this.memory.total}`}`,
        );
      }
    }
    const blockedUntil = Date.now() + this.maxBlockMs;
    const placed = new Array<{ batch: ProducerBatch; index: number }>(records.length);
    const batches = new Set<ProducerBatch>();
    for (let i = 0; i < records.length; i++) {
      const r = records[i];
      if (!this.memory.tryReserve(r.bytes)) {
        // Everything held goes now (the accumulator is exhausted), so acknowledgements free room.
        this.sender.wake();
        await this.memory.reserve(r.bytes, blockedUntil - Date.now());
      }
      const partition =
        r.partition ??
        (r.key !== null
          ? toPositive(murmur2(r.key)) % metadata.partitions
          : this.stickyPartition(topic, metadata.partitions, r.bytes));
      const at = this.accumulator.append(topic, partition, r, metadata.maxMessageBytes);
      placed[i] = at;
      batches.add(at.batch);
    }
    this.sender.wake();
    const bases = new Map<ProducerBatch, number>();
    await Promise.all([...batches].map(async (b) => bases.set(b, await b.result)));
    return placed.map(({ batch, index }) => ({
      topic,
      partition: batch.partition,
      offset: (bases.get(batch) as number) + index,
    }));
  }

  private async sendJson(
    topic: string,
    messages: Message[],
    unknownTopic = false,
  ): Promise<RecordMetadata[]> {
    let bytes = 0;
    const wire = messages.map((message, i) => {
      const w = toWireRecord(message, i);
      bytes += estimateBytes(w);
      return w;
    });
    const offsets = await this.batcher(topic).add(wire, bytes);
    // It exists now: look again, so the next send takes the binary path.
    if (unknownTopic) this.metadata.delete(topic);
    return offsets.map((o) => ({ topic, partition: o.partition, offset: o.offset }));
  }

  private async sendPartitioned(
    topic: string,
    records: OutgoingRecord[],
    metadata: TopicMetadata,
  ): Promise<RecordMetadata[]> {
    const byPartition = new Map<number, { records: OutgoingRecord[]; bytes: number; at: number[] }>();
    for (let i = 0; i < records.length; i++) {
      const r = records[i];
      const partition =
        r.partition ?? (r.key !== null ? toPositive(murmur2(r.key)) % metadata.partitions : -1);
      const key = partition < 0 ? this.stickyPartition(topic, metadata.partitions, r.bytes) : partition;
      let group = byPartition.get(key);
      if (!group) byPartition.set(key, (group = { records: [], bytes: 0, at: [] }));
      group.records.push(r);
      group.bytes += r.bytes;
      group.at.push(i);
    }
    const out = new Array<RecordMetadata>(records.length);
    await Promise.all(
      [...byPartition].map(async ([partition, group]) => {
        const offsets = await this.partitionBatcher(topic, partition).add(group.records, group.bytes);
        offsets.forEach((o, j) => {
          out[group.at[j]] = { topic, partition: o.partition, offset: o.offset };
        });
      }),
    );
    return out;
  }

  /**
   * Kafka's uniform sticky partitioner (KIP-794) for keyless records: one partition until about
   * batchSize bytes have gone to it, then another, so batches fill instead of scattering.
   */
  private stickyPartition(topic: string, partitions: number, bytes: number): number {
    let state = this.sticky.get(topic);
    if (!state || state.partition >= partitions || state.bytes >= this.batchSize) {
      let next = Math.floor(Math.random() * partitions);
      if (state && partitions > 1 && next === state.partition) next = (next + 1) % partitions;
      state = { partition: next, bytes: 0 };
      this.sticky.set(topic, state);
    }
    state.bytes += bytes;
    return state.partition;
  }

  /**
   * The topic's partition count and batch limit (Kafka's metadata request), cached for
   * metadataMaxAgeMs. A topic last sent to as unknown is looked up only once those JSON sends are
   * answered, so a switch to the binary path cannot overtake them.
   */
  private topicMetadata(topic: string): Promise<TopicMetadata | null> {
    const cached = this.metadata.get(topic);
    if (cached && cached.expires > Date.now()) return cached.value;
    const value = (async () => {
      // After the previous lookup's sends have queued, so a flush below covers them too.
      await cached?.value.catch(() => {});
      await this.batchers.get(topic)?.flush();
      try {
        const description = await this.transport.request<TopicDescription>(
          "GET",
          `/v1/topics/${topicSegment(topic)}`,
          {
            // Kafka's MetadataRequest.allow_auto_topic_creation: an idempotent producer needs the
            // partition count before its first send, so it asks the server to create the topic.
            query: this.identities ? { allowAutoTopicCreation: "true" } : undefined,
            retry: this.retry,
          },
        );
        const max = Number(description.config?.["max.message.bytes"]);
        return {
          partitions: description.partitions.length,
          maxMessageBytes: Number.isSafeInteger(max) && max > 0 ? max : DEFAULT_MAX_MESSAGE_BYTES,
        };
      } catch (error) {
        if (
          error instanceof FloeClientError &&
          error.code === "UNKNOWN_TOPIC_OR_PARTITION" &&
          !this.identities
        )
          return null;
        throw error;
      }
    })();
    const entry = { value, expires: Date.now() + this.metadataMaxAgeMs };
    this.metadata.set(topic, entry);
    // A failed lookup is not remembered.
    value.catch(() => {
      if (this.metadata.get(topic) === entry) this.metadata.delete(topic);
    });
    return value;
  }

  /** KafkaJS's sendBatch: several topics at once, answered in the order given. */
  async sendBatch(batch: { topicMessages: ProducerRecord[] }): Promise<RecordMetadata[]> {
    const results = await Promise.all(batch.topicMessages.map((r) => this.send(r)));
    return results.flat();
  }

  private batcher(topic: string): TopicBatcher {
    let batcher = this.batchers.get(topic);
    if (!batcher) {
      batcher = new TopicBatcher(
        { lingerMs: this.lingerMs, batchBytes: this.batchSize, maxInFlight: this.maxInFlight },
        (records) => this.produce(topic, records),
      );
      this.batchers.set(topic, batcher);
    }
    return batcher;
  }

  /** An idempotent JSON producer's batcher for one partition. */
  private partitionBatcher(topic: string, partition: number): TopicBatcher<OutgoingRecord> {
    const key = partitionKey(topic, partition);
    let batcher = this.partitionBatchers.get(key);
    if (!batcher) {
      batcher = new TopicBatcher<OutgoingRecord>(
        { lingerMs: this.lingerMs, batchBytes: this.batchSize, maxInFlight: this.maxInFlight },
        (records) => this.produceSequenced(topic, partition, records),
      );
      this.partitionBatchers.set(key, batcher);
    }
    return batcher;
  }

  private sequence(topic: string, partition: number): PartitionSequence {
    const key = partitionKey(topic, partition);
    let sequence = this.sequences.get(key);
    if (!sequence) {
      sequence = new PartitionSequence(this.identities as ProducerIdentities);
      this.sequences.set(key, sequence);
    }
    return sequence;
  }

  /**
   * One idempotent JSON request to one partition (the binary path's is ProducerSender.deliver): stamped once, in dispatch order, and retried with the
   * same stamp (so the same bytes) until answered; see the class comment for each answer.
   */
  private async produceSequenced(
    topic: string,
    partition: number,
    records: OutgoingRecord[],
  ): Promise<WireOffset[]> {
    const sequence = this.sequence(topic, partition);
    // Before any await: tickets are opened in the batcher's dispatch order.
    const ticket = sequence.open(records.length);
    let encoded: { stamp: Stamp; send: () => Promise<WireOffset[]> } | undefined;
    let attempt = 0;
    try {
      for (;;) {
        const stamp = await sequence.stamp(ticket);
        if (encoded?.stamp !== stamp) {
          encoded = { stamp, send: this.encodeSequenced(topic, partition, records, stamp) };
        }
        try {
          const offsets = await encoded.send();
          sequence.close(ticket);
          return offsets;
        } catch (error) {
          const next = afterFailure(this.identities as ProducerIdentities, sequence, ticket, stamp, error);
          if (next === "wait") {
            await sequence.wait();
            continue;
          }
          if (next === "fail" || attempt >= this.retry.retries) throw error;
          if (next === "backoff") await this.transport.backoff(this.retry, attempt);
          attempt++;
        }
      }
    } catch (error) {
      sequence.failed(ticket);
      throw error;
    }
  }

  /** The request as it goes on every attempt under `stamp`: the same bytes each time. */
  private encodeSequenced(
    topic: string,
    partition: number,
    records: OutgoingRecord[],
    stamp: Stamp,
  ): () => Promise<WireOffset[]> {
    const { producerId, producerEpoch } = stamp.identity;
    const body = {
      producerId,
      producerEpoch,
      sequences: [{ partition, baseSequence: stamp.baseSequence }],
      records: records.map((r) => toWireFromOutgoing(r, partition)),
    };
    return async () => {
      const offsets = await this.produce(topic, body.records, body, NO_RETRY);
      if (offsets.some((o) => o.partition !== partition || !Number.isSafeInteger(o.offset)))
        throw new FloeClientError(
          "UNKNOWN_SERVER_ERROR",
          `the server answered offsets outside partition ${partition} or without an offset`,
        );
      return offsets;
    };
  }

  private async produce(
    topic: string,
    records: WireRecordIn[],
    body: object = { records },
    retry: RetryPolicy = this.retry,
  ): Promise<WireOffset[]> {
    let answer: { offsets?: WireOffset[] };
    try {
      answer = await this.transport.request<{ offsets?: WireOffset[] }>(
        "POST",
        `/v1/topics/${topicSegment(topic)}/records`,
        { query: { encoding: "base64" }, body, retry },
      );
    } catch (error) {
      if (error instanceof FloeClientError && error.code === "UNKNOWN_TOPIC_OR_PARTITION")
        this.metadata.delete(topic);
      throw error;
    }
    if (!Array.isArray(answer?.offsets) || answer.offsets.length !== records.length) {
      throw new FloeClientError(
        "UNKNOWN_SERVER_ERROR",
        `the server acknowledged ${answer?.offsets?.length ?? "no"} offsets for ${records.length} records`,
      );
    }
    // A wide request appended in part answers an error in place of each failed record's offset.
    const failed = answer.offsets.find((o) => !Number.isSafeInteger(o?.offset));
    if (failed) throw partialFailure(answer.offsets);
    return answer.offsets;
  }
}

/** A JSON produce that committed only some partitions: the first failure, saying how many records landed. */
function partialFailure(offsets: unknown[]): FloeClientError {
  const failures = offsets.filter(
    (o): o is { error: { code: string; message?: string; retriable?: boolean } } =>
      typeof (o as { error?: { code?: unknown } })?.error?.code === "string",
  );
  const first = failures[0]?.error;
  if (!first)
    return new FloeClientError("UNKNOWN_SERVER_ERROR", "the server answered a record without an offset");
  return new FloeClientError(
    first.code as FloeClientError["code"],
    `${offsets.length - failures.length} of ${offsets.length} records were appended; the rest failed: ${first.message ?? first.code}`,
    { retriable: failures.every((f) => f.error.retriable === true), status: 200 },
  );
}

/** A validated record as the JSON route takes it (base64), in its partition. */
function toWireFromOutgoing(record: OutgoingRecord, partition: number): WireRecordIn {
  const wire: WireRecordIn = {
    value: record.value === null ? null : Buffer.from(record.value).toString("base64"),
    partition,
    timestamp: record.timestamp,
  };
  if (record.key !== null) wire.key = Buffer.from(record.key).toString("base64");
  if (record.headers.length > 0) {
    wire.headers = {};
    for (const h of record.headers)
      wire.headers[h.key] = h.value === null ? null : Buffer.from(h.value).toString("base64");
  }
  return wire;
}

function toWireRecord(message: Message, index: number): WireRecordIn {
  if (message === null || typeof message !== "object") {
    throw new FloeClientError("INVALID_RECORD", `message ${index} is not an object`);
  }
  if (message.value === undefined) {
    throw new FloeClientError("INVALID_RECORD", `message ${index} has no value (use null for a tombstone)`);
  }
  const wire: WireRecordIn = { value: toWire(message.value, `message ${index} value`) };
  if (message.key !== undefined) wire.key = toWire(message.key, `message ${index} key`);
  if (message.headers !== undefined) {
    wire.headers = {};
    for (const [name, value] of Object.entries(message.headers)) {
      if (value === undefined) continue;
      wire.headers[name] = toWire(value, `message ${index} header "${name}"`);
    }
  }
  if (message.partition !== undefined) {
    if (!Number.isInteger(message.partition) || message.partition < 0) {
      throw new FloeClientError("INVALID_RECORD", `message ${index} partition must be an integer >= 0`);
    }
    wire.partition = message.partition;
  }
  if (message.timestamp !== undefined) wire.timestamp = toTimestamp(message.timestamp, index);
  return wire;
}

/** Validates a message as toWireRecord does, keeping its bytes for a batch. */
function toOutgoingRecord(message: Message, index: number, now: number): OutgoingRecord {
  if (message === null || typeof message !== "object") {
    throw new FloeClientError("INVALID_RECORD", `message ${index} is not an object`);
  }
  if (message.value === undefined) {
    throw new FloeClientError("INVALID_RECORD", `message ${index} has no value (use null for a tombstone)`);
  }
  const value = recordBytes(message.value, `message ${index} value`);
  const key = message.key === undefined ? null : recordBytes(message.key, `message ${index} key`);
  let bytes = BATCH_RECORD_OVERHEAD + (key?.length ?? 0) + (value?.length ?? 0);
  const headers: RecordHeader[] = [];
  for (const [name, raw] of Object.entries(message.headers ?? {})) {
    if (raw === undefined) continue;
    const headerValue = recordBytes(raw, `message ${index} header "${name}"`);
    headers.push({ key: name, value: headerValue });
    bytes += 10 + Buffer.byteLength(name) + (headerValue?.length ?? 0);
  }
  let partition: number | undefined;
  if (message.partition !== undefined) {
    if (!Number.isInteger(message.partition) || message.partition < 0) {
      throw new FloeClientError("INVALID_RECORD", `message ${index} partition must be an integer >= 0`);
    }
    partition = message.partition;
  }
  // Kafka's producer stamps CreateTime itself; a LogAppendTime topic overrides it on the server.
  const timestamp = message.timestamp === undefined ? now : toTimestamp(message.timestamp, index);
  return { key, value, headers, timestamp, partition, bytes };
}

function recordBytes(value: Message["value"], what: string): Uint8Array | null {
  if (value === null) return null;
  // toWire refuses anything else in the words the JSON path uses.
  if (typeof value !== "string" && !(value instanceof Uint8Array)) toWire(value, what);
  return toBytes(value);
}

function toTimestamp(value: number | string | Date, index: number): number {
  const ms = value instanceof Date ? value.getTime() : Number(value);
  if (!Number.isSafeInteger(ms) || ms < 0) {
    throw new FloeClientError(
      "INVALID_RECORD",
      `message ${index} timestamp must be milliseconds since the epoch`,
    );
  }
  return ms;
}

function estimateBytes(record: WireRecordIn): number {
  let n = RECORD_OVERHEAD + (record.key?.length ?? 0) + (record.value?.length ?? 0);
  for (const [name, value] of Object.entries(record.headers ?? {}))
    n += name.length + (value?.length ?? 0) + 8;
  return n;
}

function positive(value: number, name: string): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw new FloeClientError("INVALID_CONFIG", `${name} must be a number > 0`);
  }
  return value;
}

function nonNegative(value: number, name: string): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw new FloeClientError("INVALID_CONFIG", `${name} must be a number >= 0`);
  }
  return value;
}
