import { FloeError } from "../errors.js";
import { murmur2, toPositive } from "../log/murmur2.js";
import { encodeRecordBatch, type LogRecord, nextSequence, type RecordHeader } from "../log/record-batch.js";
import { toBytes, toWire } from "./bytes.js";
import { FloeClientError } from "./client-error.js";
import { type HttpTransport, RECORD_BATCH_MEDIA_TYPE, segment, type WireProtocol } from "./http-transport.js";
import {
  PartitionSequence,
  type ProducerIdentity,
  ProducerIdentities,
  type Stamp,
  type Ticket,
} from "./idempotence.js";
import { type RetryOptions, type RetryPolicy, retryPolicy } from "./retry.js";
import { TopicBatcher, type WireOffset } from "./topic-batcher.js";
import type { Message, ProducerRecord, RecordMetadata, TopicDescription, WireRecordIn } from "./types.js";

export interface ProducerOptions {
  /**
   * Kafka's linger.ms. Default 0: Kafka 4.0 raised its default to 5 ms so the broker sees fewer,
   * larger batches, but here the server already group-commits concurrent requests (architecture §3), and
   * with one request in flight per topic sends queue up and coalesce by themselves under load, so an
   * idle producer pays no added latency and a busy one still batches.
   */
  lingerMs?: number;
  /** Kafka's batch.size, counted in estimated request bytes. Default 16384. */
  batchBytes?: number;
  /**
   * Kafka's max.in.flight.requests.per.connection, per partition (per topic for a non-idempotent
   * JSON producer). Default 1. With idempotence at most 5 (Kafka's rule: the server remembers each
   * producer's last 5 batches per partition), and order is kept whatever the number: a request that
   * overtakes an earlier one is refused (OUT_OF_ORDER_SEQUENCE_NUMBER) and resent once that one has
   * landed. Without idempotence, more than 1 lets the server commit requests in any order.
   */
  maxInFlightRequests?: number;
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
/** RecordBatch v2 framing per record, at most (varints at their widest), and per batch. */
const BATCH_RECORD_OVERHEAD = 26;
const BATCH_OVERHEAD = 61;
/** Kafka's default max.message.bytes, until the topic's own is known. */
const DEFAULT_MAX_MESSAGE_BYTES = 1_048_588;
/** Kafka's limit on max.in.flight.requests.per.connection with idempotence. */
const MAX_IN_FLIGHT_IDEMPOTENT = 5;
/** The producer retries itself (it must decide per answer what a retry may resend); the transport must not. */
const NO_RETRY: RetryPolicy = { retries: 0, initialRetryTime: 0, maxRetryTime: 0 };

/** A record ready for a batch, and where it goes. */
interface OutgoingRecord extends LogRecord {
  partition?: number;
  bytes: number;
}

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
 * KafkaJS-shaped producer. It partitions as Kafka's producer does (explicit partition, else
 * murmur2(key) mod N, else a sticky partition per batch) and sends each partition's records as
 * Kafka RecordBatch v2 bytes to `POST /v1/topics/{t}/partitions/{p}/records` (with `protocol:
 * "json"`, to `POST /v1/topics/{t}/records?encoding=base64` with explicit partitions). Keys and
 * values are bytes; strings are sent as UTF-8. Order is kept per partition.
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
  private readonly batchBytes: number;
  private readonly maxInFlight: number;
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
    this.lingerMs = nonNegative(options.lingerMs ?? 0, "lingerMs");
    this.batchBytes = nonNegative(options.batchBytes ?? 16_384, "batchBytes");
    this.maxInFlight = Math.max(1, nonNegative(options.maxInFlightRequests ?? 1, "maxInFlightRequests"));
    const idempotent = options.idempotent ?? true;
    if (typeof idempotent !== "boolean")
      throw new FloeClientError("INVALID_CONFIG", "idempotent must be true or false");
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
    this.protocol = options.protocol ?? "binary";
    if (this.protocol !== "binary" && this.protocol !== "json") {
      throw new FloeClientError(
        "INVALID_CONFIG",
        `protocol must be "binary" or "json", got ${String(this.protocol)}`,
      );
    }
    this.metadataMaxAgeMs = nonNegative(options.metadataMaxAgeMs ?? 300_000, "metadataMaxAgeMs");
  }

  /** Nothing to open over HTTP; kept so KafkaJS code ports unchanged. */
  async connect(): Promise<void> {}

  /** Delivers everything already sent, then refuses further sends. */
  async disconnect(): Promise<void> {
    this.closed = true;
    await this.flush();
  }

  /** Resolves once every send issued so far has been answered. */
  async flush(): Promise<void> {
    await Promise.all([...this.batchers.values(), ...this.partitionBatchers.values()].map((b) => b.flush()));
  }

  /** Appends the messages; resolves with each one's partition and offset, in message order. */
  async send(record: ProducerRecord): Promise<RecordMetadata[]> {
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
    return this.sendPartitioned(topic, outgoing, metadata);
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
   * batchBytes have gone to it, then another, so batches fill instead of scattering.
   */
  private stickyPartition(topic: string, partitions: number, bytes: number): number {
    let state = this.sticky.get(topic);
    if (!state || state.partition >= partitions || state.bytes >= this.batchBytes) {
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
          `/v1/topics/${segment(topic)}`,
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
        { lingerMs: this.lingerMs, batchBytes: this.batchBytes, maxInFlight: this.maxInFlight },
        (records) => this.produce(topic, records),
      );
      this.batchers.set(topic, batcher);
    }
    return batcher;
  }

  private partitionBatcher(topic: string, partition: number): TopicBatcher<OutgoingRecord> {
    const key = `${topic}\u0000${partition}`;
    let batcher = this.partitionBatchers.get(key);
    if (!batcher) {
      batcher = new TopicBatcher<OutgoingRecord>(
        { lingerMs: this.lingerMs, batchBytes: this.batchBytes, maxInFlight: this.maxInFlight },
        (records) =>
          this.identities
            ? this.produceSequenced(topic, partition, records)
            : this.produceBatches(topic, partition, records),
      );
      this.partitionBatchers.set(key, batcher);
    }
    return batcher;
  }

  private sequence(topic: string, partition: number): PartitionSequence {
    const key = `${topic}\u0000${partition}`;
    let sequence = this.sequences.get(key);
    if (!sequence) {
      sequence = new PartitionSequence(this.identities as ProducerIdentities);
      this.sequences.set(key, sequence);
    }
    return sequence;
  }

  /**
   * One idempotent request to one partition: stamped once, in dispatch order, and retried with the
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
          const metadata = await this.topicMetadata(topic);
          const max = metadata?.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
          encoded = { stamp, send: this.encodeSequenced(topic, partition, records, stamp, max) };
        }
        try {
          const offsets = await encoded.send();
          sequence.close(ticket);
          return offsets;
        } catch (error) {
          const next = this.afterFailure(sequence, ticket, stamp, error);
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

  /** What an idempotent request does after a failed attempt. */
  private afterFailure(
    sequence: PartitionSequence,
    ticket: Ticket,
    stamp: Stamp,
    error: unknown,
  ): "wait" | "restamp" | "backoff" | "fail" {
    if (!(error instanceof FloeError)) return "fail";
    switch (error.code) {
      case "INVALID_PRODUCER_EPOCH":
      case "PRODUCER_FENCED": {
        const identities = this.identities as ProducerIdentities;
        if (identities.supersededByUs(stamp.identity)) {
          // Our own renewal fenced it; it goes again under the new epoch unless it may have landed already.
          if (ticket.uncertain && !ticket.restamp) return "fail";
          sequence.reset(ticket);
          return "restamp";
        }
        identities.fence(error as FloeClientError);
        return "fail";
      }
      case "UNKNOWN_PRODUCER_ID":
        sequence.reset(ticket);
        return "restamp";
      case "OUT_OF_ORDER_SEQUENCE_NUMBER":
        if (ticket.restamp) return "restamp";
        // An earlier request has not landed yet: resend once it has.
        if (sequence.hasEarlierUnresolved(ticket)) return "wait";
        sequence.reset(ticket);
        return "restamp";
      default:
        // Marked by an earlier request's refusal: it can never land under its stamp.
        if (ticket.restamp) return "restamp";
        if (!error.retriable) return "fail";
        if (mayHaveAppended(error)) ticket.uncertain = true;
        return "backoff";
    }
  }

  /** The request as it goes on every attempt under `stamp`: the same bytes each time. */
  private encodeSequenced(
    topic: string,
    partition: number,
    records: OutgoingRecord[],
    stamp: Stamp,
    maxMessageBytes: number,
  ): () => Promise<WireOffset[]> {
    const { producerId, producerEpoch } = stamp.identity;
    if (this.protocol === "json") {
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
    const body = encodeBatches(records, maxMessageBytes, {
      ...stamp.identity,
      baseSequence: stamp.baseSequence,
    });
    return () => this.postBatches(topic, partition, records.length, body, NO_RETRY);
  }

  private async produceBatches(
    topic: string,
    partition: number,
    records: OutgoingRecord[],
  ): Promise<WireOffset[]> {
    const metadata = await this.topicMetadata(topic);
    const body = encodeBatches(records, metadata?.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES);
    return this.postBatches(topic, partition, records.length, body, this.retry);
  }

  private async postBatches(
    topic: string,
    partition: number,
    count: number,
    body: Uint8Array,
    retry: RetryPolicy,
  ): Promise<WireOffset[]> {
    let answer: { baseOffset?: number; count?: number };
    try {
      const { bytes } = await this.transport.exchange(
        "POST",
        `/v1/topics/${segment(topic)}/partitions/${segment(partition)}/records`,
        { body, contentType: RECORD_BATCH_MEDIA_TYPE, accept: "application/json", retry },
      );
      answer = JSON.parse(bytes.toString("utf8")) as typeof answer;
    } catch (error) {
      // The topic was deleted or re-created, or lost partitions: learn it again before the next send.
      if (error instanceof FloeClientError && error.code === "UNKNOWN_TOPIC_OR_PARTITION")
        this.metadata.delete(topic);
      if (error instanceof SyntaxError) {
        throw new FloeClientError(
          "UNKNOWN_SERVER_ERROR",
          "the server answered a produce with something other than JSON",
        );
      }
      throw error;
    }
    const base = answer?.baseOffset;
    if (!Number.isSafeInteger(base) || answer.count !== count) {
      throw new FloeClientError(
        "UNKNOWN_SERVER_ERROR",
        `the server acknowledged ${answer?.count ?? "no"} records for ${count}`,
      );
    }
    return Array.from({ length: count }, (_, i) => ({ partition, offset: (base as number) + i }));
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
        `/v1/topics/${segment(topic)}/records`,
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

/**
 * Whether a failed attempt may have appended its records anyway: no answer came (a timeout, a lost
 * connection), or the server failed in a way that leaves the commit's outcome open.
 */
function mayHaveAppended(error: FloeError): boolean {
  const status = (error as { status?: number }).status;
  if (status === undefined) return true;
  return status >= 500 && error.code !== "NOT_LEADER_OR_FOLLOWER";
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

/**
 * The records as RecordBatch v2 bytes, split as Kafka's producer splits them so no batch passes
 * max.message.bytes. A record too large for any batch still goes alone: the server refuses it
 * with RECORD_TOO_LARGE, as it would over JSON.
 */
function encodeBatches(
  records: OutgoingRecord[],
  maxMessageBytes: number,
  producer?: { producerId: number; producerEpoch: number; baseSequence: number },
): Uint8Array {
  const batches: Uint8Array[] = [];
  let run: OutgoingRecord[] = [];
  let size = BATCH_OVERHEAD;
  let sequence = producer?.baseSequence ?? 0;
  // An idempotent request's batches carry consecutive sequences, as Kafka's do.
  const encode = (list: OutgoingRecord[]) => {
    const bytes = encodeRecordBatch(list, producer ? { ...producer, baseSequence: sequence } : {});
    sequence = nextSequence(sequence, list.length);
    return bytes;
  };
  for (const r of records) {
    if (run.length > 0 && size + r.bytes > maxMessageBytes) {
      batches.push(encode(run));
      run = [];
      size = BATCH_OVERHEAD;
    }
    run.push(r);
    size += r.bytes;
  }
  if (run.length > 0) batches.push(encode(run));
  return batches.length === 1 ? batches[0] : Buffer.concat(batches);
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

function nonNegative(value: number, name: string): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw new FloeClientError("INVALID_CONFIG", `${name} must be a number >= 0`);
  }
  return value;
}
