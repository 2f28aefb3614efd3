import { ConditionFailedError, FloeError } from "../errors.js";
import { encodeRecordBatch, type LogRecord } from "../log/record-batch.js";
import { type ChunkEntry, encodeSegment } from "../log/segment.js";
import { MAX_TRANSACT_OPS, type MetaStore, type ObjectStore, type WriteOp } from "../storage/ports.js";
import type { AppendNotifier } from "./append-notifier.js";
import { backoffDelay, sleep } from "./backoff.js";
import { keys } from "./keys.js";
import { acceptClientBatches } from "./client-batches.js";
import { assignPartitions, type StickyPartitioner } from "./partitioner.js";
import type { SegmentRef } from "./segment-index.js";
import { segmentObjectKey } from "./segment-key.js";
import { headFromItem, headToDoc, type TopicAdmin, unknownPartition, unknownTopic } from "./topics.js";
import type { ProduceRecord, ProduceRequest, RecordOffset, Topic } from "./types.js";

export interface AppenderOptions {
  clock: () => number;
  random: () => number;
  /** Kafka's auto.create.topics.enable. */
  autoCreateTopics: boolean;
  /** Kafka's num.partitions: the partition count of auto-created topics. */
  defaultPartitions: number;
  /** Kafka's request.timeout.ms: how long an append keeps retrying a contended commit. */
  requestTimeoutMs: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  /**
   * Told of each committed chunk, with its bytes, before fetches waiting on the partition are woken:
   * a long-running process keeps them to serve tail reads without reading back what it just wrote.
   */
  onCommitted?: (chunk: CommittedChunk) => void;
}

/** A chunk as committed: where the index says it is, and its bytes as stored (baseOffset 0). */
export interface CommittedChunk {
  topicId: string;
  partition: number;
  segment: SegmentRef;
  bytes: Uint8Array;
}

/**
 * The binary fast path: RecordBatch v2 bytes the client encoded, one entry per run of batches for
 * a partition. They are validated (client-batches.ts) and stored without re-encoding, and take part
 * in group commit exactly like records.
 */
export interface BatchProduceRequest {
  topic: string;
  batches: { partition: number; bytes: Uint8Array }[];
}

export type AppendRequest = ProduceRequest | BatchProduceRequest;

export function isBatchRequest(request: AppendRequest): request is BatchProduceRequest {
  return "batches" in request;
}

/**
 * `offsets` holds one entry per record of a ProduceRequest, in request order; for a
 * BatchProduceRequest, one per `batches` entry: the base offset its first batch got.
 */
export type ProduceOutcome = { offsets: RecordOffset[] } | { error: FloeError };

/** Kafka's RecordBatch v2 header is 61 bytes. */
const BATCH_OVERHEAD = 61;
/** The most a record's framing can add to its key, value and header bytes (varints at their widest). */
const RECORD_FRAMING_MAX = 5 + 1 + 10 + 5 + 5 + 5 + 5;
const HEADER_FRAMING_MAX = 10;

/** One request, validated and encoded, waiting for its offsets. */
interface PreparedRequest {
  index: number;
  topic: Topic;
  /**
   * Per record (per `batches` entry for a batch request), in request order: its partition and its
   * position within this request's records for that partition.
   */
  placement: { partition: number; position: number }[];
  /** Per partition: this request's batches for it and how many records they hold. */
  partitions: Map<number, { batches: Uint8Array[]; count: number }>;
}

/** One partition's chunk in an object: the batches of every request that wrote to it. */
interface PartitionWrite {
  topic: Topic;
  partition: number;
  batches: Uint8Array[];
  count: number;
  /** Where each contributing request's records start within the chunk. */
  starts: Map<PreparedRequest, number>;
}

/**
 * Produce (DESIGN §3): validate and partition, encode one RecordBatch run per partition, PUT one
 * object holding every partition's chunk, then commit offsets for all of them in one conditional
 * metadata transaction. Nothing is acknowledged before that commit; a refused request appends
 * nothing. Several requests may be appended together (group commit): each is validated alone,
 * so one bad request never fails its neighbours.
 */
export class Appender {
  constructor(
    private readonly meta: MetaStore,
    private readonly objects: ObjectStore,
    private readonly topics: TopicAdmin,
    private readonly sticky: StickyPartitioner,
    private readonly notifier: AppendNotifier,
    private readonly options: AppenderOptions,
  ) {}

