import { concatBytes } from "../log/concat-bytes.js";
import { ConditionFailedError, FloeError } from "../errors.js";
import { type ChunkEntry, encodeSegment } from "../log/segment.js";
import {
  type Doc,
  MAX_TRANSACT_OPS,
  type MetaStore,
  type ObjectStore,
  type WriteOp,
} from "../storage/ports.js";
import type { AppendNotifier } from "./append-notifier.js";
import {
  type AppendRequest,
  abandoned,
  type Piece,
  type PieceResult,
  type PrepareDeps,
  type PreparedRequest,
  prepareRequest,
} from "./append-prepare.js";
import { backoffDelay, sleep as realSleep } from "./backoff.js";
import { keys } from "./keys.js";
import type { StickyPartitioner } from "./partitioner.js";
import type { ProducerRegistry } from "./producer-registry.js";
import { advanceSequence, sequenceStateToDoc } from "./producer-sequence.js";
import type { SegmentRef } from "./segment-index.js";
import { segmentObjectKey } from "./segment-key.js";
import {
  type SequenceCheck,
  SequenceChecker,
  type SequenceSlot,
  slotIdsIn,
  slotsByPart,
  splitSequenceKey,
} from "./sequence-check.js";
import { headFromItem, headToDoc, type TopicAdmin, unknownTopic } from "./topics.js";
import type { PartitionHead, RecordOffset, RecordOutcome, Topic } from "./types.js";

export {
  type AppendRequest,
  type BatchProduceRequest,
  isBatchRequest,
} from "./append-prepare.js";

export interface AppenderOptions {
  clock: () => number;
  random: () => number;
  /** Kafka's auto.create.topics.enable. */
  autoCreateTopics: boolean;
  /** Kafka's num.partitions: the partition count of auto-created topics. */
  defaultPartitions: number;
  /**
   * Kafka's request.timeout.ms: how long an append may take before it gives up, always before its
   * commit (a request's own deadline or abort may end it sooner).
   */
  requestTimeoutMs: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** Injected by the deterministic simulation; real timers otherwise. */
  sleep?: (ms: number) => Promise<void>;
  /**
   * Idempotent producers' per-partition states this process keeps from its own commits (0: none).
   * Kafka's broker holds them in memory (ProducerStateManager); here it spares a read per producer
   * and partition on every append in a long-running process that sees most of its producers' writes
   * (`floe dev`). A stale entry is never trusted for a decision that changes anything: the commit is
   * conditional on the version, and a refusal is re-checked against a fresh read.
   */
  producerStateCacheEntries?: number;
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
 * Per request: one entry per record of a ProduceRequest, in request order (per `batches` entry
 * for a BatchProduceRequest: the base offset its first batch got), or the error that refused all
 * of it. A wide request whose partitions committed apart may hold failures beside offsets.
 */
export type ProduceOutcome = { offsets: RecordOutcome[] } | { error: FloeError };

/**
 * Some partitions of a request committed and others did not (a request too wide for one commit,
 * architecture §3): Kafka's per-partition produce response. `outcomes` says which is which.
 */
export class PartialAppendError extends FloeError {
  readonly outcomes: RecordOutcome[];
  constructor(outcomes: RecordOutcome[]) {
    const failures = outcomes.filter((o): o is Exclude<RecordOutcome, RecordOffset> => "error" in o);
    const first = failures[0].error;
    super(
      first.code,
      `${outcomes.length - failures.length} of ${outcomes.length} records were appended; the rest failed: ${first.message}`,
      { retriable: failures.every((f) => f.error.retriable), fault: first.fault, cause: first },
    );
    this.outcomes = outcomes;
  }
}

/** A request's offsets, or the error that refused it (PartialAppendError when only some partitions committed). */
export function settleOutcome(outcome: ProduceOutcome): RecordOffset[] {
  if ("error" in outcome) throw outcome.error;
  if (outcome.offsets.some((o) => "error" in o)) throw new PartialAppendError(outcome.offsets);
  return outcome.offsets as RecordOffset[];
}

/** One partition's chunk in an object: the pieces of every request that wrote to it. */
interface PartitionWrite {
  topic: Topic;
  partition: number;
  pieces: Piece[];
  /** Where each piece's records start within the chunk. */
  starts: Map<Piece, number>;
  count: number;
  entry: ChunkEntry;
}

type Checked = Pick<SequenceCheck, "slots" | "epochs">;

/** What each op of a commit guards, to tell a lost race on a head from a fenced producer. */
type OpKind = "topic" | "producer" | "head" | "segment" | "sequence" | "ref";

/** The object's `obj#` item as this append last wrote it; undefined before any slice committed. */
interface RefState {
  version: number;
  refs: string[];
}

/**
 * Produce (architecture §3, decision 0008): validate and partition, encode one RecordBatch run per
 * partition, PUT one object holding every partition's chunk, then commit offsets in conditional
 * metadata transactions of at most MAX_TRANSACT_OPS items. Nothing is acknowledged before its
 * commit, and nothing commits once its request's deadline has passed or its caller went away.
 * Several requests may be appended together (group commit): each is validated and committed on its
 * own account, so one bad, stale or fenced request never fails its neighbours. Idempotent
 * producers' sequences are checked and advanced in the same transaction as the high-water mark.
 */
export class Appender {
  private readonly deps: PrepareDeps;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly sequences: SequenceChecker;

