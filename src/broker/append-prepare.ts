import { FloeError } from "../errors.js";
import { encodeRecordBatch, type LogRecord, nextSequence } from "../log/record-batch.js";
import { acceptClientBatches, type InflateBudget, inflateBudget } from "./client-batches.js";
import { assignPartitions, type StickyPartitioner } from "./partitioner.js";
import type { ProducerRegistry } from "./producer-registry.js";
import { MAX_PRODUCER_EPOCH } from "./producer-sequence.js";
import { type TopicAdmin, unknownPartition } from "./topics.js";
import type { AppendControl, ProduceRecord, ProduceRequest, ProducerFields, Topic } from "./types.js";

/**
 * The binary fast path: RecordBatch v2 bytes the client encoded, one entry per run of batches for
 * a partition. They are validated (client-batches.ts) and stored without re-encoding, and take part
 * in group commit exactly like records.
 */
export interface BatchProduceRequest extends AppendControl {
  topic: string;
  batches: { partition: number; bytes: Uint8Array }[];
  /**
   * How much compressed batches may inflate while they are checked (MAX_INFLATED_BYTES_PER_REQUEST):
   * a fresh allowance for this request unless given; a caller that splits one client request into
   * several (Kafka's Produce, POST /v1/records) passes one allowance to all of them.
   */
  inflate?: InflateBudget;
}

export type AppendRequest = ProduceRequest | BatchProduceRequest;

export function isBatchRequest(request: AppendRequest): request is BatchProduceRequest {
  return "batches" in request;
}

/** One request, validated and encoded, waiting for its offsets. */
export interface PreparedRequest {
  index: number;
  topic: Topic;
  /**
   * Per record (per `batches` entry for a batch request), in request order: its partition and its
   * position within this request's records for that partition.
   */
  placement: { partition: number; position: number }[];
  /** Per partition, this request's part of it: the unit that commits, fails or is deduplicated. */
  pieces: Piece[];
  producer?: { producerId: number; producerEpoch: number };
  /** The broker's clock value past which the append gives up before committing. */
  deadline: number;
  signal?: AbortSignal;
}

/** What became of a piece: appended (or a duplicate) at `base`, or refused. */
export type PieceResult = { base: number } | { error: FloeError };

/** One request's records for one partition. */
export interface Piece {
  request: PreparedRequest;
  partition: number;
  batches: Uint8Array[];
  count: number;
  /** The idempotent producer's sequence of the first record; undefined for a plain producer. */
  firstSequence?: number;
  /**
   * The batches' smallest and largest record timestamps when validation already scanned them
   * (client-encoded batches), so the segment writer does not inflate and scan them again.
   */
  timestamps?: { min: number; max: number };
}

export interface PrepareDeps {
  topics: Pick<TopicAdmin, "cachedOrCreated" | "get" | "exists" | "planned">;
  sticky: StickyPartitioner;
  producers: ProducerRegistry;
  clock: () => number;
  autoCreateTopics: boolean;
  defaultPartitions: number;
  requestTimeoutMs: number;
}

/** Kafka's RecordBatch v2 header is 61 bytes. */
const BATCH_OVERHEAD = 61;
/** The most a record's framing can add to its key, value and header bytes (varints at their widest). */
const RECORD_FRAMING_MAX = 5 + 1 + 10 + 5 + 5 + 5 + 5;
const HEADER_FRAMING_MAX = 10;

/**
 * Validates one request and encodes it into pieces, one per partition: everything that can refuse
 * it alone happens here, before any byte is written, so a refused request appends nothing.
 */
