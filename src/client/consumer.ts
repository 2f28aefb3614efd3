import type { HeartbeatResponse, OffsetToCommit } from "../groups/types.js";
import { RE2JS } from "re2js";
import { FloeClientError } from "./client-error.js";
import { type FetchSettings, fetchSettings } from "./consumer-fetch-settings.js";
import { Fetcher } from "./consumer-fetcher.js";
import { Membership, type Subscription } from "./consumer-membership.js";
import {
  flatten,
  type OwnedPartition,
  OwnedPartitions,
  partitionKey,
  toTopicPartitions,
} from "./consumer-partitions.js";
import type {
  ConsumerConfig,
  ConsumerEvent,
  ConsumerEventName,
  ConsumerEvents,
  OffsetReset,
  RunConfig,
  SubscribeOptions,
  TopicPartitionOffset,
  TopicPartitions,
} from "./consumer-types.js";
import { GroupMember } from "./group-member.js";
import type { HttpTransport } from "./http-transport.js";
import type { PartitionReader } from "./partition-reader.js";
import { backoffMs, type RetryPolicy } from "./retry.js";

type Listener<E extends ConsumerEventName> = (event: ConsumerEvent<E>) => void;

/**
 * A consumer-group member, shaped like KafkaJS's Consumer: subscribe() and run(), and the
 * coordinator (architecture §6) assigns it partitions; or assign() them yourself and it commits
 * standalone. Records are handed over in offset order per partition, at least once: positions are
 * committed (autoCommit) in the background, before a partition is given up, and on stop().
 * Committed offsets are the next record to read, as in Kafka.
 */
export class Consumer {
  private readonly member: GroupMember;
  private readonly fetchSettings: FetchSettings;
  private readonly owned = new OwnedPartitions();
  private readonly listeners = new Map<ConsumerEventName, Set<Listener<ConsumerEventName>>>();
  private readonly subscription: Subscription & { patterns: string[] } = {
    topics: [],
    regex: "",
    version: 0,
    patterns: [],
  };
  /** auto.offset.reset per subscribed topic or pattern, where subscribe() said. */
  private readonly resets: { matches: (topic: string) => boolean; reset: OffsetReset }[] = [];
  private manual: TopicPartitions[] | undefined;
  private readonly pendingSeeks = new Map<string, number>();
  private readonly pausedTopics = new Map<string, Set<number> | "all">();
  private running = false;
  private runConfig: Required<Pick<RunConfig, "autoCommit" | "autoCommitInterval">> & RunConfig = {
    autoCommit: true,
    autoCommitInterval: 5_000,
  };
  private fetcher: Fetcher | undefined;
  private membership: Membership | undefined;
  private stopping: Promise<void> | undefined;
  private lastCommitAt = Date.now();
  private processedSinceCommit = 0;

  constructor(
    transport: HttpTransport,
    private readonly reader: PartitionReader,
    private readonly config: ConsumerConfig,
    private readonly retry: RetryPolicy,
  ) {
    if (typeof config?.groupId !== "string" || config.groupId === "") {
      throw new FloeClientError("INVALID_GROUP_ID", "consumer({ groupId }) needs a non-empty group id");
    }
    this.fetchSettings = fetchSettings(config);
    this.member = new GroupMember(transport, config.groupId);
  }

  get groupId(): string {
    return this.config.groupId;
  }

  /** Nothing to open over HTTP; kept for KafkaJS code. */
  async connect(): Promise<void> {
    this.emit("consumer.connect", {});
  }

  /** stop(), then done. */
  async disconnect(): Promise<void> {
    await this.stop();
    this.emit("consumer.disconnect", {});
  }

  /**
   * Adds topics (names or RegExps matched against whole names) to the subscription. The server
   * matches patterns with RE2, as Kafka does, so a RegExp must stay within RE2's syntax (no
   * lookaround, no backreferences); this side matches them with RE2 too, so both agree.
   */
  async subscribe(options: SubscribeOptions): Promise<void> {
    if (this.manual) throw usage("subscribe() cannot be combined with assign()");
    const given = options.topics ?? (options.topic === undefined ? [] : [options.topic]);
    if (given.length === 0) throw usage("subscribe() needs topic or topics");
    const reset =
      options.fromBeginning === undefined ? undefined : options.fromBeginning ? "earliest" : "latest";
    for (const t of given) {
      if (typeof t === "string") {
        if (!this.subscription.topics.includes(t)) this.subscription.topics.push(t);
        if (reset) this.resets.unshift({ matches: (topic) => topic === t, reset });
      } else {
        if (t.flags.replace(/[gdy]/g, "") !== "") {
          throw usage(
            `subscribe() takes RegExps without flags (the server matches them): got /${t.source}/${t.flags}`,
          );
        }
        let whole: RE2JS;
        try {
          whole = RE2JS.compile(t.source);
        } catch (e) {
          throw usage(
            `subscribe() takes RE2 patterns, as Kafka does: /${t.source}/ is not one (${String(e)})`,
          );
        }
        this.subscription.patterns.push(t.source);
        if (reset) this.resets.unshift({ matches: (topic) => whole.matches(topic), reset });
      }
    }
    this.subscription.regex = this.subscription.patterns.map((p) => `(?:${p})`).join("|");
    this.subscription.version++;
    this.membership?.poke();
  }

