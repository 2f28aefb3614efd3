import { FloeError } from "../errors.js";
import type { MetaStore } from "../storage/ports.js";
import { epochRefusal, type Piece, type PieceResult } from "./append-prepare.js";
import { keys } from "./keys.js";
import type { ProducerMeta, ProducerRegistry } from "./producer-registry.js";
import {
  advanceSequence,
  decideSequence,
  type SequenceState,
  sequenceStateFromDoc,
} from "./producer-sequence.js";

/** An idempotent producer's state on one partition as read, and the pieces that append to it now. */
export interface SequenceSlot {
  /** `${topicId}#${partition}`: the chunk it writes. */
  part: string;
  producerId: number;
  epoch: number;
  /** The state as read: each commit is conditional on `version`, and writes it advanced by `appends`. */
  read: SequenceState | undefined;
  version: number;
  appends: Piece[];
  /** `read` came from this process's cache, not the store. */
  cached?: boolean;
  /** What the last commit attempt would write; kept in the cache once it lands. */
  written?: SequenceState;
}

/** A round's decisions: the slots to commit (by sequenceKey), each producer's checked epoch version, the pieces left for the next round. */
export interface SequenceCheck {
  slots: Map<string, SequenceSlot>;
  epochs: Map<number, number>;
  deferred: Piece[];
}

export interface SequenceCheckerOptions {
  clock: () => number;
  /** How many partition states to keep from this process's own commits (0: none); see AppenderOptions. */
  cacheEntries: number;
}

/** How long a cached sequence state is used after this process last wrote it. */
const SEQUENCE_CACHE_TTL_MS = 60_000;

/** Producers one partition's share of a commit may carry (two items each: their check and sequence). */
const MAX_PRODUCERS_PER_PARTITION_COMMIT = 40;

export const sequenceKey = (producerId: number, topicId: string, partition: number) =>
  `${producerId}#${topicId}#${partition}`;

export function splitSequenceKey(id: string): [number, string, number] {
  const [producerId, topicId, partition] = id.split("#");
  return [Number(producerId), topicId, Number(partition)];
}

/** The slots that append, by the partition (`${topicId}#${partition}`) they write, with their sequenceKey. */
export function slotsByPart(slots: Map<string, SequenceSlot>): Map<string, [string, SequenceSlot][]> {
  const byPart = new Map<string, [string, SequenceSlot][]>();
  for (const [id, slot] of slots) {
    if (slot.appends.length === 0) continue;
    const list = byPart.get(slot.part);
    if (list) list.push([id, slot]);
    else byPart.set(slot.part, [[id, slot]]);
  }
  return byPart;
}

/** The slots whose partition (`${topicId}#${partition}`) is among `parts`, by sequenceKey. */
export function slotIdsIn(parts: Set<string>, slots: Map<string, SequenceSlot>): string[] {
  return [...slots].filter(([, slot]) => parts.has(slot.part)).map(([id]) => id);
}

/**
 * The idempotent producer's check in an append round (KIP-98, decision 0008): which pieces append,
 * which are duplicates answered with their original offsets, which are refused. In a long-running
 * process it keeps the states its own commits wrote (Kafka's broker keeps them in memory), so an
 * append need not read them back; the commit stays conditional on each state's version.
 */
export class SequenceChecker {
  /** Sequence states as this process last committed them, by sequenceKey; oldest first for eviction. */
  private readonly cache = new Map<string, { state: SequenceState; version: number }>();

  constructor(
    private readonly meta: MetaStore,
    private readonly producers: ProducerRegistry,
    private readonly options: SequenceCheckerOptions,
  ) {}

