/**
 * Decoded chunks by object key and byte range. Segment objects are immutable, so an entry never
 * goes stale; it only ages out when the byte budget is spent (least recently used first).
 * Concurrent readers of one chunk share a single GET.
 */
export class ChunkCache<T> {
  private readonly entries = new Map<string, { value: Promise<T>; bytes: number }>();
  private used = 0;

  constructor(private readonly budgetBytes: number) {}

  get(key: string, bytes: number, load: () => Promise<T>): Promise<T> {
    const hit = this.entries.get(key);
    if (hit) {
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit.value;
    }
    const value = load();
    if (bytes > this.budgetBytes) return value;
    const entry = { value, bytes };
    this.entries.set(key, entry);
    this.used += bytes;
    // A failed load must not poison the cache.
    value.catch(() => {
      if (this.entries.get(key) === entry) {
        this.entries.delete(key);
        this.used -= bytes;
      }
    });
    while (this.used > this.budgetBytes) {
      const [oldest, old] = this.entries.entries().next().value as [string, { bytes: number }];
      this.entries.delete(oldest);
      this.used -= old.bytes;
    }
    return value;
  }

  get size(): number {
    return this.entries.size;
  }
}
