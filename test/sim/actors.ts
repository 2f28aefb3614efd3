/**
 * The clients and workers of a run: plain and idempotent producers that retry like a client does,
 * group consumers that heartbeat and poll, maintenance workers, a topic churner and the chaos
 * monkey that kills processes. Each has its own random stream and writes what it was told into
 * the world's books.
 */
import type { ProducerIdentity } from "../../src/broker/producer-registry.js";
import type { ProduceRecord, ProduceRequest, RecordOffset } from "../../src/broker/types.js";
import { FloeError, ObjectNotFoundError } from "../../src/errors.js";
import { parseTp, toPartitionSet, toTopicPartitions } from "../../src/groups/partition-set.js";
import type { HeartbeatResponse } from "../../src/groups/types.js";
import type { Random } from "./random.js";
import {
  type Attempt,
  ClientTimeout,
  ProcessUnavailable,
  SESSION_TIMEOUT_MS,
  HEARTBEAT_INTERVAL_MS,
  type SimProcess,
  type World,
} from "./world.js";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** How long a client waits for a produce answer (the broker's own timeout is shorter). */
export const PRODUCE_CLIENT_TIMEOUT_MS = 8_000;
const GROUP_CLIENT_TIMEOUT_MS = 3_000;

export interface TopicSpec {
  name: string;
  partitions: number;
  /** Never deleted during the run. */
  stable: boolean;
  /** Records may go by retention. */
  retention: boolean;
}

/** What an error means for the records it answered. */
export function classify(e: unknown): Attempt["outcome"] {
  if (e instanceof ProcessUnavailable) return "unavailable";
  if (e instanceof ClientTimeout) return "unknown";
  if (e instanceof FloeError) {
    if (!e.retriable) return "refused";
    // The append path's own timeout says "nothing was appended": hold it to that.
    if (e.code === "REQUEST_TIMED_OUT") return "timedOut";
    return "unknown";
  }
  return "refused";
}

function errorCode(e: unknown): string {
  return e instanceof FloeError ? e.code : e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

async function backoff(world: World, rng: Random, attempt: number): Promise<void> {
  await world.sched.sleep(rng.int(20, 200) * 2 ** Math.min(attempt, 4));
}

/** A live process, waiting for one to come back if all are down. */
async function someProcess(world: World, rng: Random): Promise<SimProcess> {
  for (;;) {
    const p = world.pickLive(rng);
    if (p) return p;
    await world.sched.sleep(250);
  }
}

/**
 * A plain producer: requests go one at a time, or now and then in a burst of a few at once (the
 * bursts are what a group commit gathers into one object), each retried on retriable errors and
 * timeouts up to a bound. Each attempt's records carry ids of their own, so the checks can tell
 * attempts apart: an acked attempt must be exactly where its answer said, a refused one nowhere, an
 * unknown one at most once and whole. Order is promised only between requests of different bursts.
 */
export async function plainProducer(
  world: World,
  name: string,
  rng: Random,
  requests: number,
  topics: TopicSpec[],
): Promise<void> {
  let r = 0;
  for (let burst = 0; r < requests; burst++) {
    const size = rng.chance(0.3) ? rng.int(2, 4) : 1;
    // A burst goes out over the client's one connection: to one process, at once.
    const via = await someProcess(world, rng);
    const sends: Promise<void>[] = [];
    for (let k = 0; k < size && r < requests; k++, r++) {
      sends.push(plainRequest(world, name, rng.fork(`${r}`), r, burst, rng.pick(topics), via));
    }
    await Promise.all(sends);
    await world.sched.sleep(rng.chance(0.3) ? 0 : rng.int(0, 400));
  }
}

async function plainRequest(
  world: World,
  name: string,
  rng: Random,
  r: number,
  burst: number,
  spec: TopicSpec,
  via: SimProcess,
): Promise<void> {
  const count = rng.int(1, 4);
  const shape = rng.pick(["explicit", "keyed", "sticky"] as const);
  const invalid = rng.chance(world.rates.invalidRequest);
  if (invalid) world.counts.invalidRequest++;
  const badIndex = rng.int(0, count - 1);
  const badKind = rng.pick(["partition", "timestamp"] as const);
  const template: ProduceRecord[] = Array.from({ length: count }, (_, i) => {
    const rec: ProduceRecord = { value: null };
    if (shape === "explicit") rec.partition = rng.int(0, spec.partitions - 1);
    if (shape === "keyed") rec.key = enc.encode(`k${rng.int(0, 9)}`);
    if (invalid && i === badIndex) {
      if (badKind === "partition") rec.partition = spec.partitions + 7;
      else rec.timestamp = -5;
    }
    return rec;
  });
  for (let attempt = 0; attempt < 8; attempt++) {
    const proc = attempt === 0 ? via : await someProcess(world, rng);
    const ids = template.map((_, i) => `${name}/${r}/${attempt}#${i}`);
    const request: ProduceRequest = {
      topic: spec.name,
      records: template.map((rec, i) => ({ ...rec, value: enc.encode(ids[i]) })),
    };
    const outcome = await sendProduce(world, proc, {
      producer: name,
      kind: "plain",
      request: r,
      burst,
      attempt,
      topic: spec.name,
      ids,
      valid: !invalid,
      stableTopic: spec.stable,
      send: (signal) => proc.produce({ ...request, signal }),
    });
    if (outcome === "acked" || outcome === "refused") return;
    await backoff(world, rng, attempt);
  }
}

/** Sends one attempt through the client's network and books what came back. */
async function sendProduce(
  world: World,
  proc: SimProcess,
  a: Pick<
    Attempt,
    "producer" | "kind" | "request" | "burst" | "attempt" | "topic" | "ids" | "valid" | "stableTopic"
  > & {
    send: (signal: AbortSignal) => Promise<RecordOffset[]>;
  },
): Promise<Attempt["outcome"]> {
  const { send, ...fields } = a;
  const sentAt = world.sched.now;
  const topicId = world.topicIdNow(a.topic);
  const book: Attempt = {
    ...fields,
    topicId,
    outcome: "unknown",
    process: proc.life.name,
    sentAt,
    answeredAt: sentAt,
  };
  try {
    book.offsets = await world.call(
      proc,
      `produce ${a.producer}/${a.request}`,
      PRODUCE_CLIENT_TIMEOUT_MS,
      send,
    );
    book.outcome = "acked";
  } catch (e) {
    book.outcome = classify(e);
    book.code = errorCode(e);
    if (e instanceof ClientTimeout) book.abortedAt = world.sched.now;
  }
  book.answeredAt = world.sched.now;
  world.attempts.push(book);
  world.sched.trace(
    `produce ${a.producer}/${a.request}/${a.attempt} ${a.topic} via ${book.process} -> ${book.outcome}${
      book.offsets ? ` ${book.offsets.map((o) => `${o.partition}@${o.offset}`).join(",")}` : ` ${book.code}`
    }`,
  );
  if (a.valid && book.outcome === "acked") return "acked";
  if (!a.valid && book.outcome === "acked") {
    world.violation("invalid-request-acked", `${a.producer}/${a.request}/${a.attempt} was invalid yet acked`);
  }
  if (a.valid && a.stableTopic && book.outcome === "refused") {
    world.violation(
      "healthy-request-refused",
      `${a.producer}/${a.request}/${a.attempt} to ${a.topic} via ${book.process}: ${book.code}`,
    );
  }
  return book.outcome;
}

/** The idempotent producer (Broker.initProducer, ProduceRequest.producer) is there to be simulated. */
export function idempotenceAvailable(proc: SimProcess): boolean {
  return typeof proc.broker.initProducer === "function";
}

/**
 * An idempotent producer (KIP-98): one producer id, a sequence per partition, each request retried
 * unchanged until it is answered. Its records' ids carry no attempt number: any id twice in the log
 * is a duplicate.
 */
export async function idempotentProducer(
  world: World,
  name: string,
  rng: Random,
  requests: number,
  spec: TopicSpec,
): Promise<void> {
  let producer: ProducerIdentity | null = null;
  for (let attempt = 0; producer === null; attempt++) {
    const proc = await someProcess(world, rng);
    try {
      producer = await world.call(proc, `initProducer ${name}`, PRODUCE_CLIENT_TIMEOUT_MS, () =>
        proc.broker.initProducer({}),
      );
    } catch (e) {
      if (attempt > 20) {
        world.violation("idempotent-init-failed", `${name}: ${errorCode(e)}`);
        return;
      }
      await backoff(world, rng, attempt);
    }
  }
  world.sched.trace(`init ${name} id=${producer.producerId} epoch=${producer.producerEpoch}`);
  const sequences = new Map<number, number>();
  for (let r = 0; r < requests; r++) {
    const count = rng.int(1, 4);
    const partitions = Array.from({ length: count }, () => rng.int(0, spec.partitions - 1));
    const ids = partitions.map((_, i) => `${name}/${r}#${i}`);
    const perPartition = new Map<number, number>();
    for (const p of partitions) perPartition.set(p, (perPartition.get(p) ?? 0) + 1);
    const request: ProduceRequest = {
      topic: spec.name,
      records: partitions.map((partition, i) => ({ partition, value: enc.encode(ids[i]) })),
      producer: {
        ...producer,
        sequences: [...perPartition.keys()]
          .sort((a, b) => a - b)
          .map((partition) => ({ partition, baseSequence: sequences.get(partition) ?? 0 })),
      },
    };
    let settled: Attempt["outcome"] = "unknown";
    for (let attempt = 0; attempt < 40 && settled !== "acked" && settled !== "refused"; attempt++) {
      const proc = await someProcess(world, rng);
      settled = await sendProduce(world, proc, {
        producer: name,
        kind: "idempotent",
        request: r,
        burst: r,
        attempt,
        topic: spec.name,
        ids,
        valid: true,
        stableTopic: spec.stable,
        send: (signal) => proc.produce({ ...request, signal }),
      });
      if (settled !== "acked" && settled !== "refused") await backoff(world, rng, attempt);
    }
    // Refused or given up: what the broker holds for this producer is unknown now; stop, as a
    // Kafka producer would raise to its caller.
    if (settled !== "acked") return;
    for (const [p, n] of perPartition) sequences.set(p, (sequences.get(p) ?? 0) + n);
    await world.sched.sleep(rng.int(0, 600));
  }
}

/**
 * Who believes they own which partition. A member owns what its last heartbeat answer assigned,
 * from the answer until it gives it up, dies, or its session could have lapsed (the send time of
 * that heartbeat plus the session timeout: the coordinator cannot have expired it before).
 */
export class Ownership {
  private readonly claims = new Map<string, { parts: Set<string>; until: number }>();

  constructor(private readonly world: World) {}

  grant(member: string, parts: Set<string>, until: number): void {
    const now = this.world.sched.now;
    for (const [other, claim] of this.claims) {
      if (other === member || claim.until <= now) continue;
      for (const p of parts) {
        if (claim.parts.has(p)) {
          this.world.violation("two-owners", `${p} assigned to ${member} while ${other} still owns it`);
        }
      }
    }
    this.claims.set(member, { parts, until });
  }

  release(member: string): void {
    this.claims.delete(member);
  }

  validUntil(member: string): number {
    return this.claims.get(member)?.until ?? 0;
  }
}

/** A group consumer: heartbeats, adopts each answer's assignment, polls, commits. */
export class Member {
  private memberId: string | undefined;
  private epoch = 0;
  private owned = new Set<string>();
  private readonly positions = new Map<string, number>();
  alive = true;

  constructor(
    readonly name: string,
    private readonly world: World,
    private readonly rng: Random,
    private readonly ownership: Ownership,
    private readonly groupId: string,
    private readonly topics: TopicSpec[],
    /** Called when this member dies, to start a replacement. */
    private readonly onDeath: () => void,
  ) {}

  async run(): Promise<void> {
    const { world, rng } = this;
    while (!world.stopping) {
      if (rng.chance(world.rates.memberCrash)) {
        world.counts.memberCrash++;
        this.die();
        return;
      }
      await this.heartbeat();
      await this.poll();
      await world.sched.sleep(HEARTBEAT_INTERVAL_MS - 200 + rng.int(0, 400));
    }
    await this.leave();
  }

  private die(): void {
    this.alive = false;
    this.ownership.release(this.name);
    this.owned = new Set();
    this.world.sched.trace(`member ${this.name} dies`);
    this.onDeath();
  }

  private async heartbeat(): Promise<void> {
    const { world } = this;
    const proc = await someProcess(world, this.rng);
    const sentAt = world.sched.now;
    let res: HeartbeatResponse;
    try {
      res = await world.call(proc, `heartbeat ${this.name}`, GROUP_CLIENT_TIMEOUT_MS, () =>
        proc.coordinator.heartbeat(this.groupId, {
          memberId: this.memberId,
          memberEpoch: this.epoch,
          clientId: this.name,
          subscribedTopics: this.epoch === 0 ? this.topics.map((t) => t.name) : undefined,
          ownedPartitions: toTopicPartitions(this.owned),
        }),
      );
    } catch (e) {
      const code = errorCode(e);
      world.sched.trace(`heartbeat ${this.name} e${this.epoch} via ${proc.life.name} -> ${code}`);
      if (code === "FENCED_MEMBER_EPOCH" || code === "UNKNOWN_MEMBER_ID") {
        // KIP-848: give everything up and rejoin with epoch 0.
        this.dropAll();
        this.epoch = 0;
        if (code === "UNKNOWN_MEMBER_ID") this.memberId = undefined;
      } else if (world.sched.now >= this.ownership.validUntil(this.name)) {
        // No answer for a session: the coordinator may have expired us; stop consuming.
        this.dropAll();
      }
      return;
    }
    if (!this.alive) return;
    this.memberId = res.memberId;
    this.epoch = res.memberEpoch;
    const next = toPartitionSet(res.assignment);
    world.sched.trace(
      `heartbeat ${this.name} via ${proc.life.name} -> e${res.memberEpoch} [${[...next].sort().join(",")}]`,
    );
    for (const k of this.owned) if (!next.has(k)) this.positions.delete(k);
    this.ownership.grant(this.name, next, sentAt + SESSION_TIMEOUT_MS);
    this.owned = next;
  }

  private dropAll(): void {
    this.ownership.release(this.name);
    this.owned = new Set();
    this.positions.clear();
  }

  private async poll(): Promise<void> {
    const { world } = this;
    if (this.owned.size === 0 || !this.memberId) return;
    const proc = await someProcess(world, this.rng);
    const commits: { topic: string; partition: number; offset: number }[] = [];
    for (const k of [...this.owned].sort()) {
      const { topic, partition } = parseTp(k);
      try {
        let position = this.positions.get(k);
        if (position === undefined) {
          const committed = await world.call(proc, "fetchOffsets", GROUP_CLIENT_TIMEOUT_MS, () =>
            proc.coordinator.fetchOffsets(this.groupId, [topic]),
          );
          position = committed.find((c) => c.topic === topic && c.partition === partition)?.offset ?? 0;
        }
        const from = position;
        const r = await world.call(proc, "fetch", GROUP_CLIENT_TIMEOUT_MS, () =>
          proc.broker.fetch({ topic, partition, offset: from, maxRecords: 20 }),
        );
        const spec = this.topics.find((t) => t.name === topic);
        r.records.forEach((rec, i) => {
          if (!spec?.retention && rec.offset !== from + i) {
            world.violation(
              "fetch-gap",
              `${this.name} fetched ${topic}#${partition} from ${from}: record ${i} has offset ${rec.offset}`,
            );
          }
          if (rec.value === null || !dec.decode(rec.value).includes("/")) {
            world.violation("fetch-corrupt", `${topic}#${partition}@${rec.offset} holds no record id`);
          }
        });
        this.positions.set(k, r.nextOffset);
        if (r.records.length > 0) commits.push({ topic, partition, offset: r.nextOffset });
      } catch (e) {
        if (e instanceof FloeError && e.code === "OFFSET_OUT_OF_RANGE") this.positions.delete(k);
        if (e instanceof ObjectNotFoundError) {
          world.violation("fetch-missing-object", `${this.name} ${k}: ${e.message}`);
        }
      }
    }
    if (commits.length === 0) return;
    try {
      await world.call(proc, "commitOffsets", GROUP_CLIENT_TIMEOUT_MS, () =>
        proc.coordinator.commitOffsets(this.groupId, {
          memberId: this.memberId,
          memberEpoch: this.epoch,
          offsets: commits,
        }),
      );
    } catch {
      // Fenced or stale: the next heartbeat sorts it out.
    }
  }

  private async leave(): Promise<void> {
    const { world } = this;
    if (!this.memberId || this.epoch <= 0) {
      this.dropAll();
      return;
    }
    const proc = await someProcess(world, this.rng);
    this.dropAll();
    await world
      .call(proc, `leave ${this.name}`, GROUP_CLIENT_TIMEOUT_MS, () =>
        proc.coordinator.heartbeat(this.groupId, { memberId: this.memberId, memberEpoch: -1 }),
      )
      .catch(() => {});
  }
}

/** Each process runs a slice of maintenance now and then, as the scheduled Lambda or `floe dev`'s timer does. */
export async function maintenanceWorker(world: World, proc: SimProcess, rng: Random): Promise<void> {
  let running = -1;
  while (!world.finished) {
    await world.sched.sleep(rng.int(500, 4_000));
    if (!proc.life.alive || running === proc.incarnation) continue;
    const incarnation = proc.incarnation;
    running = incarnation;
    const name = proc.life.name;
    proc.maintenance
      .runOnce({ ops: rng.int(4, 40) })
      .then(
        (report) =>
          world.sched.trace(
            `maintenance ${name} merges=${report.compaction.merges} gc=${report.gc.objectsDeleted} errors=${report.errors.length}`,
          ),
        (e) => world.sched.trace(`maintenance ${name} threw ${errorCode(e)}`),
      )
      .finally(() => {
        if (running === incarnation) running = -1;
      });
  }
}

/** Deletes and re-creates the churn topic now and then, through whichever process is up. */
export async function topicChurner(world: World, rng: Random, spec: TopicSpec): Promise<void> {
  while (!world.stopping) {
    await world.sched.sleep(rng.int(2_000, 8_000));
    const proc = world.pickLive(rng);
    if (!proc) continue;
    const exists = world.topicIdNow(spec.name) !== null;
    try {
      if (exists) {
        await world.call(proc, "deleteTopic", 5_000, () => proc.broker.deleteTopic(spec.name));
        world.counts.topicDeleted++;
      } else {
        await world.call(proc, "createTopic", 5_000, () =>
          proc.broker.createTopic(spec.name, spec.partitions),
        );
      }
      world.sched.trace(`churn ${exists ? "deleted" : "created"} ${spec.name}`);
    } catch (e) {
      world.sched.trace(`churn ${spec.name} failed: ${errorCode(e)}`);
    }
  }
}

/** Kills processes at random instants; each restarts, empty, a little later. */
export async function chaosMonkey(world: World, rng: Random): Promise<void> {
  while (!world.stopping) {
    await world.sched.sleep(1_000);
    for (const proc of world.processes) {
      if (proc.life.alive && rng.chance(world.rates.processCrash)) {
        world.counts.processCrash++;
        proc.crash("processCrash");
      }
    }
  }
}
