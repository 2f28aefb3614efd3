import type { Broker } from "../../broker/broker.js";
import { type InflateBudget, inflateBudget } from "../../broker/client-batches.js";
import { readBatchHeader, readBatchHeaders } from "../../log/record-batch.js";
import { ERROR_NUMBERS, errorMessage, errorNumber, WireRefusal } from "../error-codes.js";
import { defineApi, type KafkaCore, NO_RESPONSE, type RequestContext } from "../kafka-api.js";
import { ProduceRequest, ProduceResponse } from "../protocol/messages/produce.js";
import type { MessageInput, MessageValue } from "../protocol/spec.js";

type Request = MessageValue<typeof ProduceRequest>;
type Response = MessageInput<typeof ProduceResponse>;
type PartitionResponse = NonNullable<
  NonNullable<Response["responses"]>[number]["partitionResponses"]
>[number];

/** A partition's append: where its records landed, or why they did not. */
type Appended = { baseOffset: number } | { error: unknown };

/** How long a partition's log start offset answered on success may be stale; it only ever grows. */
const LOG_START_TTL_MS = 5_000;

/**
 * Produce: each partition's batches are stored as the client sent them, through the same group
 * commit as the HTTP API, and answered once committed (acks 1 and -1 alike: the commit is the only
 * replica there is), or not at all with acks 0.
 *
 * Every partition is its own append, so each succeeds or fails on its own as in Kafka (a corrupt
 * batch for one partition does not refuse the others). All of them are handed to the group commit
 * before the handler first waits, so pipelined requests on a connection commit in the order sent,
 * which an idempotent producer's sequences rely on.
 */
export const produceApi = defineApi(ProduceRequest, ProduceResponse, {
  // librdkafka before 2.10 compresses gzip, snappy and lz4 only when a broker's Produce range
  // reaches v0 (it checks for message format v0/v1 support), and otherwise sends them uncompressed.
  // Kafka 4.0 advertises 0 and refuses v0-v2 for the same reason (KAFKA-18659); so does Floe.
  advertisedMinVersion: 0,
  handle(request, ctx) {
    const { core } = ctx;
    const acks = request.acks;
    if (acks !== 0 && acks !== 1 && acks !== -1) {
      return answerAll(request, ERROR_NUMBERS.INVALID_REQUIRED_ACKS, `acks must be -1, 0 or 1, got ${acks}.`);
    }
    // A producer that waits for no answer does not take its appends with it when it disconnects.
    const signal = acks === 0 ? undefined : ctx.signal;
    // The request's timeout bounds the wait for the commit; the broker's request.timeout.ms does too.
    const deadline = request.timeoutMs > 0 ? core.broker.now() + request.timeoutMs : undefined;
    // One allowance for inflating compressed batches across the whole request, not per partition.
    const inflate = inflateBudget();
    const appends = request.topicData.map((topic) => ({
      name: topic.name,
      partitions: topic.partitionData.map((p) => ({
        index: p.index,
        appended: append(core, request, topic.name, p.index, p.records, { deadline, signal, inflate }),
      })),
    }));
    if (acks === 0) return NO_RESPONSE;
    return answer(ctx, appends);
  },
  errorResponse(request, errorCode, message) {
    return answerAll(request, errorCode, message);
  },
});

/** Starts one partition's append (synchronously, so the group commit sees it in request order). */
function append(
  core: KafkaCore,
  request: Request,
  topic: string,
  partition: number,
  records: Uint8Array | null,
  control: { deadline?: number; signal?: AbortSignal; inflate: InflateBudget },
): Promise<Appended> {
  const refused = refusal(request, records);
  if (refused) return Promise.resolve({ error: refused });
  const bytes = records as Uint8Array;
  return core.produce({ topic, batches: [{ partition, bytes }], ...control }).then(
    ([first]) => ({ baseOffset: first.offset }),
    (error: unknown) => ({ error }),
  );
}

