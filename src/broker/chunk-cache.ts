/**
 * Stored chunks (and what is derived from them) by key, charged the bytes they hold, least recently
 * used out first once the byte budget is spent. Segment objects are immutable, so an entry never
 * goes stale. Concurrent readers of one chunk share a single GET. An entry is charged what it
 * keeps in memory, so the budget bounds the memory: callers cache bytes (a chunk as stored, a
 * compressed batch's inflated records), never objects per record.
 */
export class ChunkCache {
  private readonly entries = new Map<string, { value: unknown; bytes: number }>();
  private used = 0;

  constructor(readonly budgetBytes: number) {}

  /**
   * The value under `key`, loading it when absent: charged `bytes` while it loads, then what
   * `charge` says the loaded value holds (when given).
   */
  get<T>(key: string, bytes: number, load: () => Promise<T>, charge?: (value: T) => number): Promise<T> {
    const hit = this.touch(key);
    if (hit) return hit.value as Promise<T>;
    const value = load();
    if (bytes > this.budgetBytes) return value;
    const entry = this.add(key, bytes, value);
    value.then(
      (loaded) => {
        if (charge === undefined || this.entries.get(key) !== entry) return;
        const actual = charge(loaded);
        this.used += actual - entry.bytes;
        entry.bytes = actual;
        if (actual > this.budgetBytes) {
          this.entries.delete(key);
          this.used -= actual;
        }
        this.evict();
      },
      () => {
        // A failed load must not poison the cache.
        if (this.entries.get(key) === entry) {
          this.entries.delete(key);
          this.used -= entry.bytes;
        }
      },
    );
    return value;
  }

  /** A value already in hand, for `peek`; one larger than the whole budget is not kept. */
  put<T>(key: string, bytes: number, value: T): T {
    const old = this.entries.get(key);
    if (old) {
      this.entries.delete(key);
      this.used -= old.bytes;
    }
    if (bytes <= this.budgetBytes) this.add(key, bytes, value);
    return value;
  }

  /** What `put` left under `key`, if it is still there. */
  peek<T>(key: string): T | undefined {
    return this.touch(key)?.value as T | undefined;
  }

  /** Bytes charged to the entries held now; never above the budget once a call returns. */
  get usedBytes(): number {
    return this.used;
  }

  get size(): number {
    return this.entries.size;
  }

  private touch(key: string): { value: unknown; bytes: number } | undefined {
    const hit = this.entries.get(key);
    if (hit) {
      this.entries.delete(key);
      this.entries.set(key, hit);
    }
    return hit;
  }

  private add(key: string, bytes: number, value: unknown): { value: unknown; bytes: number } {
    const entry = { value, bytes };
    this.entries.set(key, entry);
    this.used += bytes;
    this.evict();
    return entry;
  }

  private evict(): void {
    while (this.used > this.budgetBytes) {
      const [oldest, old] = this.entries.entries().next().value as [string, { bytes: number }];
      this.entries.delete(oldest);
      this.used -= old.bytes;
    }
  }
}
