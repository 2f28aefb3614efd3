/** ObjectStore in process memory, for tests. Bytes are copied in and out. */
import { ObjectNotFoundError } from "../errors.js";
import { compareKeys } from "./order.js";
import type { ByteRange, ObjectInfo, ObjectStore } from "./ports.js";
import { assertByteRange, assertListLimit, assertObjectKey } from "./validate.js";

interface Stored {
  body: Uint8Array;
  lastModified: number;
}

export class MemoryObjectStore implements ObjectStore {
  private readonly objects = new Map<string, Stored>();
  /** Keys in code-point order, kept sorted on insert and delete. */
  private readonly sorted: string[] = [];

  async put(key: string, body: Uint8Array): Promise<void> {
    assertObjectKey(key);
    const copy = Uint8Array.prototype.slice.call(body);
    if (!this.objects.has(key)) this.sorted.splice(this.lowerBound(key), 0, key);
    this.objects.set(key, { body: copy, lastModified: Date.now() });
  }

  async get(key: string, range?: ByteRange): Promise<Uint8Array> {
    assertObjectKey(key);
    const stored = this.objects.get(key);
    if (range) assertByteRange(range);
    if (!stored) throw new ObjectNotFoundError(key);
    if (!range) return stored.body.slice();
    return stored.body.slice(range.start, range.end);
  }

  async delete(key: string): Promise<void> {
    assertObjectKey(key);
    if (!this.objects.delete(key)) return;
    this.sorted.splice(this.lowerBound(key), 1);
  }

  async list(prefix: string, options: { startAfter?: string; limit?: number } = {}): Promise<ObjectInfo[]> {
    const limit = assertListLimit(options.limit);
    const { startAfter } = options;
    let i = this.lowerBound(
      startAfter !== undefined && compareKeys(startAfter, prefix) > 0 ? startAfter : prefix,
    );
    const out: ObjectInfo[] = [];
    for (; i < this.sorted.length && out.length < limit; i++) {
      const key = this.sorted[i];
      // Keys with the prefix are contiguous in sorted order: the first one without it ends the run.
      if (!key.startsWith(prefix)) break;
      if (startAfter !== undefined && compareKeys(key, startAfter) <= 0) continue;
      const stored = this.objects.get(key)!;
      out.push({ key, size: stored.body.byteLength, lastModified: stored.lastModified });
    }
    return out;
  }

  async close(): Promise<void> {}

  /** Index of the first key not less than `key`. */
  private lowerBound(key: string): number {
    let lo = 0;
    let hi = this.sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareKeys(this.sorted[mid], key) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