  async produce(requests: AppendRequest[]): Promise<ProduceOutcome[]> {
    const outcomes: ProduceOutcome[] = new Array(requests.length);
    const prepared: PreparedRequest[] = [];
    await Promise.all(
      requests.map(async (request, index) => {
        try {
          prepared.push(await this.prepare(request, index));
        } catch (e) {
          outcomes[index] = { error: asFloeError(e) };
        }
      }),
    );
    prepared.sort((a, b) => a.index - b.index);
    for (const group of commitGroups(prepared)) {
      try {
        const starts = await this.write(group);
        for (const request of group) {
          outcomes[request.index] = {
            offsets: request.placement.map(({ partition, position }) => ({
              partition,
              offset: starts.get(request)!.get(partition)! + position,
            })),
          };
        }
      } catch (e) {
        for (const request of group) outcomes[request.index] = { error: asFloeError(e) };
      }
    }
    return outcomes;
  }

  private async resolveTopic(name: string): Promise<Topic> {
    try {
      return await this.topics.cached(name);
    } catch (e) {
      if (
        !(e instanceof FloeError && e.code === "UNKNOWN_TOPIC_OR_PARTITION") ||
        !this.options.autoCreateTopics
      ) {
        throw e;
      }
      try {
        return await this.topics.create(name, this.options.defaultPartitions);
      } catch (created) {
        // Another producer created it first: use theirs.
        if (created instanceof FloeError && created.code === "TOPIC_ALREADY_EXISTS")
          return this.topics.get(name);
        throw created;
      }
    }
  }

  private async prepare(request: AppendRequest, index: number): Promise<PreparedRequest> {
    if (isBatchRequest(request)) return this.prepareBatches(request, index);
    if (!Array.isArray(request.records) || request.records.length === 0) {
      throw new FloeError("INVALID_REQUEST", "A produce request needs at least one record.");
    }
    const topic = await this.resolveTopic(request.topic);
    const now = this.options.clock();
    const logAppendTime = topic.config["message.timestamp.type"] === "LogAppendTime";
    const records = request.records.map((r, i) => toLogRecord(r, i, now, logAppendTime));
    const targets = assignPartitions(
      request.records.map((r) => ({ key: r.key ?? null, partition: r.partition })),
      topic.partitions,
      topic.name,
      this.sticky,
    );

    const byPartition = new Map<number, LogRecord[]>();
    const placement = targets.map((partition, i) => {
      let list = byPartition.get(partition);
      if (!list) byPartition.set(partition, (list = []));
      list.push(records[i]);
      return { partition, position: list.length - 1 };
    });

    const limit = topic.config["max.message.bytes"];
    const partitions = new Map<number, { batches: Uint8Array[]; count: number }>();
    for (const [partition, list] of byPartition) {
      partitions.set(partition, {
        batches: encodeWithinLimit(list, limit, request.records.length),
        count: list.length,
      });
    }
    return { index, topic, placement, partitions };
  }

  private async prepareBatches(request: BatchProduceRequest, index: number): Promise<PreparedRequest> {
    if (!Array.isArray(request.batches) || request.batches.length === 0) {
      throw new FloeError("INVALID_REQUEST", "A produce request needs at least one record batch.");
    }
    let topic = await this.resolveTopic(request.topic);
    // The cached topic may predate added partitions.
    if (request.batches.some((b) => b.partition >= topic.partitions))
      topic = await this.topics.get(request.topic);
    const logAppendTime =
      topic.config["message.timestamp.type"] === "LogAppendTime" ? this.options.clock() : undefined;
    const maxBatchBytes = topic.config["max.message.bytes"];
    const partitions = new Map<number, { batches: Uint8Array[]; count: number }>();
    const placement = request.batches.map(({ partition, bytes }) => {
      if (!Number.isInteger(partition) || partition < 0 || partition >= topic.partitions) {
        throw unknownPartition(topic.name, partition, topic.partitions);
      }
      if (!(bytes instanceof Uint8Array))
        throw new FloeError("INVALID_REQUEST", "Record batches must be bytes.");
      const accepted = acceptClientBatches(bytes, { maxBatchBytes, logAppendTime });
      let part = partitions.get(partition);
      if (!part) partitions.set(partition, (part = { batches: [], count: 0 }));
      const position = part.count;
      part.batches.push(...accepted.batches);
      part.count += accepted.records;
      return { partition, position };
    });
    return { index, topic, placement, partitions };
  }

