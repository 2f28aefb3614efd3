/**
 * What the simulation injects, how often, and how many of each it did. Every rate is a per-call
 * probability drawn from the seed, so one seed always gets the same mix.
 */
import { StorageError } from "../../src/errors.js";
import type { WriteOp } from "../../src/storage/ports.js";
import type { Random } from "./random.js";
import type { Scheduler } from "./scheduler.js";

export const FAULT_KINDS = [
  /** A storage call held up by 100 ms – 12 s. */
  "latencySpike",
  /** Throttling before the call (nothing applied): a retriable StorageError. */
  "throttle",
  /** A transaction refused with ConditionFailedError although nothing conflicted (nothing applied). */
  "conflict",
  /** A transaction that applied, then answered a retriable timeout: the write landed. */
  "timeoutLanded",
  /** A transaction that timed out without applying. */
  "timeoutLost",
  /** An object PUT refused before anything was written. */
  "putFailed",
  /** An object PUT that was written, then answered an error (an orphan for GC). */
  "putLostAck",
  /** The process dies right after an object PUT landed, before its commit. */
  "crashAfterPut",
  /** The process dies inside a transaction, which landed or not (a coin). */
  "crashInTransact",
  /** The process dies at a random instant; a new incarnation with empty memory starts later. */
  "processCrash",
  /** A group member dies without leaving; a new member takes its place. */
  "memberCrash",
  /** A client gave up waiting for an answer (its request may still land). */
  "clientTimeout",
  /** A deliberately invalid produce request (must be refused and append nothing). */
  "invalidRequest",
  /** The churn topic was deleted (a neighbour of healthy requests in a group commit). */
  "topicDeleted",
] as const;

export type FaultKind = (typeof FAULT_KINDS)[number];

export type FaultRates = Record<Exclude<FaultKind, "clientTimeout" | "topicDeleted">, number>;

export type FaultCounts = Record<FaultKind, number>;

export function emptyCounts(): FaultCounts {
  return Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as FaultCounts;
}

/** Upper bounds per kind; each seed turns a kind off or draws a rate below its bound. */
const MAX_RATES: FaultRates = {
  latencySpike: 0.04,
  throttle: 0.04,
  conflict: 0.05,
  timeoutLanded: 0.02,
  timeoutLost: 0.02,
  putFailed: 0.04,
  putLostAck: 0.03,
  crashAfterPut: 0.01,
  crashInTransact: 0.004,
  /** Per process, per virtual second. */
  processCrash: 0.03,
  /** Per heartbeat. */
  memberCrash: 0.02,
  /** Per produce request. */
  invalidRequest: 0.05,
};

export function drawRates(rng: Random): FaultRates {
  const out = {} as FaultRates;
  for (const [kind, max] of Object.entries(MAX_RATES) as [keyof FaultRates, number][]) {
    out[kind] = rng.chance(0.75) ? rng.float() * max : 0;
  }
  return out;
}

export function noFaults(): FaultRates {
  return Object.fromEntries(Object.keys(MAX_RATES).map((k) => [k, 0])) as FaultRates;
}

/** One process incarnation: once dead, none of its storage calls ever answers again. */
export interface Life {
  readonly name: string;
  alive: boolean;
}

/** What the checks watch happen in storage, at the instant it happens. */
export interface StorageObserver {
  /** An object was written. */
  onPut(key: string, body: Uint8Array): void;
  /** An object is about to be deleted: the GC invariant's vantage point. */
  onDelete(key: string): void;
  /** A transaction applied; `issuedAt` is when its caller sent it. */
  onCommit(ops: WriteOp[], issuedAt: number): void;
}

/** A promise that never settles: what a dead process's callers wait on. */
export function hang<T>(): Promise<T> {
  return new Promise<T>(() => {});
}

/** The fault dice one port wrapper rolls: shared by the meta and object store wrappers of a process. */
export class FaultDice {
  constructor(
    readonly sched: Scheduler,
    readonly rng: Random,
    readonly life: Life,
    /** The current rates (the run swaps them for none while it settles). */
    private readonly rates: () => FaultRates,
    readonly counts: FaultCounts,
    /** Kills this incarnation (the process then restarts, empty, later). */
    readonly crash: (why: FaultKind) => void,
  ) {}

  /** Rolls for `kind`; counts and traces a hit. */
  roll(kind: keyof FaultRates, what: string): boolean {
    const rate = this.rates()[kind];
    if (!this.rng.chance(rate)) return false;
    this.counts[kind]++;
    this.sched.trace(`fault ${kind} ${this.life.name} ${what}`);
    return true;
  }

  /** Each storage call takes a few ms, sometimes much longer. */
  async latency(what: string): Promise<void> {
    let ms = this.rng.int(0, 3);
    if (this.roll("latencySpike", what))
      ms += this.rng.chance(0.15) ? this.rng.int(6000, 12000) : this.rng.int(100, 3000);
    if (ms > 0) await this.sched.sleep(ms);
    if (!this.life.alive) await hang();
  }

  /** Before a call: dead processes hang, then latency, then maybe throttling. */
  async before(what: string): Promise<void> {
    if (!this.life.alive) await hang();
    await this.latency(what);
    if (this.roll("throttle", what)) throw new StorageError(`sim: throttled (${what})`);
  }

  /** After a call answered: latency back, and a dead process never delivers the answer. */
  async after<T>(what: string, value: T): Promise<T> {
    await this.latency(what);
    return value;
  }

  timeout(what: string): StorageError {
    return new StorageError(`sim: timed out (${what})`);
  }
}