  /** Standalone: consume exactly these partitions, no group membership; commits need an empty group. */
  async assign(assignment: TopicPartitions[]): Promise<void> {
    if (this.subscription.version > 0) throw usage("assign() cannot be combined with subscribe()");
    this.manual = assignment.map(({ topic, partitions }) => ({ topic, partitions: [...partitions] }));
    if (this.running) await this.reconcile(this.manual);
  }

  /** Starts consuming; resolves once the consumer has joined its group (or taken its assigned partitions). */
  async run(config: RunConfig): Promise<void> {
    if (this.running || this.stopping) throw usage("the consumer is already running; stop() it first");
    if (!config.eachMessage === !config.eachBatch)
      throw usage("run() needs eachMessage or eachBatch (one of them)");
    if (!this.manual && this.subscription.version === 0) throw usage("subscribe() or assign() before run()");
    this.runConfig = { autoCommit: true, autoCommitInterval: 5_000, ...config };
    this.running = true;
    this.lastCommitAt = Date.now();
    this.processedSinceCommit = 0;
    this.fetcher = new Fetcher({
      reader: this.reader,
      owned: this.owned,
      run: {
        eachMessage: config.eachMessage,
        eachBatch: config.eachBatch,
        eachBatchAutoResolve: config.eachBatchAutoResolve ?? true,
        partitionsConsumedConcurrently: Math.max(1, config.partitionsConsumedConcurrently ?? 1),
      },
      settings: this.fetchSettings,
      isRunning: () => this.running,
      resetPosition: (topic, partition) => this.resetPosition(topic, partition),
      processed: (count) => {
        this.processedSinceCommit += count;
      },
      autoCommitIfDue: () => this.autoCommitIfDue(),
      pause: (owned) => this.pauseOne(owned),
      crash: (error) => this.crash(error, true),
      backoffMs: (attempt) => backoffMs(this.retry, attempt),
    });
    try {
      if (this.manual) {
        await this.reconcile(this.manual);
      } else {
        this.membership = new Membership({
          member: this.member,
          subscription: () => this.subscription,
          owned: () => this.owned.toTopicPartitions(),
          reconcile: (assignment) => this.reconcile(assignment),
          lose: () => this.release(this.owned.all(), "lost"),
          clientId: this.config.clientId,
          rebalanceTimeoutMs: this.config.rebalanceTimeout,
          heartbeatIntervalMs: this.config.heartbeatInterval,
          sessionTimeoutMs: this.config.sessionTimeout ?? 45_000,
          joined: (answer) => this.joined(answer),
          heartbeated: (answer) =>
            this.emit("consumer.heartbeat", {
              groupId: this.groupId,
              memberId: answer.memberId,
              memberEpoch: answer.memberEpoch,
            }),
          crash: (error, restart) => {
            this.crash(error, restart);
            if (!restart) void this.stop();
          },
          backoffMs: (attempt) => backoffMs(this.retry, attempt),
        });
        await this.membership.start();
      }
    } catch (error) {
      await this.stop();
      throw error;
    }
    this.fetcher.start();
  }

  /**
   * Stops handing records over (the one being handled finishes), commits (autoCommit), gives every
   * partition up and leaves the group. Idempotent. Do not await it inside eachMessage: it waits for
   * that very call to return.
   */
  stop(): Promise<void> {
    if (!this.running) return this.stopping ?? Promise.resolve();
    this.running = false;
    this.stopping = (async () => {
      await this.fetcher?.stopped();
      await this.membership?.stop();
      await this.release(this.owned.all(), "revoked");
      if (this.membership) {
        await this.member.leave().catch((error: unknown) => this.crash(error, false));
      }
      this.membership = undefined;
      this.fetcher = undefined;
      this.emit("consumer.stop", {});
    })().finally(() => {
      this.stopping = undefined;
    });
    return this.stopping;
  }

  /** Commits these positions now (each the next offset to read), as the member or standalone. */
  async commitOffsets(offsets: TopicPartitionOffset[]): Promise<void> {
    await this.commit(
      offsets.map((o) => ({
        topic: o.topic,
        partition: o.partition,
        offset: Number(o.offset),
        ...(o.metadata === undefined ? {} : { metadata: o.metadata }),
      })),
    );
  }

