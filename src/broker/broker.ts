import type { Backend, MetaStore, ObjectStore } from "../storage/ports.js";
import { type AppendRequest, type ProduceOutcome, Appender, settleOutcome } from "./append.js";
import { type ProducerIdentity, ProducerRegistry } from "./producer-registry.js";
import { AppendNotifier } from "./append-notifier.js";
import {
  type FetchManyOptions,
  type FetchManyPartition,
  fetchMany,
  type PartitionFetchOutcome,
} from "./fetch-many.js";
import { listOffsets } from "./list-offsets.js";
import { StickyPartitioner } from "./partitioner.js";
import { Reader } from "./read.js";
import { type RawFetchRequest, type RawFetchResult, RawReader } from "./read-raw.js";
import { StoredChunks } from "./stored-chunks.js";
import { TopicAdmin } from "./topics.js";
import type {
  FetchRequest,
  FetchResult,
  ListedOffset,
  OffsetSpec,
  RecordOffset,
  Topic,
  TopicDescription,
} from "./types.js";

export interface BrokerOptions {
  /** Kafka's auto.create.topics.enable; `floe dev` turns it on, a deployed stack leaves it off. */
  autoCreateTopics?: boolean;
  /** Kafka's num.partitions. */
  defaultPartitions?: number;
  /** Kafka's request.timeout.ms. */
  requestTimeoutMs?: number;
  /** Kafka's metadata.max.age.ms, here a server-side cache of topic metadata. */
  topicCacheTtlMs?: number;
  /** Configs every new topic gets unless it sets its own (a deployment's log.retention.ms, say). */
  topicDefaults?: Record<string, unknown>;
  /**
   * Memory for chunks read or just written (default 64 MiB), shared by the decoded and the binary
   * fetch: chunks kept as their stored bytes, compressed batches the decoded fetch opened as their
   * inflated bytes, each charged what it holds.
   */
  chunkCacheBytes?: number;
  longPollIntervalMs?: number;
  maxWaitCapMs?: number;
  clock?: () => number;
  random?: () => number;
  /** Backoff waits; the deterministic simulation injects virtual time. */
  sleep?: (ms: number) => Promise<void>;
  /**
   * Idempotent producers' partition states kept from this process's own commits (AppenderOptions);
   * 0 (the default) reads them on every append, as a Lambda function that sees a producer's
   * requests spread over many instances should. `floe dev` keeps 100000.
   */
  producerStateCacheEntries?: number;
}

export type { PartitionFetchOutcome } from "./fetch-many.js";

/** The log over a backend: topics, produce, fetch, list offsets. No AWS SDK in sight. */
export class Broker {
  readonly topics: TopicAdmin;
  readonly meta: MetaStore;
  readonly objects: ObjectStore;
  /** Kafka's auto.create.topics.enable with num.partitions for the topics it creates; undefined when off. */
  readonly autoCreateTopics: { readonly partitions: number } | undefined;
  private readonly appender: Appender;
  private readonly producers: ProducerRegistry;
  private readonly reader: Reader;
  private readonly rawReader: RawReader;
  private readonly chunks: StoredChunks;
  private readonly clock: () => number;
  private readonly maxWaitCapMs: number;

  constructor(backend: Pick<Backend, "meta" | "objects">, options: BrokerOptions = {}) {
    this.meta = backend.meta;
    this.objects = backend.objects;
    this.clock = options.clock ?? Date.now;
    this.maxWaitCapMs = options.maxWaitCapMs ?? 20_000;
    this.autoCreateTopics = options.autoCreateTopics
      ? { partitions: options.defaultPartitions ?? 1 }
      : undefined;
    const random = options.random ?? Math.random;
    const notifier = new AppendNotifier();
    this.topics = new TopicAdmin(this.meta, {
      clock: this.clock,
      topicCacheTtlMs: options.topicCacheTtlMs ?? 5_000,
      topicDefaults: options.topicDefaults,
    });
    this.producers = new ProducerRegistry(this.meta, {
      clock: this.clock,
      random,
      sleep: options.sleep,
      cacheTtlMs: options.topicCacheTtlMs ?? 5_000,
    });
    this.appender = new Appender(
      this.meta,
      this.objects,
      this.topics,
      new StickyPartitioner(random),
      notifier,
      this.producers,
      {
        sleep: options.sleep,
        producerStateCacheEntries: options.producerStateCacheEntries,
        clock: this.clock,
        random,
        autoCreateTopics: options.autoCreateTopics ?? false,
        defaultPartitions: options.defaultPartitions ?? 1,
        requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
        backoffBaseMs: 2,
        backoffMaxMs: 200,
        onCommitted: (chunk) => this.chunks.remember(chunk.segment, chunk.bytes),
      },
    );
    this.chunks = new StoredChunks(this.objects, options.chunkCacheBytes ?? 64 * 1024 * 1024);
    this.reader = new Reader(this.meta, this.chunks, this.topics, notifier, {
      clock: this.clock,
      longPollIntervalMs: options.longPollIntervalMs ?? 250,
      maxWaitCapMs: options.maxWaitCapMs ?? 20_000,
    });
    this.rawReader = new RawReader(this.reader, this.chunks, {
      maxWaitCapMs: options.maxWaitCapMs ?? 20_000,
      clock: this.clock,
    });
  }