export async function prepareRequest(
  deps: PrepareDeps,
  request: AppendRequest,
  index: number,
): Promise<PreparedRequest> {
  const deadline = Math.min(
    request.deadline ?? Number.POSITIVE_INFINITY,
    deps.clock() + deps.requestTimeoutMs,
  );
  if (request.signal?.aborted) throw abandoned();
  const prepare = (d: PrepareDeps, r: AppendRequest) =>
    isBatchRequest(r) ? prepareBatches(d, r, index, deadline) : prepareRecords(d, r, index, deadline);
  if (deps.autoCreateTopics && !(await deps.topics.exists(request.topic))) {
    // Auto-creation is for a produce that would be accepted: the request is checked against the
    // topic it would create first, so a refused one leaves no topic behind. The trial inflates with
    // an allowance of its own, so the request's shared one is drawn once, by the real pass.
    const planned = deps.topics.planned(request.topic, deps.defaultPartitions);
    const wouldBe: PrepareDeps["topics"] = {
      cachedOrCreated: async () => planned,
      get: async () => planned,
      exists: async () => true,
      planned: () => planned,
    };
    await prepare(
      { ...deps, topics: wouldBe },
      isBatchRequest(request) ? { ...request, inflate: undefined } : request,
    );
  }
  return prepare(deps, request);
}

/** The answer to a request whose caller went away or whose deadline passed before its commit. */
export function abandoned(): FloeError {
  return new FloeError(
    "REQUEST_TIMED_OUT",
    "The request's deadline passed (or its caller went away) before it could commit; nothing was appended.",
    { retriable: true, fault: "server" },
  );
}

function resolveTopic(deps: PrepareDeps, name: string): Promise<Topic> {
  return deps.topics.cachedOrCreated(name, deps.autoCreateTopics ? deps.defaultPartitions : undefined);
}

async function prepareRecords(
  deps: PrepareDeps,
  request: ProduceRequest,
  index: number,
  deadline: number,
): Promise<PreparedRequest> {
  if (!Array.isArray(request.records) || request.records.length === 0) {
    throw new FloeError("INVALID_REQUEST", "A produce request needs at least one record.");
  }
  const producer = request.producer === undefined ? undefined : checkProducerFields(request.producer);
  const topic = await resolveTopic(deps, request.topic);
  const now = deps.clock();
  const logAppendTime = topic.config["message.timestamp.type"] === "LogAppendTime";
  const records = request.records.map((r, i) => toLogRecord(r, i, now, logAppendTime));
  if (producer) {
    // A retry must land exactly where the first attempt did, so the sticky choice cannot be used.
    const loose = request.records.findIndex((r) => r.partition === undefined && (r.key ?? null) === null);
    if (loose >= 0) {
      throw new FloeError(
        "INVALID_REQUEST",
        `Record ${loose} has neither a key nor a partition; an idempotent produce needs one of them on every record.`,
      );
    }
  }
  const targets = assignPartitions(
    request.records.map((r) => ({ key: r.key ?? null, partition: r.partition })),
    topic.partitions,
    topic.name,
    deps.sticky,
  );

  const byPartition = new Map<number, LogRecord[]>();
  const placement = targets.map((partition, i) => {
    let list = byPartition.get(partition);
    if (!list) byPartition.set(partition, (list = []));
    list.push(records[i]);
    return { partition, position: list.length - 1 };
  });

  const sequences = new Map(producer?.sequences.map((s) => [s.partition, s.baseSequence]));
  if (producer) {
    for (const partition of byPartition.keys()) {
      if (!sequences.has(partition)) {
        throw new FloeError(
          "INVALID_REQUEST",
          `The records go to partition ${partition}, which has no entry in sequences.`,
        );
      }
    }
    for (const partition of sequences.keys()) {
      if (!byPartition.has(partition)) {
        throw new FloeError(
          "INVALID_REQUEST",
          `sequences lists partition ${partition}, which no record goes to.`,
        );
      }
    }
  }

  const prepared: PreparedRequest = {
    index,
    topic,
    placement,
    pieces: [],
    producer: producer && { producerId: producer.producerId, producerEpoch: producer.producerEpoch },
    deadline,
    signal: request.signal,
  };
  const limit = topic.config["max.message.bytes"];
  for (const [partition, list] of byPartition) {
    const firstSequence = sequences.get(partition);
    prepared.pieces.push({
      request: prepared,
      partition,
      batches: encodeWithinLimit(
        list,
        limit,
        request.records.length,
        producer && { ...producer, firstSequence },
      ),
      count: list.length,
      firstSequence,
    });
  }
  if (prepared.producer) await checkEpoch(deps, prepared.producer);
  return prepared;
}

