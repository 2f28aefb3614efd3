import { messageId } from "./message-id.js";
import type { DeliveryRecord, DeliveryResult, DeliveryTarget, Subscription } from "./types.js";

/** Why a record went to the on-failure topic: Lambda's destination conditions for stream sources. */
export type FailureCondition = "RetryAttemptsExhausted" | "RecordAgeExceeded";

export interface FailedRecord {
  record: DeliveryRecord;
  condition: FailureCondition;
  /** The target's last answer (or the age limit) in words. */
  reason: string;
  /** Deliveries of the record attempted before it was given up on. */
  attempts: number;
}

export interface AttemptContext {
  /** Its settings decide retries, age, bisection and partial responses; it is handed to the target. */
  subscription: Subscription;
  target: DeliveryTarget;
  clock: () => number;
  sleep: (ms: number) => Promise<void>;
  random: () => number;
  /** Kafka's retry.backoff.ms: the first retry's backoff ceiling. */
  retryBackoffMs: number;
  /** Kafka's retry.backoff.max.ms: the ceiling the doubling stops at. */
  retryBackoffMaxMs: number;
  /** True once the partition is being given up: the attempt in flight finishes, no other starts. */
  stopping: () => boolean;
  /** Aborts an attempt in flight (a stop that could not wait any longer). */
  signal: AbortSignal;
  /** Told of every failed attempt (the partition's last error, its oldest undelivered record). */
  onFailedAttempt?: (reason: string, records: DeliveryRecord[], attempt: number) => void;
  /** Told as each retry starts, so a partition blocked on a failing target shows its retries as they happen. */
  onRetry?: () => void;
}

export interface ChunkOutcome {
  /** Records the target accepted. */
  delivered: number;
  /** Deliveries made past the chunk's first one: each re-sent records that had failed. */
  retried: number;
  /** What must go to the on-failure topic, in offset order. */
  failed: FailedRecord[];
  /**
   * Records left unsettled because the partition is stopping, in offset order; every record of the
   * chunk before the first of them is settled (delivered or in `failed`).
   */
  pending: DeliveryRecord[];
}

interface Piece {
  records: DeliveryRecord[];
  /** Deliveries of these records attempted so far. */
  attempts: number;
  /** The last attempt failed and the next one waits out a backoff first. */
  backoff: boolean;
}

/**
 * One chunk of a lane (at most batchSize records, offset order) through Lambda's stream-source
 * error handling (decision 0013 §3-5):
 * - a partial response accepts the records before the first failed one; it and the rest are retried
 *   (with `reportBatchItemFailures` off, as in Lambda, a successful call is success whatever it says);
 * - an error with `bisectBatchOnError` splits the batch in two, the halves delivered in order at once
 *   (a split is not a retry, so it needs no backoff and spends no retry quota; it ends at one record);
 *   a batch too large to send at all is split so whatever the setting says;
 * - otherwise the same records are retried after a backoff with full jitter: uniform in
 *   [0, min(retryBackoffMaxMs, retryBackoffMs·2^(n−1))) before the n-th retry;
 * - records that have failed more than `maximumRetryAttempts` times (−1: never give up) or are older
 *   than `maximumRecordAgeMs` (checked before every attempt; −1: no limit) are returned as failed.
 * Pieces are settled strictly front to back, so the settled records are always a prefix of the chunk.
 */
