/**
 * The simulated world: the shared storage (memory backends, the "cloud"), the server processes
 * that run over it through fault-injecting ports and crash and restart, and the books the
 * invariants are checked against (what each client was told).
 */
import { Broker } from "../../src/broker/broker.js";
import { GroupCommitter } from "../../src/broker/group-committer.js";
import type { AppendRequest } from "../../src/broker/append.js";
import type { RecordOffset } from "../../src/broker/types.js";
import { FloeError } from "../../src/errors.js";
import { GroupCoordinator } from "../../src/groups/coordinator.js";
import { Maintenance } from "../../src/maintenance/maintenance.js";
import { MemoryMetaStore } from "../../src/storage/memory-meta-store.js";
import { MemoryObjectStore } from "../../src/storage/memory-object-store.js";
import type { WriteOp } from "../../src/storage/ports.js";
import {
  type FaultCounts,
  FaultDice,
  type FaultKind,
  type FaultRates,
  type Life,
  type StorageObserver,
} from "./faults.js";
import { FaultyMetaStore } from "./faulty-meta-store.js";
import { FaultyObjectStore } from "./faulty-object-store.js";
import type { Random } from "./random.js";
import type { Scheduler } from "./scheduler.js";

export const SESSION_TIMEOUT_MS = 6_000;
export const HEARTBEAT_INTERVAL_MS = 1_000;
export const GC_GRACE_MS = 30_000;

/** Knobs a run is built from; all drawn from the seed. */
export interface WorldConfig {
  processes: number;
  /** Processes that put produce requests through a GroupCommitter, as `floe dev` does. */
  groupCommit: boolean[];
  brokerTimeoutMs: number;
}

/** Where a failing invariant is written down. */
export interface Violation {
  invariant: string;
  detail: string;
}

/** One produce attempt as its client saw it. */
export interface Attempt {
  producer: string;
  kind: "plain" | "idempotent";
  request: number;
  /** Requests of one burst were in flight together: no order is promised among them. */
  burst: number;
  attempt: number;
  topic: string;
  /** The topic's id when the attempt was sent (a deleted topic's records go with it). */
  topicId: string | null;
  /** Record ids in request order (what their values carry). */
  ids: string[];
  /** Whether the request was built to be valid. */
  valid: boolean;
  /** On a topic that is never deleted: nothing about it should ever be refused. */
  stableTopic: boolean;
  /**
   * acked: offsets answered. refused: a non-retriable error (nothing may have been appended).
   * timedOut: the append path's own REQUEST_TIMED_OUT, retriable, whose message says nothing was
   * appended, so it is held to that. unavailable: the process was down, nothing sent. unknown: any
   * other retriable error or a client timeout: it may or may not have landed.
   */
  outcome: "acked" | "refused" | "timedOut" | "unavailable" | "unknown";
  offsets?: RecordOffset[];
  code?: string;
  process: string;
  sentAt: number;
  answeredAt: number;
  /** When the client gave up and closed the connection, if it did. */
  abortedAt?: number;
}

export class ProcessUnavailable extends FloeError {
  constructor(name: string) {
    super("NETWORK_EXCEPTION", `sim: process ${name} is down`, { retriable: true, fault: "server" });
  }
}

export class ClientTimeout extends FloeError {
  constructor(what: string, ms: number) {
    super("REQUEST_TIMED_OUT", `sim: client gave up on ${what} after ${ms} ms`, {
      retriable: true,
      fault: "server",
    });
  }
}

/** One server process; `start` makes a new incarnation with nothing in memory. */
export class SimProcess {
  incarnation = 0;
  life!: Life;
  broker!: Broker;
  coordinator!: GroupCoordinator;
  maintenance!: Maintenance;
  committer: GroupCommitter | undefined;
  private ids = 0;

  constructor(
    readonly name: string,
    private readonly world: World,
    private readonly groupCommit: boolean,
  ) {}