  /** Continues this partition at `offset`; for a partition not yet assigned, once it is. */
  seek({ topic, partition, offset }: { topic: string; partition: number; offset: number | string }): void {
    const position = Number(offset);
    if (!Number.isSafeInteger(position) || position < 0) {
      throw usage(`seek() needs an offset >= 0, got ${offset}`);
    }
    const owned = this.owned.get(topic, partition);
    if (!owned) {
      this.pendingSeeks.set(partitionKey(topic, partition), position);
      return;
    }
    owned.generation++;
    owned.position = position;
    this.fetcher?.interrupt();
  }

  /** Stops fetching these topics (all their partitions, or the ones listed) until resume(). */
  pause(topics: { topic: string; partitions?: number[] }[]): void {
    for (const { topic, partitions } of topics) {
      const current = this.pausedTopics.get(topic);
      if (!partitions) this.pausedTopics.set(topic, "all");
      else if (current !== "all") this.pausedTopics.set(topic, new Set([...(current ?? []), ...partitions]));
    }
    for (const owned of this.owned.all()) owned.paused = this.isPaused(owned.topic, owned.partition);
    this.fetcher?.interrupt();
  }

  resume(topics: { topic: string; partitions?: number[] }[]): void {
    for (const { topic, partitions } of topics) {
      const current = this.pausedTopics.get(topic);
      if (!partitions || current === undefined) {
        this.pausedTopics.delete(topic);
        continue;
      }
      // Resuming some partitions of a paused topic leaves its other owned partitions paused.
      const pausedBefore =
        current === "all"
          ? this.owned
              .all()
              .filter((o) => o.topic === topic)
              .map((o) => o.partition)
          : [...current];
      const left = pausedBefore.filter((p) => !partitions.includes(p));
      if (left.length > 0) this.pausedTopics.set(topic, new Set(left));
      else this.pausedTopics.delete(topic);
    }
    for (const owned of this.owned.all()) owned.paused = this.isPaused(owned.topic, owned.partition);
    this.fetcher?.interrupt();
  }

  /** The owned partitions that are paused. */
  paused(): TopicPartitions[] {
    return toTopicPartitions(this.owned.all().filter((o) => o.paused));
  }

  /** What this consumer owns now (Java's assignment()). */
  assignment(): TopicPartitions[] {
    return this.owned.toTopicPartitions();
  }