  constructor(
    private readonly meta: MetaStore,
    private readonly objects: ObjectStore,
    private readonly topics: TopicAdmin,
    sticky: StickyPartitioner,
    private readonly notifier: AppendNotifier,
    private readonly producers: ProducerRegistry,
    private readonly options: AppenderOptions,
  ) {
    this.deps = {
      topics,
      sticky,
      producers,
      clock: options.clock,
      autoCreateTopics: options.autoCreateTopics,
      defaultPartitions: options.defaultPartitions,
      requestTimeoutMs: options.requestTimeoutMs,
    };
    this.sleep = options.sleep ?? realSleep;
    this.sequences = new SequenceChecker(meta, producers, {
      clock: options.clock,
      cacheEntries: options.producerStateCacheEntries ?? 0,
    });
  }

  async produce(requests: AppendRequest[]): Promise<ProduceOutcome[]> {
    const outcomes: ProduceOutcome[] = new Array(requests.length);
    const prepared: PreparedRequest[] = [];
    await Promise.all(
      requests.map(async (request, index) => {
        try {
          prepared.push(await prepareRequest(this.deps, request, index));
        } catch (e) {
          outcomes[index] = { error: asFloeError(e) };
        }
      }),
    );
    prepared.sort((a, b) => a.index - b.index);
    const results = new Map<Piece, PieceResult>();
    await this.append(
      prepared.flatMap((r) => r.pieces),
      results,
    );
    for (const request of prepared) outcomes[request.index] = outcomeOf(request, results);
    return outcomes;
  }

  /** Rounds of sequence check, object and commits, until every piece is answered. */
  private async append(pieces: Piece[], results: Map<Piece, PieceResult>): Promise<void> {
    let pending = await this.settleTopics(pieces, results);
    for (let round = 0; pending.length > 0; round++) {
      if (round > 0) await this.sleep(this.backoff(round - 1));
      pending = this.dropAbandoned(pending, results);
      if (pending.length === 0) return;
      let checked: SequenceCheck;
      try {
        checked = await this.sequences.check(pending, results);
      } catch (e) {
        for (const piece of pending) results.set(piece, { error: asFloeError(e) });
        return;
      }
      const deferred = new Set(checked.deferred);
      const ready = pending.filter((p) => !results.has(p) && !deferred.has(p));
      pending = ready.length === 0 ? [] : await this.writeAndCommit(ready, checked, results);
      pending.push(...checked.deferred);
    }
  }

  /**
   * Group commit may hold requests that read one topic at different times: one from a stale cache
   * (an older topicId, or an older version) beside one that re-read it. Topics are matched by
   * topicId: requests for a topicId that is no longer the name's fail alone; the rest carry on.
   */
  private async settleTopics(pieces: Piece[], results: Map<Piece, PieceResult>): Promise<Piece[]> {
    const byName = new Map<string, Piece[]>();
    for (const piece of pieces) {
      const list = byName.get(piece.request.topic.name);
      if (list) list.push(piece);
      else byName.set(piece.request.topic.name, [piece]);
    }
    const out: Piece[] = [];
    for (const [name, list] of byName) {
      const first = list[0].request.topic;
      const mixed = list.some(
        (p) => p.request.topic.topicId !== first.topicId || p.request.topic.version !== first.version,
      );
      if (!mixed) {
        out.push(...list);
        continue;
      }
      const live = await this.liveTopic(name).catch((e: unknown) => asFloeError(e));
      for (const piece of list) {
        if (live instanceof FloeError) results.set(piece, { error: live });
        else if (live === undefined || piece.request.topic.topicId !== live.topicId) {
          results.set(piece, { error: staleTopic(name) });
        } else {
          piece.request.topic = live;
          out.push(piece);
        }
      }
    }
    return out;
  }

