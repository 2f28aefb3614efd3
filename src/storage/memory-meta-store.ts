/** MetaStore in process memory, for tests: per-pk arrays kept sorted by sk, docs deep-copied. */
import { ConditionFailedError } from "../errors.js";
import { compareKeys, foldBounds, keyInRange } from "./order.js";
import type { Doc, Item, MetaStore, QueryOptions, WriteOp } from "./ports.js";
import { assertItemKey, assertPk, assertQueryLimit, conditionHolds, validateTransact } from "./validate.js";

interface Row {
  sk: string;
  version: number;
  data: Doc;
}

export class MemoryMetaStore implements MetaStore {
  private readonly partitions = new Map<string, Row[]>();

  async get(pk: string, sk: string): Promise<Item | undefined> {
    assertItemKey(pk, sk);
    const rows = this.partitions.get(pk);
    if (!rows) return undefined;
    const i = lowerBound(rows, sk);
    return i < rows.length && rows[i].sk === sk ? toItem(pk, rows[i]) : undefined;
  }

  async query(pk: string, options: QueryOptions = {}): Promise<Item[]> {
    assertPk(pk);
    const limit = assertQueryLimit(options.limit);
    const rows = this.partitions.get(pk) ?? [];
    const out: Item[] = [];
    const bounds = foldBounds(options);
    if (limit === 0 || bounds.empty) return out;
    // Narrow to [lo, hi) by binary search; keyInRange then settles exclusive ends.
    const lo = bounds.lower ? lowerBound(rows, bounds.lower.value) : 0;
    let hi = rows.length;
    if (bounds.upper) {
      hi = lowerBound(rows, bounds.upper.value);
      if (bounds.upper.inclusive && hi < rows.length && rows[hi].sk === bounds.upper.value) hi++;
    }
    for (let j = 0; j < hi - lo && out.length < limit; j++) {
      const row = rows[options.reverse ? hi - 1 - j : lo + j];
      if (keyInRange(row.sk, options)) out.push(toItem(pk, row));
    }
    return out;
  }

  async transact(ops: WriteOp[]): Promise<void> {
    validateTransact(ops);
    // Synchronous from here on: no other call can interleave, so check-then-write is atomic.
    const failed: number[] = [];
    ops.forEach((op, i) => {
      if (!conditionHolds(op.condition, this.find(op.pk, op.sk)?.version)) failed.push(i);
    });
    if (failed.length > 0) {
      throw new ConditionFailedError(`transact condition failed on op ${failed.join(", ")}`, failed);
    }
    const data = ops.map((op) => (op.type === "put" ? structuredClone(op.data) : undefined));
    ops.forEach((op, i) => {
      if (op.type === "put") this.write(op.pk, op.sk, data[i]!);
      else if (op.type === "delete") this.remove(op.pk, op.sk);
    });
  }

  async close(): Promise<void> {}

  private find(pk: string, sk: string): Row | undefined {
    const rows = this.partitions.get(pk);
    if (!rows) return undefined;
    const i = lowerBound(rows, sk);
    return i < rows.length && rows[i].sk === sk ? rows[i] : undefined;
  }

  private write(pk: string, sk: string, data: Doc): void {
    let rows = this.partitions.get(pk);
    if (!rows) this.partitions.set(pk, (rows = []));
    const i = lowerBound(rows, sk);
    if (i < rows.length && rows[i].sk === sk) rows[i] = { sk, version: rows[i].version + 1, data };
    else rows.splice(i, 0, { sk, version: 1, data });
  }

  private remove(pk: string, sk: string): void {
    const rows = this.partitions.get(pk);
    if (!rows) return;
    const i = lowerBound(rows, sk);
    if (i < rows.length && rows[i].sk === sk) rows.splice(i, 1);
    if (rows.length === 0) this.partitions.delete(pk);
  }
}

function lowerBound(rows: Row[], sk: string): number {
  let lo = 0;
  let hi = rows.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareKeys(rows[mid].sk, sk) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function toItem(pk: string, row: Row): Item {
  return { pk, sk: row.sk, version: row.version, data: structuredClone(row.data) };
}