export async function deliverChunk(records: DeliveryRecord[], ctx: AttemptContext): Promise<ChunkOutcome> {
  const settings = ctx.subscription;
  const outcome: ChunkOutcome = { delivered: 0, retried: 0, failed: [], pending: [] };
  const queue: Piece[] = records.length === 0 ? [] : [{ records, attempts: 0, backoff: false }];
  let calls = 0;
  while (queue.length > 0) {
    const piece = queue[0];
    if (settings.maximumRecordAgeMs >= 0) expire(piece, ctx.clock() - settings.maximumRecordAgeMs, outcome);
    if (piece.records.length === 0) {
      queue.shift();
      continue;
    }
    if (ctx.stopping()) break;
    if (piece.backoff) {
      piece.backoff = false;
      await ctx.sleep(backoffMs(piece.attempts, ctx));
      continue; // the age and the stop are checked again after the wait
    }
    const attempt = piece.attempts + 1;
    if (++calls > 1) {
      outcome.retried++;
      ctx.onRetry?.();
    }
    const first = piece.records[0];
    const last = piece.records[piece.records.length - 1];
    const result = await deliverSafely(ctx, {
      subscription: ctx.subscription,
      messageId: messageId(
        ctx.subscription.incarnation,
        first.topic,
        first.partition,
        first.offset,
        last.offset,
      ),
      attempt,
      records: piece.records,
    });
    piece.attempts = attempt;
    const answer = interpret(result, piece.records, settings.reportBatchItemFailures);
    if (answer.accepted > 0) {
      outcome.delivered += answer.accepted;
      piece.records = piece.records.slice(answer.accepted);
    }
    if (answer.reason === undefined) {
      queue.shift();
      continue;
    }
    ctx.onFailedAttempt?.(answer.reason, piece.records, attempt);
    if ((settings.bisectBatchOnError || answer.tooLarge) && answer.wholeBatch && piece.records.length > 1) {
      const half = Math.ceil(piece.records.length / 2);
      queue.splice(
        0,
        1,
        { records: piece.records.slice(0, half), attempts: attempt, backoff: false },
        { records: piece.records.slice(half), attempts: attempt, backoff: false },
      );
    } else if (settings.maximumRetryAttempts >= 0 && attempt > settings.maximumRetryAttempts) {
      for (const record of piece.records) {
        outcome.failed.push({
          record,
          condition: "RetryAttemptsExhausted",
          reason: answer.reason,
          attempts: attempt,
        });
      }
      queue.shift();
    } else {
      piece.backoff = true;
    }
  }
  outcome.pending = queue.flatMap((p) => p.records).sort((a, b) => a.offset - b.offset);
  outcome.failed.sort((a, b) => a.record.offset - b.record.offset);
  return outcome;
}

/** Full jitter (the AWS Architecture Blog's): spreads retries of many partitions hitting one target. */
export function backoffMs(
  failedAttempts: number,
  settings: { retryBackoffMs: number; retryBackoffMaxMs: number; random: () => number },
): number {
  const ceiling = Math.min(
    settings.retryBackoffMaxMs,
    settings.retryBackoffMs * 2 ** Math.max(0, failedAttempts - 1),
  );
  return Math.floor(settings.random() * ceiling);
}

function expire(piece: Piece, oldestAllowed: number, outcome: ChunkOutcome): void {
  if (!piece.records.some((r) => r.timestamp < oldestAllowed)) return;
  const kept: DeliveryRecord[] = [];
  for (const record of piece.records) {
    if (record.timestamp < oldestAllowed) {
      outcome.failed.push({
        record,
        condition: "RecordAgeExceeded",
        reason: `The record is older than maximumRecordAgeMs (timestamp ${record.timestamp}, limit ${oldestAllowed}).`,
        attempts: piece.attempts,
      });
    } else {
      kept.push(record);
    }
  }
  piece.records = kept;
}

/** How many leading records were accepted, and why the rest failed (undefined: they did not). */
function interpret(
  result: DeliveryResult,
  records: DeliveryRecord[],
  reportBatchItemFailures: boolean,
): { accepted: number; reason?: string; wholeBatch: boolean; tooLarge?: boolean } {
  if (result.outcome === "success") return { accepted: records.length, wholeBatch: false };
  if (result.outcome === "error")
    return { accepted: 0, reason: result.reason, wholeBatch: true, tooLarge: result.tooLarge };
  if (!reportBatchItemFailures) return { accepted: records.length, wholeBatch: false };
  const index = records.findIndex((r) => r.offset === result.firstFailedOffset);
  if (index < 0) {
    // A target naming a record it was not sent: nothing it said can be trusted (Lambda fails the batch).
    return {
      accepted: 0,
      reason: `The target reported offset ${result.firstFailedOffset} failed, which is not in the batch: ${result.reason}`,
      wholeBatch: true,
    };
  }
  return { accepted: index, reason: result.reason, wholeBatch: index === 0 };
}

async function deliverSafely(
  ctx: AttemptContext,
  batch: Parameters<DeliveryTarget["deliver"]>[0],
): Promise<DeliveryResult> {
  try {
    return await ctx.target.deliver(batch, ctx.signal);
  } catch (e) {
    // Targets never throw by contract; one that does must not take the partition down with it.
    return { outcome: "error", reason: `The target threw: ${e instanceof Error ? e.message : String(e)}` };
  }
}