  private async liveTopic(name: string): Promise<Topic | undefined> {
    try {
      return await this.topics.get(name);
    } catch (e) {
      if (e instanceof FloeError && e.code === "UNKNOWN_TOPIC_OR_PARTITION") return undefined;
      throw e;
    }
  }

  private isAbandoned(piece: Piece): boolean {
    return piece.request.signal?.aborted === true || this.options.clock() >= piece.request.deadline;
  }

  private dropAbandoned(pieces: Piece[], results: Map<Piece, PieceResult>): Piece[] {
    return pieces.filter((piece) => {
      if (!this.isAbandoned(piece)) return true;
      results.set(piece, { error: abandoned() });
      return false;
    });
  }

  /** One object for the pieces, committed in slices that each fit one transaction; answers the pieces to try again. */
  private async writeAndCommit(
    pieces: Piece[],
    checked: Checked,
    results: Map<Piece, PieceResult>,
  ): Promise<Piece[]> {
    const parts = new Map<
      string,
      Omit<PartitionWrite, "entry"> & { batches: Uint8Array[]; timestamps?: { min: number; max: number } }
    >();
    for (const piece of pieces) {
      const id = `${piece.request.topic.topicId}#${piece.partition}`;
      let w = parts.get(id);
      if (!w) {
        w = {
          topic: piece.request.topic,
          partition: piece.partition,
          pieces: [],
          starts: new Map(),
          count: 0,
          batches: [],
          timestamps: piece.timestamps && { ...piece.timestamps },
        };
        parts.set(id, w);
      } else if (w.timestamps) {
        // Known only when every piece's range is (client batches); else encodeSegment scans.
        w.timestamps = piece.timestamps && {
          min: Math.min(w.timestamps.min, piece.timestamps.min),
          max: Math.max(w.timestamps.max, piece.timestamps.max),
        };
      }
      w.pieces.push(piece);
      w.starts.set(piece, w.count);
      w.batches.push(...piece.batches);
      w.count += piece.count;
    }
    const list = [...parts.values()];
    const { bytes, entries } = encodeSegment(
      list.map((w) => ({
        topicId: w.topic.topicId,
        partition: w.partition,
        data: concatBytes(w.batches),
        timestamps: w.timestamps,
      })),
    );
    const writes: PartitionWrite[] = list.map((w, i) => ({ ...w, entry: entries[i] }));
    const objectKey = segmentObjectKey(this.options.clock());
    const size = entries.reduce((n, e) => Math.max(n, e.position + e.length), 0);
    // Data first: once this resolves the bytes are durable, but invisible until a commit.
    try {
      await this.objects.put(objectKey, bytes);
    } catch (e) {
      for (const piece of pieces) results.set(piece, { error: asFloeError(e) });
      return [];
    }
    const retry: Piece[] = [];
    let ref: RefState | undefined;
    let fenced = false;
    for (const slice of sliceWrites(writes, checked.slots)) {
      if (fenced) {
        retry.push(...slice.flatMap((w) => w.pieces));
        continue;
      }
      const out = await this.commitSlice({ objectKey, bytes, size }, slice, checked, ref, results);
      ref = out.ref;
      fenced = out.fenced;
      retry.push(...out.retry);
    }
    return retry;
  }