/** What the broker would not say in Kafka's words: no records, or a transaction Floe cannot join. */
function refusal(request: Request, records: Uint8Array | null): WireRefusal | undefined {
  if (request.transactionalId !== null) return noTransactions();
  if (records === null || records.length === 0) {
    return new WireRefusal("INVALID_RECORD", "The partition's records are empty.");
  }
  try {
    if (readBatchHeaders(records).some((h) => h.isTransactional)) return noTransactions();
  } catch {
    // Malformed batches: the broker's validation names what is wrong with them.
  }
  return undefined;
}

/** Kafka's answer to a transactional write to a partition that is not in a transaction (KIP-890). */
function noTransactions(): WireRefusal {
  return new WireRefusal(
    "INVALID_TXN_STATE",
    "Floe has no transactions: produce without transactional.id (idempotence alone is supported).",
  );
}

async function answer(
  ctx: RequestContext,
  appends: { name: string; partitions: { index: number; appended: Promise<Appended> }[] }[],
): Promise<Response> {
  const { broker } = ctx.core;
  const responses = await Promise.all(
    appends.map(async (topic) => ({
      name: topic.name,
      partitionResponses: await Promise.all(
        topic.partitions.map(async (p) => partitionResponse(broker, topic.name, p.index, await p.appended)),
      ),
    })),
  );
  return { responses, throttleTimeMs: 0 };
}

async function partitionResponse(
  broker: Broker,
  topic: string,
  index: number,
  appended: Appended,
): Promise<PartitionResponse> {
  if ("error" in appended) {
    const { error } = appended;
    const errorCode = errorNumber(error);
    // Clients read the log start offset with these two to tell a producer state lost to
    // retention (reset the sequence) from a real gap (fatal), so it must be current.
    const needsLogStart =
      errorCode === ERROR_NUMBERS.UNKNOWN_PRODUCER_ID ||
      errorCode === ERROR_NUMBERS.OUT_OF_ORDER_SEQUENCE_NUMBER;
    return {
      index,
      errorCode,
      errorMessage: errorMessage(error),
      baseOffset: -1,
      logStartOffset: needsLogStart ? await logStartOffset(broker, topic, index, true) : -1,
    };
  }
  const [logAppendTimeMs, logStart] = await Promise.all([
    logAppendTime(broker, topic, index, appended.baseOffset),
    logStartOffset(broker, topic, index, false),
  ]);
  return {
    index,
    errorCode: 0,
    baseOffset: appended.baseOffset,
    logAppendTimeMs,
    logStartOffset: logStart,
  };
}

/**
 * -1 for a CreateTime topic; for a LogAppendTime topic the time the broker stamped into the batch,
 * read back from the batch as committed (from the memory of this process's own commits).
 */
async function logAppendTime(broker: Broker, topic: string, partition: number, baseOffset: number) {
  try {
    const config = (await broker.topics.cached(topic)).config;
    if (config["message.timestamp.type"] !== "LogAppendTime") return -1;
    const stored = await broker.fetchRaw({ topic, partition, offset: baseOffset, maxBytes: 1 });
    return stored.batches > 0 ? readBatchHeader(stored.bytes).maxTimestamp : -1;
  } catch {
    return -1;
  }
}

const logStarts = new WeakMap<Broker, Map<string, { offset: number; expires: number }>>();

/** The partition's log start offset, from a short-lived memory unless `fresh`; -1 when unknown. */
async function logStartOffset(broker: Broker, topic: string, partition: number, fresh: boolean) {
  let known = logStarts.get(broker);
  if (!known) logStarts.set(broker, (known = new Map()));
  const key = `${topic}\u0000${partition}`;
  const hit = known.get(key);
  const now = broker.now();
  if (!fresh && hit && hit.expires > now) return hit.offset;
  try {
    const { offset } = await broker.listOffsets(topic, partition, "earliest");
    known.set(key, { offset, expires: now + LOG_START_TTL_MS });
    return offset;
  } catch {
    known.delete(key);
    return -1;
  }
}

/** The same error for every partition of the request. */
function answerAll(request: Request, errorCode: number, message: string | null): Response {
  return {
    responses: request.topicData.map((topic) => ({
      name: topic.name,
      partitionResponses: topic.partitionData.map((p) => ({
        index: p.index,
        errorCode,
        errorMessage: message,
        baseOffset: -1,
      })),
    })),
    throttleTimeMs: 0,
  };
}
