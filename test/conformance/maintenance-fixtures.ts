/**
 * Shared by the maintenance conformance suites: a clock tests move by hand, port wrappers that
 * pause or fail at a chosen step, and helpers that produce and read back records.
 */
import { expect } from "vitest";
import type { Broker } from "../../src/broker/broker.js";
import { keys } from "../../src/broker/keys.js";
import { leaseKey } from "../../src/broker/lease.js";
import { StorageError } from "../../src/errors.js";
import type {
  ByteRange,
  Item,
  MetaStore,
  ObjectInfo,
  ObjectStore,
  QueryOptions,
  WriteOp,
} from "../../src/storage/ports.js";

const enc = new TextEncoder();
const dec = new TextDecoder();
export const bytes = (s: string) => enc.encode(s);
export const text = (b: Uint8Array | null) => (b === null ? null : dec.decode(b));

export { expectCode } from "../support/faults.js";

/**
 * Real time plus a skew the test advances: object stores stamp lastModified with the real clock,
 * so garbage collection's grace period is crossed by skewing, never by sleeping.
 */
export class SkewClock {
  skew = 0;
  readonly now = () => Date.now() + this.skew;
  advance(ms: number): void {
    this.skew += ms;
  }
}

/** A one-shot barrier: `reached` resolves when someone waits on it, `open()` lets them through. */
export class Gate {
  private release!: () => void;
  private arrived!: () => void;
  readonly opened = new Promise<void>((r) => (this.release = r));
  readonly reached = new Promise<void>((r) => (this.arrived = r));
  async pass(): Promise<void> {
    this.arrived();
    await this.opened;
  }
  open(): void {
    this.release();
  }
}

type Hook<A extends unknown[]> = ((...args: A) => void | Promise<void>) | undefined;