  /**
   * The optimistic commit of one slice: heads as read, advanced by each chunk's count, with the
   * topic and producer checks, the sequence items and the object's refs, in one transaction.
   */
  private async commitSlice(
    object: { objectKey: string; bytes: Uint8Array; size: number },
    slice: PartitionWrite[],
    checked: Checked,
    ref: RefState | undefined,
    results: Map<Piece, PieceResult>,
  ): Promise<{ ref: RefState | undefined; fenced: boolean; retry: Piece[] }> {
    let writes = slice;
    const piecesOf = (ws: PartitionWrite[]) => ws.flatMap((w) => w.pieces);
    const giveUp = () => {
      const gone = piecesOf(writes).filter((p) => this.isAbandoned(p));
      if (gone.length === 0) return undefined;
      for (const piece of gone) results.set(piece, { error: abandoned() });
      // The rest shares chunks with what was dropped, so it needs an object of its own.
      return { ref, fenced: false, retry: piecesOf(writes).filter((p) => !results.has(p)) };
    };
    for (let attempt = 0; ; attempt++) {
      let heads: PartitionHead[];
      let ops: WriteOp[];
      let kinds: OpKind[];
      let refs: string[];
      try {
        heads = await Promise.all(
          writes.map((w) => {
            const k = keys.head(w.topic.topicId, w.partition);
            return this.meta.get(k.pk, k.sk).then(headFromItem);
          }),
        );
        refs = [...(ref?.refs ?? []), ...writes.map((w) => `${w.topic.topicId}#${w.partition}`)];
        ({ ops, kinds } = this.commitOps(object, writes, heads, checked, ref, refs));
      } catch (e) {
        for (const piece of piecesOf(writes)) results.set(piece, { error: asFloeError(e) });
        return { ref, fenced: false, retry: [] };
      }

      // Give up before the commit, never after it: checked with no await between it and the
      // transaction, so a request answered with a timeout appends nothing.
      const abandonedNow = giveUp();
      if (abandonedNow) return abandonedNow;
      let landed: boolean | undefined;
      try {
        await this.meta.transact(ops);
        landed = true;
      } catch (e) {
        if (e instanceof ConditionFailedError) {
          const failed = new Set(e.failedIndexes.length > 0 ? e.failedIndexes.map((i) => kinds[i]) : kinds);
          if (failed.has("producer") || failed.has("sequence")) {
            // Another commit of the same producer (a retry racing its original, a newer epoch)
            // moved its state: decide again from the new state, with an object of its own.
            for (const w of writes)
              for (const p of w.pieces)
                if (p.request.producer) this.producers.forget(p.request.producer.producerId);
            this.sequences.forget(slotIdsIn(partsOf(writes), checked.slots));
            return { ref, fenced: false, retry: piecesOf(writes) };
          }
          if (failed.has("topic")) writes = await this.dropDeadTopics(writes, results);
          if (writes.length === 0) return { ref, fenced: false, retry: [] };
          if (failed.has("ref")) {
            // Only garbage collection creates the item before our first commit (claiming an orphan
            // it judged abandoned), marks it collected or deletes it: the object is gone or going,
            // so these pieces need a new one. Otherwise maintenance dropped refs of our earlier
            // slices, or (a failure the store did not locate) the ref was never the problem.
            const now = await this.readRef(object.objectKey);
            const dead =
              now?.collected === true || (ref === undefined ? now !== undefined : now === undefined);
            if (dead) return { ref, fenced: true, retry: piecesOf(writes) };
            if (now) ref = now;
          }
          await this.sleep(this.backoff(attempt));
          continue;
        }
        // The transaction's outcome is unknown (a timeout, a lost connection): settle it.
        landed = await this.settle(object, ref, refs);
        if (landed === false) return { ref, fenced: true, retry: piecesOf(writes) };
        if (landed === undefined) {
          const unknown = asFloeError(e);
          for (const piece of piecesOf(writes)) {
            // An idempotent piece may simply go again: its sequence check makes the two attempts exclusive.
            if (!piece.request.producer)
              results.set(piece, {
                error: new FloeError(
                  unknown.code === "UNKNOWN_SERVER_ERROR" ? "KAFKA_STORAGE_ERROR" : unknown.code,
                  `The commit's outcome is unknown (${unknown.message}): the records may or may not have been appended. Retry; an idempotent producer's retry is never duplicated.`,
                  { retriable: true, fault: "server", cause: e },
                ),
              });
          }
          return { ref: undefined, fenced: true, retry: piecesOf(writes).filter((p) => !results.has(p)) };
        }
      }

      this.sequences.remember(slotIdsIn(partsOf(writes), checked.slots), checked.slots);
      writes.forEach((w, i) => {
        const base = heads[i].next;
        for (const [piece, start] of w.starts) results.set(piece, { base: base + start });
        this.options.onCommitted?.({
          topicId: w.topic.topicId,
          partition: w.partition,
          segment: segmentOf(w, base, object.objectKey),
          bytes: object.bytes.subarray(w.entry.position, w.entry.position + w.entry.length),
        });
        this.notifier.notify(w.topic.topicId, w.partition);
      });
      return { ref: { version: (ref?.version ?? 0) + 1, refs }, fenced: false, retry: [] };
    }
  }