async function prepareBatches(
  deps: PrepareDeps,
  request: BatchProduceRequest,
  index: number,
  deadline: number,
): Promise<PreparedRequest> {
  if (!Array.isArray(request.batches) || request.batches.length === 0) {
    throw new FloeError("INVALID_REQUEST", "A produce request needs at least one record batch.");
  }
  let topic = await resolveTopic(deps, request.topic);
  // The cached topic may predate added partitions.
  if (request.batches.some((b) => b.partition >= topic.partitions))
    topic = await deps.topics.get(request.topic);
  const logAppendTime = topic.config["message.timestamp.type"] === "LogAppendTime" ? deps.clock() : undefined;
  const maxBatchBytes = topic.config["max.message.bytes"];
  const prepared: PreparedRequest = {
    index,
    topic,
    placement: [],
    pieces: [],
    deadline,
    signal: request.signal,
  };
  const pieces = new Map<number, Piece>();
  const inflate = request.inflate ?? inflateBudget();
  let idempotent: boolean | undefined;
  for (const { partition, bytes } of request.batches) {
    if (!Number.isInteger(partition) || partition < 0 || partition >= topic.partitions) {
      throw unknownPartition(topic.name, partition, topic.partitions);
    }
    if (!(bytes instanceof Uint8Array))
      throw new FloeError("INVALID_REQUEST", "Record batches must be bytes.");
    const accepted = acceptClientBatches(bytes, { maxBatchBytes, logAppendTime, inflate });
    const from = accepted.producer;
    if (idempotent !== undefined && idempotent !== (from !== undefined)) {
      throw new FloeError("INVALID_RECORD", "Some batches carry a producer id and others do not.");
    }
    idempotent = from !== undefined;
    if (from) {
      const current = prepared.producer;
      if (
        current &&
        (current.producerId !== from.producerId || current.producerEpoch !== from.producerEpoch)
      ) {
        throw new FloeError(
          "INVALID_RECORD",
          "The batches of one request carry different producer ids or epochs.",
        );
      }
      prepared.producer = { producerId: from.producerId, producerEpoch: from.producerEpoch };
    }
    let piece = pieces.get(partition);
    if (!piece) {
      piece = {
        request: prepared,
        partition,
        batches: [],
        count: 0,
        firstSequence: from?.firstSequence,
        timestamps: { ...accepted.timestamps },
      };
      pieces.set(partition, piece);
      prepared.pieces.push(piece);
    } else if (from && nextSequence(piece.firstSequence ?? 0, piece.count) !== from.firstSequence) {
      throw new FloeError(
        "OUT_OF_ORDER_SEQUENCE_NUMBER",
        `The batches for partition ${partition} do not continue each other's sequences.`,
      );
    }
    prepared.placement.push({ partition, position: piece.count });
    piece.batches.push(...accepted.batches);
    piece.count += accepted.records;
    const range = piece.timestamps;
    if (range) {
      range.min = Math.min(range.min, accepted.timestamps.min);
      range.max = Math.max(range.max, accepted.timestamps.max);
    }
  }
  if (prepared.producer) {
    if (prepared.producer.producerEpoch > MAX_PRODUCER_EPOCH)
      throw badProducer("producerEpoch is above 32767");
    await checkEpoch(deps, prepared.producer);
  }
  return prepared;
}