  start(): void {
    const { world } = this;
    this.incarnation++;
    const life: Life = { name: `${this.name}.${this.incarnation}`, alive: true };
    this.life = life;
    const rng = world.rng.fork(life.name);
    const clock = () => world.sched.now;
    const dice = new FaultDice(
      world.sched,
      rng.fork("dice"),
      life,
      () => world.rates,
      world.counts,
      (why) => this.crash(why),
    );
    const observer: StorageObserver = {
      onPut: (key, body) => world.notePut(key, body),
      onDelete: (key) => world.checkDelete(key, life.name),
      onCommit: (ops, issuedAt) => world.noteCommit(ops, issuedAt),
    };
    const meta = new FaultyMetaStore(world.meta, dice, observer);
    const objects = new FaultyObjectStore(world.objects, dice, observer);
    this.broker = new Broker(
      { meta, objects },
      {
        clock,
        random: rng.fork("broker").fn,
        requestTimeoutMs: world.config.brokerTimeoutMs,
        topicCacheTtlMs: 2_000,
        // A group-committing process stands for `floe dev`, which keeps producers' sequence states.
        producerStateCacheEntries: this.groupCommit ? 1_000 : 0,
      },
    );
    this.coordinator = new GroupCoordinator({
      meta,
      broker: this.broker,
      clock,
      random: rng.fork("groups").fn,
      newId: () => `${life.name}-id${++this.ids}`,
      sessionTimeoutMs: SESSION_TIMEOUT_MS,
      heartbeatIntervalMs: HEARTBEAT_INTERVAL_MS,
    });
    this.maintenance = new Maintenance(
      { meta, objects },
      {
        owner: life.name,
        clock,
        random: rng.fork("maintenance").fn,
        segmentBytes: 1024,
        minSegmentsPerMerge: 2,
        maxSegmentsPerMerge: 8,
        gcGraceMs: GC_GRACE_MS,
        leaseMs: 4_000,
        gcPageSize: 20,
        concurrency: 4,
      },
    );
    this.committer = this.groupCommit ? new GroupCommitter(this.broker, { lingerMs: 5 }) : undefined;
    world.sched.trace(`start ${life.name}${this.groupCommit ? " group-commit" : ""}`);
  }

  /** Dies: every storage call of this incarnation hangs for ever; a new one starts later. */
  crash(why: FaultKind): void {
    if (!this.life.alive) return;
    this.life.alive = false;
    const { world } = this;
    world.sched.trace(`crash ${this.life.name} (${why})`);
    const dead = this.life;
    world.sched.setTimeout(
      () => {
        if (this.life === dead) this.start();
      },
      world.processRng.int(200, 4_000),
    );
  }

  produce(request: AppendRequest): Promise<RecordOffset[]> {
    return this.committer ? this.committer.produce(request) : this.broker.produce(request);
  }
}

export class World {
  readonly meta = new MemoryMetaStore();
  readonly objects = new MemoryObjectStore();
  readonly processes: SimProcess[] = [];
  readonly attempts: Attempt[] = [];
  readonly violations: Violation[] = [];
  /** Fault rates now in force; swapped for none while the run settles. */
  rates: FaultRates;
  readonly processRng: Random;
  /** Set once the producers are done: consumers leave, chaos stops. */
  stopping = false;
  /** Set for the final checks: background loops (maintenance, churn) end. */
  finished = false;

  constructor(
    readonly sched: Scheduler,
    readonly rng: Random,
    readonly config: WorldConfig,
    rates: FaultRates,
    readonly counts: FaultCounts,
  ) {
    this.rates = rates;
    this.processRng = rng.fork("processes");
    for (let i = 0; i < config.processes; i++) {
      this.processes.push(new SimProcess(`proc${i}`, this, config.groupCommit[i] ?? false));
    }
  }

  violation(invariant: string, detail: string): void {
    this.sched.trace(`VIOLATION ${invariant}: ${detail}`);
    this.violations.push({ invariant, detail: `${detail} (at virtual ${this.sched.now})` });
  }

  /** A live process chosen at random, or null when all are down. */
  pickLive(rng: Random): SimProcess | null {
    const live = this.processes.filter((p) => p.life.alive);
    return live.length === 0 ? null : rng.pick(live);
  }