/** A MetaStore whose transactions a test may pause or fail, before or after they apply. */
export class HookedMeta implements MetaStore {
  beforeTransact: Hook<[WriteOp[]]>;
  afterTransact: Hook<[WriteOp[]]>;
  afterGet: Hook<[string, string]>;
  constructor(readonly inner: MetaStore) {}
  async get(pk: string, sk: string): Promise<Item | undefined> {
    const item = await this.inner.get(pk, sk);
    await this.afterGet?.(pk, sk);
    return item;
  }
  query(pk: string, options?: QueryOptions): Promise<Item[]> {
    return this.inner.query(pk, options);
  }
  async transact(ops: WriteOp[]): Promise<void> {
    await this.beforeTransact?.(ops);
    await this.inner.transact(ops);
    await this.afterTransact?.(ops);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

/** An ObjectStore whose puts and deletes a test may pause or fail, before or after they apply. */
export class HookedObjects implements ObjectStore {
  beforePut: Hook<[string]>;
  afterPut: Hook<[string]>;
  afterDelete: Hook<[string]>;
  constructor(readonly inner: ObjectStore) {}
  async put(key: string, body: Uint8Array): Promise<void> {
    await this.beforePut?.(key);
    await this.inner.put(key, body);
    await this.afterPut?.(key);
  }
  get(key: string, range?: ByteRange): Promise<Uint8Array> {
    return this.inner.get(key, range);
  }
  async delete(key: string): Promise<void> {
    await this.inner.delete(key);
    await this.afterDelete?.(key);
  }
  list(prefix: string, options?: { startAfter?: string; limit?: number }): Promise<ObjectInfo[]> {
    return this.inner.list(prefix, options);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

/** A failure that fires once, the first time `when` holds; a crash at that step, as far as the caller can tell. */
export function once<A extends unknown[]>(when: (...args: A) => boolean, message: string): Hook<A> {
  let fired = false;
  return (...args: A) => {
    if (fired || !when(...args)) return;
    fired = true;
    throw new StorageError(`injected: ${message}`);
  };
}

/** Whether a transaction is a merge's index swap: it creates a new object's refs under a lease. */
export function isSwap(ops: WriteOp[]): boolean {
  return (
    ops[0]?.type === "check" &&
    ops[0].sk === "lease" &&
    ops.some(
      (op) =>
        op.type === "put" &&
        op.pk.startsWith("obj#") &&
        op.condition !== undefined &&
        "absent" in op.condition,
    )
  );
}

/** Whether a transaction is written under the lease of the given partition. */
export function underLease(ops: WriteOp[], topicId: string, partition: number): boolean {
  const k = leaseKey(topicId, partition);
  return ops[0]?.type === "check" && ops[0].pk === k.pk && ops[0].sk === k.sk;
}

/** The offset → value map of what was acknowledged, per partition. */
export type Acked = Map<number, string>[];

/**
 * `appends` produce calls of `perAppend` records each, `concurrency` in flight at a time (default
 * 10); record j of call i goes to partition j % partitions, so with several partitions every object
 * holds several chunks.
 */
export async function produceSmall(
  broker: Broker,
  topic: string,
  partitions: number,
  appends: number,
  perAppend: number,
  options: { timestamp?: (call: number) => number; concurrency?: number } = {},
): Promise<Acked> {
  const acked: Acked = Array.from({ length: partitions }, () => new Map());
  const concurrency = options.concurrency ?? 10;
  for (let i = 0; i < appends; i += concurrency) {
    await Promise.all(
      Array.from({ length: Math.min(concurrency, appends - i) }, async (_, k) => {
        const call = i + k;
        const values = Array.from({ length: perAppend }, (_, j) => `a${call}-r${j}`);
        const offsets = await broker.produce({
          topic,
          records: values.map((v, j) => ({
            value: bytes(v),
            partition: j % partitions,
            timestamp: options.timestamp?.(call),
          })),
        });
        offsets.forEach((o, j) => {
          acked[o.partition].set(o.offset, values[j]);
        });
      }),
    );
  }
  return acked;
}

/** Every record of the partition from `from` on, read the way a consumer reads, as offset → value. */
export async function readAll(
  broker: Broker,
  topic: string,
  partition: number,
  from = 0,
): Promise<Map<number, string>> {
  const out = new Map<number, string>();
  let offset = from;
  for (;;) {
    const r = await broker.fetch({ topic, partition, offset, maxRecords: 5000, maxBytes: 64 * 1024 * 1024 });
    for (const rec of r.records) out.set(rec.offset, text(rec.value)!);
    if (r.records.length === 0 || r.nextOffset >= r.highWatermark) return out;
    offset = r.nextOffset;
  }
}

/** Asserts the partition holds exactly what was acknowledged, each record at its offset. */
export async function expectLossless(
  broker: Broker,
  topic: string,
  acked: Acked,
  from: number[] = acked.map(() => 0),
): Promise<void> {
  for (let p = 0; p < acked.length; p++) {
    const want = [...acked[p]].filter(([o]) => o >= from[p]).sort((a, b) => a[0] - b[0]);
    const got = [...(await readAll(broker, topic, p, from[p]))].sort((a, b) => a[0] - b[0]);
    expect(got).toEqual(want);
  }
}

export async function segmentItems(meta: MetaStore, topicId: string, partition: number): Promise<Item[]> {
  return meta.query(keys.partition(topicId, partition), { prefix: keys.segmentPrefix });
}

export async function objectKeys(objects: ObjectStore): Promise<string[]> {
  const out: string[] = [];
  let startAfter: string | undefined;
  for (;;) {
    const page = await objects.list("segments/", { startAfter, limit: 1000 });
    out.push(...page.map((o) => o.key));
    if (page.length < 1000) return out;
    startAfter = page[page.length - 1].key;
  }
}

export async function refsOf(meta: MetaStore, objectKey: string): Promise<Item | undefined> {
  const k = keys.objectRef(objectKey);
  return meta.get(k.pk, k.sk);
}
