import type { Broker } from "../../broker/broker.js";
import { fetchLongPolled } from "../../broker/fetch-long-poll.js";
import type { RawFetchResult } from "../../broker/read-raw.js";
import { FloeError } from "../../errors.js";
import { readBatchHeader } from "../../log/record-batch.js";
import { ERROR_NUMBERS, errorNumber } from "../error-codes.js";
import { defineApi, type RequestContext } from "../kafka-api.js";
import { FetchRequest, FetchResponse } from "../protocol/messages/fetch.js";
import type { MessageInput, MessageValue } from "../protocol/spec.js";
import { topicNamesById } from "./topic-ids.js";

type Request = MessageValue<typeof FetchRequest>;
type Response = MessageInput<typeof FetchResponse>;

/** The longest a fetch waits for data (the broker's cap on max.wait.ms, as the HTTP fetch has). */
const MAX_WAIT_CAP_MS = 20_000;
/** Kafka's isolation.level=read_committed. */
const READ_COMMITTED = 1;

/** One requested partition, its topic resolved to a name (or the error that stopped it). */
interface Wanted {
  topic: string | undefined;
  topicId: string;
  partition: number;
  offset: number;
  maxBytes: number;
  /** Set when the partition cannot be read at all (an unknown topic id). */
  errorCode?: number;
}

/** What a partition answers: its records and marks, or an error. */
type Answer =
  | { ok: true; records: Uint8Array; highWatermark: number; logStartOffset: number }
  | { ok: false; errorCode: number; message: string | null };

/**
 * Fetch: stored batches returned as stored (base offsets patched), under Kafka's limits: max.bytes
 * for the answer, partitionMaxBytes per partition, both met at whole batches except that the first
 * batch of the first partition with data always goes out (KIP-74), so a consumer always progresses.
 * With less than min.bytes ready it long-polls up to max.wait.ms, woken by the next append to any of
 * the partitions; an error on any partition answers at once, as Kafka's broker does.
 *
 * Floe keeps no fetch sessions (KIP-227): every answer is full and carries session id 0, which
 * clients take as "no session" and keep sending full requests. An incremental request (a session
 * epoch above 0) is answered FETCH_SESSION_ID_NOT_FOUND, the answer to a session the broker evicted.
 */
export const fetchApi = defineApi(FetchRequest, FetchResponse, {
  async handle(request, ctx) {
    if (request.sessionEpoch > 0) {
      return {
        throttleTimeMs: 0,
        errorCode: ERROR_NUMBERS.FETCH_SESSION_ID_NOT_FOUND,
        sessionId: 0,
        responses: [],
      };
    }
    const wanted = await resolve(ctx.core.broker, request, ctx.apiVersion >= 13);
    const answers = await readLongPolled(ctx, request, wanted);
    return { throttleTimeMs: 0, errorCode: 0, sessionId: 0, responses: responsesOf(request, answers) };
  },
  errorResponse(request, errorCode, message) {
    const answers: Answer[] = request.topics.flatMap((t) =>
      t.partitions.map(() => ({ ok: false as const, errorCode, message })),
    );
    // v7+ carries the failure at the top as well; the partitions say it for older versions.
    return { throttleTimeMs: 0, errorCode, sessionId: 0, responses: responsesOf(request, answers) };
  },
});

/** The requested partitions in request order, topics named (by id from version 13). */
async function resolve(broker: Broker, request: Request, byId: boolean): Promise<Wanted[]> {
  const names = byId
    ? await topicNamesById(
        broker,
        request.topics.map((t) => t.topicId),
      )
    : undefined;
  const wanted: Wanted[] = [];
  for (const t of request.topics) {
    const topic = byId ? names?.get(t.topicId) : t.topic;
    let errorCode: number | undefined;
    if (topic === undefined) errorCode = ERROR_NUMBERS.UNKNOWN_TOPIC_ID;
    else if (byId) {
      // The name may since belong to a topic re-created under it: that is not the topic asked for.
      const current = await broker.topics.cached(topic).catch(() => undefined);
      if (current?.topicId !== t.topicId) errorCode = ERROR_NUMBERS.UNKNOWN_TOPIC_ID;
    }
    for (const p of t.partitions) {
      wanted.push({
        topic,
        topicId: t.topicId,
        partition: p.partition,
        offset: p.fetchOffset,
        maxBytes: p.partitionMaxBytes,
        errorCode,
      });
    }
  }
  return wanted;
}

/** Reads until min.bytes are ready, max.wait.ms has passed, a partition fails or the client left. */
function readLongPolled(ctx: RequestContext, request: Request, wanted: Wanted[]): Promise<Answer[]> {
  const { broker } = ctx.core;
  return fetchLongPolled(broker, {
    // A partition without a topic name has failed already, so it is never waited on.
    partitions: wanted.map((w) => ({ topic: w.topic as string, partition: w.partition })),
    minBytes: request.minBytes,
    maxBytes: request.maxBytes,
    maxWaitMs: Math.min(Math.max(0, request.maxWaitMs), MAX_WAIT_CAP_MS),
    cancelled: () => ctx.signal.aborted || ctx.stopping?.aborted === true,
    read: () => readOnce(broker, wanted, request.maxBytes),
    weigh: (a) => (a.ok ? { bytes: a.records.length, highWatermark: a.highWatermark } : "failed"),
  });
}

