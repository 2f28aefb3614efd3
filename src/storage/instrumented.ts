/**
 * Counting decorators over the two ports, for the benchmark and for anyone asking "what does this
 * workload cost in requests?". They change nothing about the calls they pass through.
 *
 * Besides plain counts they keep DynamoDB's on-demand units as DynamoDB would bill these calls
 * (`modelled*Units`: strongly consistent reads at 4 KB per unit, writes at 1 KB per unit, doubled
 * inside a transaction, a ConditionCheck billed as a transactional write), so a run on SQLite or
 * memory can still be priced. When the inner store reports what it really consumed (the DynamoDB
 * adapter's `onConsumedCapacity`), those figures are kept beside them.
 */
import type {
  Backend,
  ByteRange,
  Doc,
  Item,
  MetaStore,
  ObjectInfo,
  ObjectStore,
  QueryOptions,
  WriteOp,
} from "./ports.js";

export interface ObjectCounts {
  puts: number;
  putBytes: number;
  gets: number;
  getBytes: number;
  lists: number;
  deletes: number;
  /** Wall time spent in puts and in gets (summed over concurrent calls), in ms. */
  putMs: number;
  getMs: number;
}

export interface MetaCounts {
  gets: number;
  queries: number;
  /** Items returned by gets and queries. */
  itemsRead: number;
  /** transact() calls, each one atomic write (a lone op included). */
  transacts: number;
  /** Puts and deletes inside them. */
  itemsWritten: number;
  /** Checks inside them (they write nothing, but a transaction bills them). */
  checks: number;
  modelledReadUnits: number;
  modelledWriteUnits: number;
  /** As reported by the store itself; 0 when it reports nothing (see reportedCalls). */
  reportedReadUnits: number;
  reportedWriteUnits: number;
  /** Calls for which the store reported consumed capacity. */
  reportedCalls: number;
  /** Wall time spent in reads (gets and queries) and in transacts, in ms. */
  readMs: number;
  transactMs: number;
}

export interface StorageCounts {
  objects: ObjectCounts;
  meta: MetaCounts;
}

/** One write as it reached the ports, in order: what a raw-storage baseline replays. */
export type WriteRecord =
  | { kind: "put"; bytes: number }
  | { kind: "transact"; puts: number; deletes: number; checks: number };

/** Consumed capacity of one call, as DynamoDB reports it (ReturnConsumedCapacity: TOTAL). */
export interface ConsumedCapacity {
  readUnits: number;
  writeUnits: number;
}

/** A MetaStore that can tell what each call consumed (the DynamoDB adapter). */
export interface ReportsConsumedCapacity {
  onConsumedCapacity?: (capacity: ConsumedCapacity) => void;
}

const READ_UNIT_BYTES = 4096;
const WRITE_UNIT_BYTES = 1024;

function zeroObjects(): ObjectCounts {
  return { puts: 0, putBytes: 0, gets: 0, getBytes: 0, lists: 0, deletes: 0, putMs: 0, getMs: 0 };
}

function zeroMeta(): MetaCounts {
  return {
    gets: 0,
    queries: 0,
    itemsRead: 0,
    transacts: 0,
    itemsWritten: 0,
    checks: 0,
    modelledReadUnits: 0,
    modelledWriteUnits: 0,
    reportedReadUnits: 0,
    reportedWriteUnits: 0,
    reportedCalls: 0,
    readMs: 0,
    transactMs: 0,
  };
}

/** An item's size as DynamoDB counts it, near enough: attribute names and values of pk, sk, v and the doc. */
export function itemBytes(pk: string, sk: string, data: Doc | undefined): number {
  return (
    2 +
    Buffer.byteLength(pk) +
    2 +
    Buffer.byteLength(sk) +
    1 +
    8 +
    1 +
    (data ? Buffer.byteLength(JSON.stringify(data)) : 0)
  );
}

/** Where a call is counted: every counts object it returns is bumped (the total, and the caller's label's). */
type Sink<T> = () => T[];

export class InstrumentedObjectStore implements ObjectStore {
  constructor(
    private readonly inner: ObjectStore,
    private readonly sink: Sink<ObjectCounts>,
    private readonly log?: WriteRecord[],
  ) {}

  async put(key: string, body: Uint8Array): Promise<void> {
    const started = performance.now();
    await this.inner.put(key, body);
    const ms = performance.now() - started;
    for (const c of this.sink()) {
      c.puts++;
      c.putBytes += body.length;
      c.putMs += ms;
    }
    this.log?.push({ kind: "put", bytes: body.length });
  }

  async get(key: string, range?: ByteRange): Promise<Uint8Array> {
    const started = performance.now();
    const bytes = await this.inner.get(key, range);
    const ms = performance.now() - started;
    for (const c of this.sink()) {
      c.gets++;
      c.getBytes += bytes.length;
      c.getMs += ms;
    }
    return bytes;
  }

  async delete(key: string): Promise<void> {
    await this.inner.delete(key);
    for (const c of this.sink()) c.deletes++;
  }