  private commitOps(
    object: { objectKey: string; size: number },
    writes: PartitionWrite[],
    heads: PartitionHead[],
    { slots, epochs }: Checked,
    ref: RefState | undefined,
    refs: string[],
  ): { ops: WriteOp[]; kinds: OpKind[] } {
    const ops: WriteOp[] = [];
    const kinds: OpKind[] = [];
    const add = (kind: OpKind, op: WriteOp) => {
      ops.push(op);
      kinds.push(kind);
    };
    // Fencing against topic deletion, re-creation and config changes made since it was read.
    const topics = new Map(writes.map((w) => [w.topic.name, w.topic]));
    for (const t of topics.values())
      add("topic", { type: "check", ...keys.topic(t.name), condition: { version: t.version } });
    // Fencing against a newer epoch of each producer (InitProducerId rewrites its meta item).
    const producers = new Set<number>();
    for (const w of writes)
      for (const p of w.pieces) if (p.request.producer) producers.add(p.request.producer.producerId);
    for (const producerId of producers) {
      add("producer", {
        type: "check",
        ...keys.producer(producerId),
        condition: { version: epochs.get(producerId)! },
      });
    }
    const now = this.options.clock();
    const byPart = slotsByPart(slots);
    writes.forEach((w, i) => {
      const head = heads[i];
      const end = head.next + w.count;
      add("head", {
        type: "put",
        ...keys.head(w.topic.topicId, w.partition),
        data: headToDoc({ ...head, next: end, bytes: head.bytes + w.entry.length }),
        condition: head.version === 0 ? { absent: true } : { version: head.version },
      });
      add("segment", {
        type: "put",
        ...keys.segment(w.topic.topicId, w.partition, end),
        data: { ...segmentOf(w, head.next, object.objectKey) },
        condition: { absent: true },
      });
      for (const [id, slot] of byPart.get(`${w.topic.topicId}#${w.partition}`) ?? []) {
        let state = slot.read;
        for (const piece of slot.appends) {
          state = advanceSequence(
            state,
            slot.epoch,
            { first: piece.firstSequence!, count: piece.count, base: head.next + w.starts.get(piece)! },
            now,
          );
        }
        slot.written = state;
        const [producerId, topicId, partition] = splitSequenceKey(id);
        add("sequence", {
          type: "put",
          ...keys.producerSequence(producerId, topicId, partition),
          data: sequenceStateToDoc(state!),
          condition: slot.version === 0 ? { absent: true } : { version: slot.version },
        });
      }
    });
    add("ref", {
      type: "put",
      ...keys.objectRef(object.objectKey),
      data: { refs, size: object.size, createdAt: now },
      condition: ref ? { version: ref.version } : { absent: true },
    });
    return { ops, kinds };
  }

  /**
   * After a commit whose outcome is unknown: claim the object's ref item at the version that
   * commit expects, so it can never land later, or learn that it already did. true: it landed;
   * false: it never will; undefined: still unknown.
   */
  private async settle(
    object: { objectKey: string; size: number },
    ref: RefState | undefined,
    refs: string[],
  ): Promise<boolean | undefined> {
    const k = keys.objectRef(object.objectKey);
    const now = this.options.clock();
    const data: Doc = ref
      ? { refs: ref.refs, size: object.size, createdAt: now }
      : { refs: [], size: object.size, createdAt: now, emptiedAt: now };
    try {
      await this.meta.transact([
        { type: "put", ...k, data, condition: ref ? { version: ref.version } : { absent: true } },
      ]);
      return false;
    } catch (e) {
      if (!(e instanceof ConditionFailedError)) return undefined;
      const item = await this.meta.get(k.pk, k.sk).catch(() => undefined);
      const stored = Array.isArray(item?.data.refs) ? (item.data.refs as string[]) : [];
      return refs.every((r) => stored.includes(r)) ? true : undefined;
    }
  }

  private async readRef(objectKey: string): Promise<(RefState & { collected: boolean }) | undefined> {
    const k = keys.objectRef(objectKey);
    const item = await this.meta.get(k.pk, k.sk);
    if (!item) return undefined;
    return {
      version: item.version,
      refs: Array.isArray(item.data.refs) ? (item.data.refs as string[]) : [],
      collected: typeof item.data.collectedAt === "number",
    };
  }