  /** KafkaJS's consumer.on(): listeners are told, not awaited; the returned function removes the listener. */
  on<E extends ConsumerEventName>(event: E, listener: Listener<E>): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(listener as Listener<ConsumerEventName>);
    return () => set.delete(listener as Listener<ConsumerEventName>);
  }

  private emit<E extends ConsumerEventName>(type: E, payload: ConsumerEvents[E]): void {
    for (const listener of this.listeners.get(type) ?? []) {
      try {
        listener({ type, timestamp: Date.now(), payload } as ConsumerEvent<ConsumerEventName>);
      } catch {
        // A listener's own bug must not stop the consumer.
      }
    }
  }

  private crash(error: unknown, restart: boolean): void {
    const e = error instanceof Error ? error : new Error(String(error));
    this.emit("consumer.crash", { groupId: this.groupId, error: e, restart });
  }

  private joined(answer: HeartbeatResponse): void {
    this.emit("consumer.group_join", {
      groupId: this.groupId,
      memberId: answer.memberId,
      memberEpoch: answer.memberEpoch,
      memberAssignment: answer.assignment,
    });
  }

  /** Gives up what the assignment no longer lists, then takes what it adds; true when something was given up. */
  private async reconcile(assignment: TopicPartitions[]): Promise<boolean> {
    const wanted = new Set(flatten(assignment).map(({ topic, partition }) => partitionKey(topic, partition)));
    const gone = this.owned.all().filter((o) => !wanted.has(partitionKey(o.topic, o.partition)));
    if (gone.length > 0) {
      this.emit("consumer.rebalancing", {
        groupId: this.groupId,
        memberId: this.member.memberId ?? "",
        revoking: toTopicPartitions(gone),
      });
      await this.release(gone, "revoked");
    }
    const added = flatten(assignment).filter(({ topic, partition }) => !this.owned.has(topic, partition));
    if (added.length > 0) await this.take(added);
    return gone.length > 0;
  }

  /** Starts owning these partitions at their committed offset, a pending seek, or auto.offset.reset. */
  private async take(added: { topic: string; partition: number }[]): Promise<void> {
    const topics = [...new Set(added.map((a) => a.topic))];
    const committed = new Map(
      (await this.member.committed(topics)).map((o) => [partitionKey(o.topic, o.partition), o.offset]),
    );
    const taken: OwnedPartition[] = [];
    for (const { topic, partition } of added) {
      const key = partitionKey(topic, partition);
      const stored = committed.get(key);
      const position = this.pendingSeeks.get(key) ?? stored ?? (await this.resetPosition(topic, partition));
      taken.push({
        topic,
        partition,
        position,
        committed: stored,
        paused: this.isPaused(topic, partition),
        generation: 0,
        released: false,
        processing: undefined,
      });
    }
    for (const owned of taken) {
      this.pendingSeeks.delete(partitionKey(owned.topic, owned.partition));
      this.owned.add(owned);
    }
    const partitions = toTopicPartitions(taken);
    await this.config.rebalanceListener?.onPartitionsAssigned?.(partitions);
    this.emit("consumer.partitions_assigned", { groupId: this.groupId, partitions });
    this.fetcher?.interrupt();
  }

  /**
   * Gives partitions up: nothing more of them is handed over, the records in hand finish, and, when
   * revoked (not lost), their positions are committed before anyone else can get them.
   */
  private async release(list: OwnedPartition[], how: "revoked" | "lost"): Promise<void> {
    if (list.length === 0) return;
    for (const owned of list) owned.released = true;
    this.fetcher?.interrupt();
    await Promise.all(list.map((o) => o.processing));
    if (how === "revoked" && this.runConfig.autoCommit) {
      await this.commitPositions(list).catch((error: unknown) => this.crash(error, true));
    }
    const partitions = toTopicPartitions(list);
    const listener = this.config.rebalanceListener;
    try {
      if (how === "revoked") await listener?.onPartitionsRevoked?.(partitions);
      else await listener?.onPartitionsLost?.(partitions);
    } finally {
      for (const owned of list) this.owned.delete(owned);
    }
    this.emit(how === "revoked" ? "consumer.partitions_revoked" : "consumer.partitions_lost", {
      groupId: this.groupId,
      partitions,
    });
  }

  private async autoCommitIfDue(): Promise<void> {
    if (!this.runConfig.autoCommit) return;
    const threshold = this.runConfig.autoCommitThreshold;
    const due =
      Date.now() - this.lastCommitAt >= this.runConfig.autoCommitInterval ||
      (threshold !== undefined && this.processedSinceCommit >= threshold);
    if (!due) return;
    await this.commitPositions(this.owned.all()).catch((error: unknown) => this.crash(error, true));
  }

  /** Commits the positions of these partitions that moved since their last commit. */
  private async commitPositions(list: OwnedPartition[]): Promise<void> {
    const moved = list.filter((o) => o.position !== o.committed);
    this.lastCommitAt = Date.now();
    this.processedSinceCommit = 0;
    if (moved.length === 0) return;
    await this.commit(moved.map((o) => ({ topic: o.topic, partition: o.partition, offset: o.position })));
  }

  private async commit(offsets: OffsetToCommit[]): Promise<void> {
    if (offsets.length === 0) return;
    const identity = await this.member.commit(offsets, this.manual === undefined);
    for (const o of offsets) {
      const owned = this.owned.get(o.topic, o.partition);
      if (owned) owned.committed = o.offset;
    }
    const byTopic = new Map<string, { partition: number; offset: number }[]>();
    for (const o of offsets) {
      let partitions = byTopic.get(o.topic);
      if (!partitions) byTopic.set(o.topic, (partitions = []));
      partitions.push({ partition: o.partition, offset: o.offset });
    }
    this.emit("consumer.commit_offsets", {
      groupId: this.groupId,
      ...identity,
      topics: [...byTopic].map(([topic, partitions]) => ({ topic, partitions })),
    });
  }

  private async resetPosition(topic: string, partition: number): Promise<number> {
    const at = this.resets.find((r) => r.matches(topic))?.reset ?? this.defaultReset();
    return (await this.reader.listOffsets({ topic, partition, at })).offset;
  }

  private defaultReset(): OffsetReset {
    return this.config.fromBeginning ? "earliest" : (this.config.autoOffsetReset ?? "latest");
  }

  private isPaused(topic: string, partition: number): boolean {
    const paused = this.pausedTopics.get(topic);
    return paused === "all" || (paused?.has(partition) ?? false);
  }

  private pauseOne(owned: OwnedPartition): () => void {
    this.pause([{ topic: owned.topic, partitions: [owned.partition] }]);
    return () => this.resume([{ topic: owned.topic, partitions: [owned.partition] }]);
  }
}

function usage(message: string): FloeClientError {
  return new FloeClientError("INVALID_REQUEST", message);
}