  /**
   * Reads each idempotent producer's live epoch and its state on the partitions it writes, and
   * decides every piece in request order: appended, a duplicate answered with its original
   * offsets, or refused. Pieces decided here get their result; the others are to append, recorded
   * in the returned slots (and the producers' epoch versions, which the commit checks).
   */
  async check(pieces: Piece[], results: Map<Piece, PieceResult>, fresh = false): Promise<SequenceCheck> {
    const slots = new Map<string, SequenceSlot>();
    const epochs = new Map<number, number>();
    const live = new Map<number, Promise<ProducerMeta | undefined>>();
    const reads: Promise<void>[] = [];
    for (const piece of pieces) {
      const producer = piece.request.producer;
      if (!producer) continue;
      if (!live.has(producer.producerId))
        live.set(producer.producerId, this.producers.lookup(producer.producerId));
      const id = sequenceKey(producer.producerId, piece.request.topic.topicId, piece.partition);
      if (slots.has(id)) continue;
      const slot: SequenceSlot = {
        part: `${piece.request.topic.topicId}#${piece.partition}`,
        producerId: producer.producerId,
        epoch: producer.producerEpoch,
        read: undefined,
        version: 0,
        appends: [],
      };
      slots.set(id, slot);
      const cached = fresh ? undefined : this.cache.get(id);
      // Young entries only: a state that expired (producer.id.expiration.ms) and restarted elsewhere
      // must never answer a duplicate from the old history.
      if (cached && this.options.clock() - cached.state.lastWrite < SEQUENCE_CACHE_TTL_MS) {
        slot.read = cached.state;
        slot.version = cached.version;
        slot.cached = true;
        continue;
      }
      const k = keys.producerSequence(producer.producerId, piece.request.topic.topicId, piece.partition);
      reads.push(
        this.meta.get(k.pk, k.sk).then((item) => {
          if (!item) return;
          slot.read = sequenceStateFromDoc(item.data);
          slot.version = item.version;
        }),
      );
    }
    const metas = new Map<number, ProducerMeta | undefined>();
    await Promise.all([
      ...reads,
      ...[...live].map(async ([id, meta]) => {
        metas.set(id, await meta);
      }),
    ]);
    const now = this.options.clock();
    const working = new Map<string, SequenceState | undefined>();
    const producersPerPartition = new Map<string, Set<number>>();
    const deferred: Piece[] = [];
    for (const piece of pieces) {
      const producer = piece.request.producer;
      if (!producer || piece.firstSequence === undefined) continue;
      const meta = metas.get(producer.producerId);
      const refused = epochRefusal(producer, meta);
      if (refused) {
        results.set(piece, { error: refused });
        continue;
      }
      const part = `${piece.request.topic.topicId}#${piece.partition}`;
      const id = sequenceKey(producer.producerId, piece.request.topic.topicId, piece.partition);
      const slot = slots.get(id)!;
      // Each producer writing a partition adds two items to its commit: past a bound, wait a round.
      const writers = producersPerPartition.get(part) ?? new Set<number>();
      producersPerPartition.set(part, writers);
      if (!writers.has(producer.producerId) && writers.size >= MAX_PRODUCERS_PER_PARTITION_COMMIT) {
        deferred.push(piece);
        continue;
      }
      const state = working.has(id) ? working.get(id) : slot.read;
      const decision = decideSequence(state, producer.producerEpoch, piece.firstSequence, piece.count);
      if (decision.kind === "refused" && slot.cached) {
        // Another process may have written since: decide everything again from the store.
        for (const p of pieces) results.delete(p);
        for (const key of slots.keys()) this.cache.delete(key);
        return this.check(pieces, results, true);
      }
      if (decision.kind === "refused") {
        results.set(piece, { error: decision.error });
      } else if (decision.kind === "duplicate") {
        // NaN: its original is in this very commit (a retry overtook the answer); ask again after.
        results.set(
          piece,
          Number.isNaN(decision.base)
            ? {
                error: new FloeError(
                  "OUT_OF_ORDER_SEQUENCE_NUMBER",
                  "The batch's original is being committed right now; retry.",
                  { retriable: true },
                ),
              }
            : { base: decision.base },
        );
      } else {
        working.set(
          id,
          advanceSequence(
            state,
            producer.producerEpoch,
            { first: piece.firstSequence, count: piece.count, base: Number.NaN },
            now,
          ),
        );
        writers.add(producer.producerId);
        slot.epoch = producer.producerEpoch;
        slot.appends.push(piece);
        epochs.set(producer.producerId, meta!.version);
      }
    }
    return { slots, epochs, deferred };
  }

  /** After a commit lost a race on these states: never trust the cached copies again. */
  forget(ids: string[]): void {
    for (const id of ids) this.cache.delete(id);
  }

  /** After a commit landed: its sequence items as written, at their new versions. */
  remember(ids: string[], slots: Map<string, SequenceSlot>): void {
    const limit = this.options.cacheEntries;
    if (limit <= 0) return;
    for (const id of ids) {
      const slot = slots.get(id)!;
      if (!slot.written || slot.appends.length === 0) continue;
      this.cache.delete(id);
      this.cache.set(id, { state: slot.written, version: slot.version + 1 });
    }
    for (const id of this.cache.keys()) {
      if (this.cache.size <= limit) break;
      this.cache.delete(id);
    }
  }
}