  /** Writes one object for the group and commits it; answers each request's base offset per partition. */
  private async write(group: PreparedRequest[]): Promise<Map<PreparedRequest, Map<number, number>>> {
    const writes = new Map<string, PartitionWrite>();
    for (const request of group) {
      for (const [partition, part] of request.partitions) {
        const id = `${request.topic.topicId}#${partition}`;
        let w = writes.get(id);
        if (!w)
          writes.set(id, (w = { topic: request.topic, partition, batches: [], count: 0, starts: new Map() }));
        w.starts.set(request, w.count);
        w.batches.push(...part.batches);
        w.count += part.count;
      }
    }
    const parts = [...writes.values()];
    const { bytes, entries } = encodeSegment(
      parts.map((w) => ({ topicId: w.topic.topicId, partition: w.partition, data: concat(w.batches) })),
    );
    const objectKey = segmentObjectKey(this.options.clock());
    // Data first: once this resolves the bytes are durable, but invisible until the commit.
    await this.objects.put(objectKey, bytes);
    const bases = await this.commit(objectKey, parts, entries);

    const starts = new Map<PreparedRequest, Map<number, number>>();
    parts.forEach((w, i) => {
      for (const [request, start] of w.starts) {
        let m = starts.get(request);
        if (!m) starts.set(request, (m = new Map()));
        m.set(w.partition, bases[i] + start);
      }
      const entry = entries[i];
      this.options.onCommitted?.({
        topicId: w.topic.topicId,
        partition: w.partition,
        segment: {
          base: bases[i],
          end: bases[i] + w.count,
          key: objectKey,
          pos: entry.position,
          len: entry.length,
          count: w.count,
          minTs: entry.minTimestamp,
          maxTs: entry.maxTimestamp,
        },
        bytes: bytes.subarray(entry.position, entry.position + entry.length),
      });
      this.notifier.notify(w.topic.topicId, w.partition);
    });
    return starts;
  }

  /** The optimistic commit: heads as read, advanced by each chunk's count, in one transaction. */
  private async commit(objectKey: string, parts: PartitionWrite[], entries: ChunkEntry[]): Promise<number[]> {
    const deadline = this.options.clock() + this.options.requestTimeoutMs;
    const topics = new Map(parts.map((w) => [w.topic.name, w.topic]));
    for (let attempt = 0; ; attempt++) {
      const heads = await Promise.all(
        parts.map((w) => {
          const k = keys.head(w.topic.topicId, w.partition);
          return this.meta.get(k.pk, k.sk).then(headFromItem);
        }),
      );
      // Fencing against topic deletion, re-creation and config changes made since we read it.
      const ops: WriteOp[] = [...topics.values()].map((t) => ({
        type: "check",
        ...keys.topic(t.name),
        condition: { version: t.version },
      }));
      const checks = ops.length;
      parts.forEach((w, i) => {
        const head = heads[i];
        const entry = entries[i];
        const end = head.next + w.count;
        ops.push({
          type: "put",
          ...keys.head(w.topic.topicId, w.partition),
          data: headToDoc({ ...head, next: end, bytes: head.bytes + entry.length }),
          condition: head.version === 0 ? { absent: true } : { version: head.version },
        });
        ops.push({
          type: "put",
          ...keys.segment(w.topic.topicId, w.partition, end),
          data: {
            base: head.next,
            end,
            key: objectKey,
            pos: entry.position,
            len: entry.length,
            count: w.count,
            minTs: entry.minTimestamp,
            maxTs: entry.maxTimestamp,
          },
          condition: { absent: true },
        });
      });
      ops.push({
        type: "put",
        ...keys.objectRef(objectKey),
        data: {
          refs: parts.map((w) => `${w.topic.topicId}#${w.partition}`),
          size: entries.reduce((n, e) => Math.max(n, e.position + e.length), 0),
          createdAt: this.options.clock(),
        },
        condition: { absent: true },
      });

      try {
        await this.meta.transact(ops);
        return heads.map((h) => h.next);
      } catch (e) {
        if (!(e instanceof ConditionFailedError)) throw e;
        const topicChanged = e.failedIndexes.length === 0 || e.failedIndexes.some((i) => i < checks);
        if (topicChanged) await this.refreshTopics(topics);
        if (this.options.clock() >= deadline) {
          throw new FloeError(
            "REQUEST_TIMED_OUT",
            `Append could not commit within ${this.options.requestTimeoutMs} ms under contention; nothing was appended.`,
            { retriable: true, fault: "server", cause: e },
          );
        }
        await sleep(
          backoffDelay(attempt, this.options.backoffBaseMs, this.options.backoffMaxMs, this.options.random),
        );
      }
    }
  }