  createTopic(name: string, partitions: number, config?: Record<string, unknown>): Promise<Topic> {
    return this.topics.create(name, partitions, config);
  }

  listTopics(): Promise<string[]> {
    return this.topics.list();
  }

  describeTopic(name: string): Promise<TopicDescription> {
    return this.topics.describe(name);
  }

  updateTopic(
    name: string,
    change: { partitions?: number; config?: Record<string, unknown | null> },
  ): Promise<Topic> {
    return this.topics.update(name, change);
  }

  deleteTopic(name: string): Promise<void> {
    return this.topics.delete(name);
  }

  /**
   * One request: its records' offsets in request order (see ProduceOutcome), or the error that
   * refused all of them (a PartialAppendError when a wide request committed only in part).
   */
  async produce(request: AppendRequest): Promise<RecordOffset[]> {
    const [outcome] = await this.appender.produce([request]);
    return settleOutcome(outcome);
  }

  /**
   * Kafka's InitProducerId: a new idempotent producer at epoch 0, or, for a transactionalId seen
   * before, the same id at the next epoch, which fences the previous instance.
   */
  initProducer(request: { transactionalId?: string | null } = {}): Promise<ProducerIdentity> {
    return this.producers.init(request);
  }

  /** Several requests in one object and one commit (group commit); each answered on its own. */
  produceMany(requests: AppendRequest[]): Promise<ProduceOutcome[]> {
    return this.appender.produce(requests);
  }

  fetch(request: FetchRequest): Promise<FetchResult> {
    return this.reader.fetch(request);
  }

  /** The binary fast path: whole stored batches with their real base offsets, never decoded. */
  fetchRaw(request: RawFetchRequest): Promise<RawFetchResult> {
    return this.rawReader.fetch(request);
  }

  /**
   * The long-poll of a fetch over many partitions on raw bytes (Kafka's Fetch): resolves once any
   * partition's high-water mark passes its offset, at the deadline (the broker's clock), or when
   * `cancelled` says so (checked at each wake-up). A partition that cannot be looked up ends the
   * wait, so the fetch that follows reports its error.
   */
  async waitForAnyAppend(
    partitions: { topic: string; partition: number; offset: number }[],
    deadline: number,
    cancelled: () => boolean = () => false,
  ): Promise<void> {
    if (partitions.length === 0) return;
    let woken = false;
    await Promise.race(
      partitions.map(async (p) => {
        try {
          const topic = await this.reader.partitionOf(p.topic, p.partition);
          await this.reader.waitForAppend(topic, p.partition, p.offset, deadline, () => woken || cancelled());
        } catch {
          // The fetch after the wait reports it.
        }
      }),
    );
    woken = true;
  }

  /**
   * The read cache's accounting (bytes charged, its budget, entries) and how many batches fetches
   * have decoded: what tests and diagnostics check memory and lazy decoding by.
   */
  readStats(): { chargedBytes: number; budgetBytes: number; entries: number; batchesDecoded: number } {
    return { ...this.chunks.stats(), batchesDecoded: this.reader.batchesDecoded };
  }

  /** The broker's clock (deadlines given to produce and waitForAnyAppend are on it). */
  now(): number {
    return this.clock();
  }

  /**
   * Many partitions in one call (Kafka's Fetch) as decoded records: answers once minBytes of records
   * are ready (default 1: any record), a partition failed, or maxWaitMs passed; each partition within
   * its maxBytes (partitionMaxBytes by default) and all within maxBytes. Errors are per partition.
   */
  fetchMany(
    partitions: FetchManyPartition[],
    options: FetchManyOptions = {},
  ): Promise<PartitionFetchOutcome[]> {
    return fetchMany(this.reader, this, partitions, options, this.maxWaitCapMs);
  }

  listOffsets(topic: string, partition: number, spec: OffsetSpec): Promise<ListedOffset> {
    return listOffsets(this.meta, this.reader, topic, partition, spec, this.chunks);
  }
}