/**
 * One pass over the partitions. First every partition's marks (high-water mark, log start) at once,
 * which also finds the partitions with data; then their batches, a window at a time: as many
 * partitions as their limits fit in what is left of max.bytes, read concurrently, so neither a
 * long list of idle partitions nor a tiny partition limit makes a request read more than it answers.
 */
async function readOnce(broker: Broker, wanted: Wanted[], maxBytes: number): Promise<Answer[]> {
  const answers: Answer[] = await Promise.all(
    wanted.map((w) =>
      w.errorCode !== undefined
        ? { ok: false as const, errorCode: w.errorCode, message: null }
        : read(broker, w, 0, false),
    ),
  );
  const withData = wanted
    .map((_, i) => i)
    .filter((i) => {
      const a = answers[i];
      return a.ok && wanted[i].offset < a.highWatermark;
    });
  let remaining = Math.max(0, maxBytes);
  let answered = false;
  let next = 0;
  while (next < withData.length && remaining > 0) {
    const window: { index: number; limit: number }[] = [];
    let reserved = 0;
    while (next < withData.length) {
      const index = withData[next];
      const limit = Math.max(0, Math.min(wanted[index].maxBytes, remaining));
      if (window.length > 0 && reserved + limit > remaining) break;
      window.push({ index, limit });
      reserved += limit;
      next++;
    }
    const reads = await Promise.all(
      // Only the first partition with data may answer one batch past its limits (KIP-74). The marks
      // just read bound the batches, so the head is not read a second time.
      window.map((w, k) => read(broker, wanted[w.index], w.limit, !answered && k === 0, answers[w.index])),
    );
    for (let k = 0; k < window.length; k++) {
      let a = reads[k];
      // A partition after the first with data gets what is left once that one took its batch.
      if (a.ok && answered && a.records.length > remaining) {
        a = { ...a, records: wholeBatchesWithin(a.records, remaining) };
      }
      answers[window[k].index] = a;
      if (a.ok && a.records.length > 0) {
        remaining = Math.max(0, remaining - a.records.length);
        answered = true;
      }
    }
  }
  return answers;
}

/** One partition's batches up to `maxBytes` (0: only its marks), up to `marks` when already read. */
async function read(
  broker: Broker,
  w: Wanted,
  maxBytes: number,
  minOneBatch: boolean,
  marks?: Answer,
): Promise<Answer> {
  try {
    const r: RawFetchResult = await broker.fetchRaw({
      topic: w.topic as string,
      partition: w.partition,
      offset: w.offset,
      maxBytes: minOneBatch ? Math.max(1, maxBytes) : maxBytes,
      minOneBatch,
      marks: marks?.ok ? marks : undefined,
    });
    return {
      ok: true,
      records: r.bytes,
      highWatermark: r.highWatermark,
      logStartOffset: r.logStartOffset,
    };
  } catch (e) {
    return { ok: false, errorCode: errorNumber(e), message: e instanceof FloeError ? e.message : null };
  }
}

/** The leading whole batches of `bytes` that fit in `limit` bytes. */
function wholeBatchesWithin(bytes: Uint8Array, limit: number): Uint8Array {
  let end = 0;
  while (end < bytes.length) {
    const size = readBatchHeader(bytes, end).size;
    if (end + size > limit) break;
    end += size;
  }
  return bytes.subarray(0, end);
}

/** The answers in the request's order; the version's encoder writes the topic's name or its id. */
function responsesOf(request: Request, answers: Answer[]): Response["responses"] {
  let i = 0;
  const readCommitted = request.isolationLevel === READ_COMMITTED;
  return request.topics.map((t) => ({
    topic: t.topic,
    topicId: t.topicId,
    partitions: t.partitions.map((p) => {
      const a = answers[i++];
      if (!a.ok) {
        return {
          partitionIndex: p.partition,
          errorCode: a.errorCode,
          highWatermark: -1,
          lastStableOffset: -1,
          logStartOffset: -1,
          abortedTransactions: null,
          records: new Uint8Array(0),
        };
      }
      return {
        partitionIndex: p.partition,
        errorCode: 0,
        highWatermark: a.highWatermark,
        // No transactions: every offset below the high-water mark is stable.
        lastStableOffset: a.highWatermark,
        logStartOffset: a.logStartOffset,
        // Kafka sends an empty list to a read_committed consumer and null to the others.
        abortedTransactions: readCommitted ? [] : null,
        preferredReadReplica: -1,
        records: a.records,
      };
    }),
  }));
}