  async list(prefix: string, options?: { startAfter?: string; limit?: number }): Promise<ObjectInfo[]> {
    const page = await this.inner.list(prefix, options);
    for (const c of this.sink()) c.lists++;
    return page;
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

export class InstrumentedMetaStore implements MetaStore {
  constructor(
    private readonly inner: MetaStore,
    private readonly sink: Sink<MetaCounts>,
    private readonly log?: WriteRecord[],
  ) {
    if ("onConsumedCapacity" in inner) {
      (inner as MetaStore & ReportsConsumedCapacity).onConsumedCapacity = (capacity) => {
        for (const c of sink()) {
          c.reportedCalls++;
          c.reportedReadUnits += capacity.readUnits;
          c.reportedWriteUnits += capacity.writeUnits;
        }
      };
    }
  }

  async get(pk: string, sk: string): Promise<Item | undefined> {
    const started = performance.now();
    const item = await this.inner.get(pk, sk);
    const ms = performance.now() - started;
    const units = Math.max(1, Math.ceil((item ? itemBytes(pk, sk, item.data) : 0) / READ_UNIT_BYTES));
    for (const c of this.sink()) {
      c.gets++;
      if (item) c.itemsRead++;
      c.modelledReadUnits += units;
      c.readMs += ms;
    }
    return item;
  }

  async query(pk: string, options?: QueryOptions): Promise<Item[]> {
    const started = performance.now();
    const items = await this.inner.query(pk, options);
    const ms = performance.now() - started;
    const bytes = items.reduce((n, i) => n + itemBytes(i.pk, i.sk, i.data), 0);
    for (const c of this.sink()) {
      c.queries++;
      c.itemsRead += items.length;
      c.modelledReadUnits += Math.max(1, Math.ceil(bytes / READ_UNIT_BYTES));
      c.readMs += ms;
    }
    return items;
  }

  async transact(ops: WriteOp[]): Promise<void> {
    const started = performance.now();
    await this.inner.transact(ops);
    const ms = performance.now() - started;
    if (ops.length === 0) return;
    // DynamoDB bills a lone op as a plain write, several as a transaction (twice the units).
    const factor = ops.length === 1 ? 1 : 2;
    let puts = 0;
    let deletes = 0;
    let checks = 0;
    let readUnits = 0;
    let writeUnits = 0;
    for (const op of ops) {
      const bytes = itemBytes(op.pk, op.sk, op.type === "put" ? op.data : undefined);
      if (op.type === "check") checks++;
      else if (op.type === "put") puts++;
      else deletes++;
      // A lone check is a consistent read in the DynamoDB adapter.
      if (op.type === "check" && ops.length === 1) readUnits += 1;
      else writeUnits += factor * Math.max(1, Math.ceil(bytes / WRITE_UNIT_BYTES));
    }
    for (const c of this.sink()) {
      c.transacts++;
      c.itemsWritten += puts + deletes;
      c.checks += checks;
      c.modelledReadUnits += readUnits;
      c.modelledWriteUnits += writeUnits;
      c.transactMs += ms;
    }
    this.log?.push({ kind: "transact", puts, deletes, checks });
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

export interface InstrumentOptions {
  /** Keep every write in order, for `writes()`. */
  recordWrites?: boolean;
  /**
   * Names the caller of each call (e.g. "produce" or "fetch", from an AsyncLocalStorage), so counts
   * can also be read per caller; a call without a label counts only in the total.
   */
  label?: () => string | undefined;
}

/** A backend whose ports count what passes through them. */
export interface InstrumentedBackend {
  backend: Backend;
  /** A copy of the counts so far: of every call, or only of those made under `label`. */
  counts(label?: string): StorageCounts;
  /** The writes so far, in order (empty unless `recordWrites`). */
  writes(): WriteRecord[];
  /** Zeroes the counts and forgets the writes. */
  reset(): void;
}

export function instrumentBackend(backend: Backend, options: InstrumentOptions = {}): InstrumentedBackend {
  let total: StorageCounts = zeroCounts();
  const labelled = new Map<string, StorageCounts>();
  const countsFor = (): StorageCounts[] => {
    const label = options.label?.();
    if (label === undefined) return [total];
    let counts = labelled.get(label);
    if (!counts) labelled.set(label, (counts = zeroCounts()));
    return [total, counts];
  };
  const log: WriteRecord[] | undefined = options.recordWrites ? [] : undefined;
  const wrapped: Backend = {
    kind: backend.kind,
    objects: new InstrumentedObjectStore(backend.objects, () => countsFor().map((c) => c.objects), log),
    meta: new InstrumentedMetaStore(backend.meta, () => countsFor().map((c) => c.meta), log),
    close: () => backend.close(),
  };
  return {
    backend: wrapped,
    counts(label) {
      const c = label === undefined ? total : (labelled.get(label) ?? zeroCounts());
      return { objects: { ...c.objects }, meta: { ...c.meta } };
    },
    writes: () => [...(log ?? [])],
    reset() {
      total = zeroCounts();
      labelled.clear();
      log?.splice(0);
    },
  };
}

function zeroCounts(): StorageCounts {
  return { objects: zeroObjects(), meta: zeroMeta() };
}