  /** After a failed topic check: carry on if only the version moved; the pieces of a deleted or re-created topic fail alone. */
  private async dropDeadTopics(
    writes: PartitionWrite[],
    results: Map<Piece, PieceResult>,
  ): Promise<PartitionWrite[]> {
    const live = new Map<string, Topic | FloeError | undefined>();
    for (const w of writes) {
      if (live.has(w.topic.name)) continue;
      live.set(w.topic.name, await this.liveTopic(w.topic.name).catch((e: unknown) => asFloeError(e)));
    }
    const kept: PartitionWrite[] = [];
    for (const w of writes) {
      const now = live.get(w.topic.name);
      if (now instanceof FloeError || now === undefined || now.topicId !== w.topic.topicId) {
        const error =
          now instanceof FloeError
            ? now
            : now === undefined
              ? unknownTopic(w.topic.name)
              : staleTopic(w.topic.name);
        for (const piece of w.pieces) results.set(piece, { error });
        continue;
      }
      w.topic = now;
      for (const piece of w.pieces) piece.request.topic = now;
      kept.push(w);
    }
    return kept;
  }

  private backoff(attempt: number): number {
    return backoffDelay(attempt, this.options.backoffBaseMs, this.options.backoffMaxMs, this.options.random);
  }
}

function partsOf(writes: PartitionWrite[]): Set<string> {
  return new Set(writes.map((w) => `${w.topic.topicId}#${w.partition}`));
}

/** The index entry of a partition's chunk once it starts at `base`: the `seg#` item's fields. */
function segmentOf(w: PartitionWrite, base: number, objectKey: string): SegmentRef {
  return {
    base,
    end: base + w.count,
    key: objectKey,
    pos: w.entry.position,
    len: w.entry.length,
    count: w.count,
    minTs: w.entry.minTimestamp,
    maxTs: w.entry.maxTimestamp,
  };
}

/**
 * Slices of partitions whose commit fits one transaction: per slice one check per topic and per
 * producer and one ref item, and per partition its head, its segment item and one sequence item
 * per idempotent producer writing to it. A wide request is split across slices (each partition's
 * outcome then stands alone, as in Kafka's per-partition produce response).
 */
function sliceWrites(writes: PartitionWrite[], slots: Map<string, SequenceSlot>): PartitionWrite[][] {
  const byPart = slotsByPart(slots);
  const slices: PartitionWrite[][] = [];
  let slice: PartitionWrite[] = [];
  let topics = new Set<string>();
  let producers = new Set<number>();
  let ops = 1;
  for (const w of writes) {
    const ps = new Set<number>();
    let sequences = 0;
    for (const [, slot] of byPart.get(`${w.topic.topicId}#${w.partition}`) ?? []) {
      sequences++;
      ps.add(slot.producerId);
    }
    const newTopics = topics.has(w.topic.name) ? 0 : 1;
    const newProducers = [...ps].filter((p) => !producers.has(p)).length;
    const cost = 2 + sequences + newTopics + newProducers;
    if (slice.length > 0 && ops + cost > MAX_TRANSACT_OPS) {
      slices.push(slice);
      slice = [];
      topics = new Set();
      producers = new Set();
      // A new slice: the ref item, and this partition with its topic check and every producer's.
      ops = 1 + 2 + sequences + 1 + ps.size;
    } else {
      ops += cost;
    }
    slice.push(w);
    topics.add(w.topic.name);
    for (const p of ps) producers.add(p);
  }
  if (slice.length > 0) slices.push(slice);
  return slices;
}

function outcomeOf(request: PreparedRequest, results: Map<Piece, PieceResult>): ProduceOutcome {
  const byPartition = new Map<number, PieceResult>();
  for (const piece of request.pieces) {
    byPartition.set(
      piece.partition,
      results.get(piece) ?? {
        error: new FloeError("UNKNOWN_SERVER_ERROR", "An append left a partition unanswered.", {
          fault: "server",
        }),
      },
    );
  }
  const all = [...byPartition.values()];
  const firstError = all.find((r): r is { error: FloeError } => "error" in r);
  if (firstError && all.every((r) => "error" in r)) return { error: firstError.error };
  return {
    offsets: request.placement.map(({ partition, position }) => {
      const r = byPartition.get(partition)!;
      return "base" in r ? { partition, offset: r.base + position } : { partition, error: r.error };
    }),
  };
}

function staleTopic(name: string): FloeError {
  return new FloeError(
    "UNKNOWN_TOPIC_OR_PARTITION",
    `Topic '${name}' was deleted or re-created since this request read it; nothing was appended.`,
  );
}

export function asFloeError(e: unknown): FloeError {
  if (e instanceof FloeError) return e;
  return new FloeError("UNKNOWN_SERVER_ERROR", e instanceof Error ? e.message : String(e), {
    fault: "server",
    cause: e,
  });
}