  /** After a failed topic check: carry on if only the version moved, fail if the topic is gone or re-created. */
  private async refreshTopics(topics: Map<string, Topic>): Promise<void> {
    for (const [name, before] of topics) {
      let now: Topic;
      try {
        now = await this.topics.get(name);
      } catch (e) {
        throw e instanceof FloeError && e.code === "UNKNOWN_TOPIC_OR_PARTITION" ? unknownTopic(name) : e;
      }
      if (now.topicId !== before.topicId) throw unknownTopic(name);
      topics.set(name, now);
    }
  }
}

/**
 * Requests whose partitions fit one transaction (one check per topic, a head and a segment item
 * per partition, one object ref) share an object; a request too wide for one is split.
 */
function* commitGroups(requests: PreparedRequest[]): Generator<PreparedRequest[]> {
  let group: PreparedRequest[] = [];
  let topicIds = new Set<string>();
  let partitions = new Set<string>();
  const opsFor = (t: Set<string>, p: Set<string>) => t.size + 2 * p.size + 1;
  for (const request of requests) {
    const t = new Set(topicIds).add(request.topic.topicId);
    const p = new Set(partitions);
    for (const partition of request.partitions.keys()) p.add(`${request.topic.topicId}#${partition}`);
    if (group.length > 0 && opsFor(t, p) > MAX_TRANSACT_OPS) {
      yield group;
      group = [];
      topicIds = new Set([request.topic.topicId]);
      partitions = new Set([...request.partitions.keys()].map((x) => `${request.topic.topicId}#${x}`));
    } else {
      topicIds = t;
      partitions = p;
    }
    group.push(request);
  }
  if (group.length > 0) yield group;
}

/** The widest one request may be: (100 ops - 1 check - 1 object ref) / 2 items per partition. */
export const MAX_PARTITIONS_PER_COMMIT = Math.floor((MAX_TRANSACT_OPS - 2) / 2);

function toLogRecord(r: ProduceRecord, i: number, now: number, logAppendTime: boolean): LogRecord {
  const bad = (what: string) => new FloeError("INVALID_RECORD", `Record ${i}: ${what}`);
  if (r === null || typeof r !== "object") throw bad("must be an object");
  if (r.value !== null && !(r.value instanceof Uint8Array)) throw bad("value must be bytes or null");
  if (r.key !== undefined && r.key !== null && !(r.key instanceof Uint8Array))
    throw bad("key must be bytes or null");
  const headers = r.headers ?? [];
  if (!Array.isArray(headers)) throw bad("headers must be a list");
  for (const h of headers) {
    if (typeof h?.key !== "string") throw bad("header keys must be strings");
    if (h.value !== null && !(h.value instanceof Uint8Array))
      throw bad(`header '${h.key}' value must be bytes or null`);
  }
  if (r.timestamp !== undefined && (!Number.isSafeInteger(r.timestamp) || r.timestamp < 0)) {
    throw bad(`timestamp must be a non-negative integer of milliseconds, got ${r.timestamp}`);
  }
  return {
    key: r.key ?? null,
    value: r.value,
    headers,
    timestamp: logAppendTime || r.timestamp === undefined ? now : r.timestamp,
  };
}

function upperBoundSize(r: LogRecord): number {
  let n = RECORD_FRAMING_MAX + (r.key?.length ?? 0) + (r.value?.length ?? 0);
  for (const h of r.headers) n += HEADER_FRAMING_MAX + Buffer.byteLength(h.key) + (h.value?.length ?? 0);
  return n;
}

/**
 * Splits a partition's records into batches no larger than max.message.bytes, as Kafka's producer
 * does; a record that cannot fit a batch on its own is RECORD_TOO_LARGE and fails the request.
 */
function encodeWithinLimit(records: LogRecord[], limit: number, total: number): Uint8Array[] {
  const batches: Uint8Array[] = [];
  let run: LogRecord[] = [];
  let size = BATCH_OVERHEAD;
  for (const r of records) {
    const n = upperBoundSize(r);
    if (run.length > 0 && size + n > limit) {
      batches.push(encodeRecordBatch(run));
      run = [];
      size = BATCH_OVERHEAD;
    }
    run.push(r);
    size += n;
  }
  if (run.length > 0) batches.push(encodeRecordBatch(run));
  for (const b of batches) {
    if (b.length > limit) {
      throw new FloeError(
        "RECORD_TOO_LARGE",
        `A record of ${b.length - BATCH_OVERHEAD} bytes is larger than max.message.bytes (${limit}); nothing from this request of ${total} records was appended.`,
      );
    }
  }
  return batches;
}

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function asFloeError(e: unknown): FloeError {
  if (e instanceof FloeError) return e;
  return new FloeError("UNKNOWN_SERVER_ERROR", e instanceof Error ? e.message : String(e), {
    fault: "server",
    cause: e,
  });
}
