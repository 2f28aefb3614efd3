import { toWire } from "./bytes.js";
import { FloeClientError } from "./client-error.js";
import { type HttpTransport, segment } from "./http-transport.js";
import { type RetryOptions, type RetryPolicy, retryPolicy } from "./retry.js";
import { TopicBatcher, type WireOffset } from "./topic-batcher.js";
import type { Message, ProducerRecord, RecordMetadata, WireRecordIn } from "./types.js";

export interface ProducerOptions {
  /**
   * Kafka's linger.ms. Default 0: Kafka 4.0 raised its default to 5 ms so the broker sees fewer,
   * larger batches, but here the server already group-commits concurrent requests (DESIGN §3), and
   * with one request in flight per topic sends queue up and coalesce by themselves under load, so an
   * idle producer pays no added latency and a busy one still batches.
   */
  lingerMs?: number;
  /** Kafka's batch.size, counted in estimated request bytes. Default 16384. */
  batchBytes?: number;
  /**
   * Kafka's max.in.flight.requests.per.connection, per topic. Default 1, which keeps sends (and
   * their retries) in order; more raises throughput but lets the server commit requests in any order.
   */
  maxInFlightRequests?: number;
  /** Backoff on retriable failures; defaults from the Floe client (5 retries, 100 ms doubling to 1 s). */
  retry?: RetryOptions;
}

/** JSON and base64 framing per record: `{"key":…,"value":…,"partition":…,"timestamp":…}`. */
const RECORD_OVERHEAD = 64;

/**
 * KafkaJS-shaped producer over `POST /v1/topics/{t}/records?encoding=base64`. Keys and values are
 * bytes; strings are sent as UTF-8. Delivery is at least once: a retry after a lost answer may
 * append a record twice, as in Kafka without idempotence.
 */
export class Producer {
  private readonly batchers = new Map<string, TopicBatcher>();
  private readonly retry: RetryPolicy;
  private readonly lingerMs: number;
  private readonly batchBytes: number;
  private readonly maxInFlight: number;
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
    await Promise.all([...this.batchers.values()].map((b) => b.flush()));
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
    if (record.messages.length === 0) return [];
    let bytes = 0;
    const wire = record.messages.map((message, i) => {
      const w = toWireRecord(message, i);
      bytes += estimateBytes(w);
      return w;
    });
    const offsets = await this.batcher(topic).add(wire, bytes);
    return offsets.map((o) => ({ topic, partition: o.partition, offset: o.offset }));
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

  private async produce(topic: string, records: WireRecordIn[]): Promise<WireOffset[]> {
    const answer = await this.transport.request<{ offsets?: WireOffset[] }>(
      "POST",
      `/v1/topics/${segment(topic)}/records`,
      {
        query: { encoding: "base64" },
        body: { records },
        retry: this.retry,
      },
    );
    if (!Array.isArray(answer?.offsets) || answer.offsets.length !== records.length) {
      throw new FloeClientError(
        "UNKNOWN_SERVER_ERROR",
        `the server acknowledged ${answer?.offsets?.length ?? "no"} offsets for ${records.length} records`,
      );
    }
    return answer.offsets;
  }
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