function checkProducerFields(fields: ProducerFields): ProducerFields {
  if (fields === null || typeof fields !== "object") throw badProducer("must be an object");
  const { producerId, producerEpoch, sequences } = fields;
  if (!Number.isSafeInteger(producerId) || producerId < 0)
    throw badProducer("producerId must be an integer >= 0");
  if (!Number.isInteger(producerEpoch) || producerEpoch < 0 || producerEpoch > MAX_PRODUCER_EPOCH) {
    throw badProducer(`producerEpoch must be an integer from 0 to ${MAX_PRODUCER_EPOCH}`);
  }
  if (!Array.isArray(sequences) || sequences.length === 0)
    throw badProducer("sequences must list each partition");
  const seen = new Set<number>();
  for (const s of sequences) {
    if (!Number.isInteger(s?.partition) || s.partition < 0)
      throw badProducer("a sequence's partition must be >= 0");
    if (!Number.isInteger(s.baseSequence) || s.baseSequence < 0 || s.baseSequence > 2 ** 31 - 1) {
      throw badProducer("baseSequence must be an int32 >= 0");
    }
    if (seen.has(s.partition)) throw badProducer(`partition ${s.partition} is listed twice in sequences`);
    seen.add(s.partition);
  }
  return fields;
}

function badProducer(why: string): FloeError {
  return new FloeError("INVALID_REQUEST", `Invalid idempotent producer fields: ${why}.`);
}

/**
 * Refuses early a producer that does not exist or whose epoch is not its live one (Kafka's
 * UNKNOWN_PRODUCER_ID / INVALID_PRODUCER_EPOCH); the commit re-checks the epoch item's version, so a
 * re-initialisation racing this request still fences it.
 */
async function checkEpoch(
  deps: PrepareDeps,
  producer: { producerId: number; producerEpoch: number },
): Promise<void> {
  let meta = await deps.producers.lookup(producer.producerId);
  if (!meta || meta.epoch !== producer.producerEpoch)
    meta = await deps.producers.lookup(producer.producerId, true);
  const refused = epochRefusal(producer, meta);
  if (refused) throw refused;
}

/** Why a request at `producer`'s epoch may not append given the producer's live `meta`; undefined when it may. */
export function epochRefusal(
  producer: { producerId: number; producerEpoch: number },
  meta: { epoch: number } | undefined,
): FloeError | undefined {
  if (!meta) {
    return new FloeError(
      "UNKNOWN_PRODUCER_ID",
      `Producer ${producer.producerId} does not exist or expired (producer.id.expiration.ms); initialise a new one with POST /v1/producers.`,
    );
  }
  if (meta.epoch === producer.producerEpoch) return undefined;
  return new FloeError(
    "INVALID_PRODUCER_EPOCH",
    `Producer ${producer.producerId} is at epoch ${meta.epoch}, not ${producer.producerEpoch}: a newer instance initialised with the same transactionalId has fenced this one.`,
  );
}

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
 * does; a record that cannot fit a batch on its own is RECORD_TOO_LARGE and fails the request. An
 * idempotent producer's batches carry its id, epoch and each batch's base sequence, as Kafka's do.
 */
function encodeWithinLimit(
  records: LogRecord[],
  limit: number,
  total: number,
  producer?: { producerId: number; producerEpoch: number; firstSequence?: number },
): Uint8Array[] {
  const batches: Uint8Array[] = [];
  let run: LogRecord[] = [];
  let size = BATCH_OVERHEAD;
  let sequence = producer?.firstSequence ?? -1;
  const flush = () => {
    batches.push(
      encodeRecordBatch(
        run,
        producer && {
          producerId: producer.producerId,
          producerEpoch: producer.producerEpoch,
          baseSequence: sequence,
        },
      ),
    );
    if (producer) sequence = nextSequence(sequence, run.length);
    run = [];
    size = BATCH_OVERHEAD;
  };
  for (const r of records) {
    const n = upperBoundSize(r);
    if (run.length > 0 && size + n > limit) flush();
    run.push(r);
    size += n;
  }
  if (run.length > 0) flush();
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
