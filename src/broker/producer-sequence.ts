import { FloeError } from "../errors.js";
import { nextSequence } from "../log/record-batch.js";
import type { Doc } from "../storage/ports.js";

/**
 * The idempotent producer's per-partition state (Kafka's ProducerStateEntry, KIP-98): the epoch it
 * last wrote with and its last batches, newest last. Pure logic: reading and writing the item is
 * the append's business (append.ts), expiring it maintenance's (producer-expiry.ts).
 */
export interface SequenceState {
  epoch: number;
  /** At most BATCHES_KEPT, oldest first. */
  batches: SequencedBatch[];
  /** When the producer last appended here (ms): producer.id.expiration.ms counts from it. */
  lastWrite: number;
}

/** One appended run of records: sequences first..first+count-1 (mod 2^31) at offsets base.. */
export interface SequencedBatch {
  first: number;
  count: number;
  base: number;
}

/**
 * Kafka's broker remembers the last 5 batches per producer and partition, which is why
 * max.in.flight.requests.per.connection may be at most 5 with idempotence: any retry of an
 * in-flight batch still finds its original among them.
 */
export const BATCHES_KEPT = 5;

export const MAX_PRODUCER_EPOCH = 32767;

export type SequenceDecision =
  | { kind: "append" }
  /** Already appended: answer the original base offset, append nothing. */
  | { kind: "duplicate"; base: number }
  | { kind: "refused"; error: FloeError };

/**
 * Decides what a batch of `count` records with base sequence `first` from a producer at `epoch`
 * does to a partition whose state is `state` (undefined: the producer never wrote here, or its
 * state expired). The same rules as Kafka's ProducerAppendInfo:
 * - an older epoch is fenced (a newer instance of the producer has initialised);
 * - a new epoch (or no state) must start at sequence 0;
 * - a batch equal to one of the last five is a duplicate, answered with its original offset;
 * - otherwise the sequence must follow the last one exactly.
 */
export function decideSequence(
  state: SequenceState | undefined,
  epoch: number,
  first: number,
  count: number,
): SequenceDecision {
  if (state && epoch < state.epoch) {
    return {
      kind: "refused",
      error: new FloeError(
        "INVALID_PRODUCER_EPOCH",
        `Producer epoch ${epoch} is older than the partition's ${state.epoch}: a newer instance of this producer has been initialised.`,
      ),
    };
  }
  if (!state || epoch > state.epoch) {
    if (first === 0) return { kind: "append" };
    return {
      kind: "refused",
      error: outOfOrder(
        state
          ? `the first batch of epoch ${epoch} must have sequence 0, got ${first}`
          : `this producer has no state on the partition (it never wrote here or its state expired), so its first batch must have sequence 0, got ${first}`,
      ),
    };
  }
  const original = state.batches.find((b) => b.first === first && b.count === count);
  if (original) return { kind: "duplicate", base: original.base };
  const last = state.batches[state.batches.length - 1];
  const expected = last ? nextSequence(last.first, last.count) : 0;
  if (first === expected) return { kind: "append" };
  return { kind: "refused", error: outOfOrder(`expected sequence ${expected}, got ${first}`) };
}

/** The state after appending the batch at `base`: the newest five batches kept. */
export function advanceSequence(
  state: SequenceState | undefined,
  epoch: number,
  batch: SequencedBatch,
  now: number,
): SequenceState {
  const kept = state && state.epoch === epoch ? state.batches : [];
  return { epoch, batches: [...kept, batch].slice(-BATCHES_KEPT), lastWrite: now };
}

/**
 * Retriable, as Kafka's producer treats it while an earlier batch is still in flight: a request
 * that overtook its predecessor (two HTTP connections) succeeds once that one has landed. A real
 * gap stays refused, so the retries run out.
 */
function outOfOrder(why: string): FloeError {
  return new FloeError(
    "OUT_OF_ORDER_SEQUENCE_NUMBER",
    `Out of order sequence number: ${why}; nothing was appended.`,
    {
      retriable: true,
    },
  );
}

export function sequenceStateToDoc(state: SequenceState): Doc {
  return {
    epoch: state.epoch,
    batches: state.batches.map((b) => ({ first: b.first, count: b.count, base: b.base })),
    lastWrite: state.lastWrite,
  };
}

export function sequenceStateFromDoc(doc: Doc): SequenceState {
  const batches = Array.isArray(doc.batches) ? doc.batches : [];
  return {
    epoch: Number(doc.epoch ?? 0),
    batches: batches.map((b) => {
      const d = b as Doc;
      return { first: Number(d.first), count: Number(d.count), base: Number(d.base) };
    }),
    lastWrite: Number(doc.lastWrite ?? 0),
  };
}