  /**
   * A client's call to a process: refused at once if the process is down (nothing sent), given up
   * after `timeoutMs` (the call may still land), else its answer. Giving up closes the connection,
   * which the server sees as `signal` aborting, as `floe dev` does.
   */
  call<T>(
    proc: SimProcess,
    what: string,
    timeoutMs: number,
    fn: (signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    if (!proc.life.alive) return Promise.reject(new ProcessUnavailable(proc.life.name));
    const connection = new AbortController();
    return new Promise<T>((resolve, reject) => {
      const timer = this.sched.setTimeout(() => {
        this.counts.clientTimeout++;
        reject(new ClientTimeout(what, timeoutMs));
        connection.abort(new ClientTimeout(what, timeoutMs));
      }, timeoutMs);
      fn(connection.signal).then(
        (v) => {
          this.sched.clear(timer);
          resolve(v);
        },
        (e) => {
          this.sched.clear(timer);
          reject(e);
        },
      );
    });
  }

  /** A fault-free broker straight over the storage: for setup and for the final read-back. */
  cleanBroker(): Broker {
    return new Broker(
      { meta: this.meta, objects: this.objects },
      { clock: () => this.sched.now, random: this.rng.fork("clean").fn, topicCacheTtlMs: 0 },
    );
  }

  /** Record id → the first object written holding it (the append's own object). */
  readonly objectOf = new Map<string, string>();
  /** Object key → when the transaction that first indexed it was sent. */
  readonly indexedAt = new Map<string, number>();

  notePut(key: string, body: Uint8Array): void {
    // Values are the ids' ASCII bytes, stored as they are in the batches.
    for (const m of Buffer.from(body)
      .toString("latin1")
      .matchAll(/(?:plain|idem)\d+\/\d+(?:\/\d+)?#\d+/g)) {
      if (!this.objectOf.has(m[0])) this.objectOf.set(m[0], key);
      if (process.env.FLOE_SIM_DEBUG) this.sched.trace(`debug put ${key} holds ${m[0]}`);
    }
  }

  noteCommit(ops: WriteOp[], issuedAt: number): void {
    for (const op of ops) {
      if (op.type !== "put" || !op.sk.startsWith("seg#") || typeof op.data.key !== "string") continue;
      if (!this.indexedAt.has(op.data.key)) this.indexedAt.set(op.data.key, issuedAt);
      if (process.env.FLOE_SIM_DEBUG) {
        this.sched.trace(
          `debug commit sent@${issuedAt} ${op.pk} ${op.sk} ${JSON.stringify(op.condition)} ${op.data.key} [${op.data.base},${op.data.end})`,
        );
      }
    }
  }

  /**
   * The GC invariant, checked at the instant a delete is about to apply: no `seg#` item of any
   * partition may still name the object.
   */
  checkDelete(key: string, by: string): void {
    for (const [pk, sk] of this.indexedBy(key)) {
      this.violation("gc-deletes-referenced-object", `${by} deleted ${key}, still indexed by ${pk} ${sk}`);
    }
  }

  /** Every `seg#` item naming `key`, read synchronously from the memory store. */
  indexedBy(key: string): [string, string][] {
    const out: [string, string][] = [];
    for (const [pk, rows] of memoryRows(this.meta)) {
      if (!pk.startsWith("part#")) continue;
      for (const row of rows) if (row.sk.startsWith("seg#") && row.data.key === key) out.push([pk, row.sk]);
    }
    return out;
  }

  /** The topic's id right now, or null while it does not exist (read synchronously). */
  topicIdNow(name: string): string | null {
    const row = memoryRows(this.meta)
      .get(`topic#${name}`)
      ?.find((r) => r.sk === "meta");
    if (!row || row.data.deleted === true || typeof row.data.topicId !== "string") return null;
    return row.data.topicId;
  }

  /** Every `seg#` item's object key, for the end-of-run existence check. */
  indexedObjects(): Map<string, string> {
    const out = new Map<string, string>();
    for (const [pk, rows] of memoryRows(this.meta)) {
      if (!pk.startsWith("part#")) continue;
      for (const row of rows) {
        if (row.sk.startsWith("seg#") && typeof row.data.key === "string")
          out.set(row.data.key, `${pk} ${row.sk}`);
      }
    }
    return out;
  }
}

/**
 * The memory store's rows, read synchronously so a check sees one instant. The store keeps them in
 * a private map; if its shape changes this fails loudly rather than checking nothing.
 */
function memoryRows(meta: MemoryMetaStore): Map<string, { sk: string; data: Record<string, unknown> }[]> {
  const rows = (meta as unknown as { partitions?: unknown }).partitions;
  if (!(rows instanceof Map)) throw new Error("sim: MemoryMetaStore no longer keeps a `partitions` map");
  return rows as Map<string, { sk: string; data: Record<string, unknown> }[]>;
}
