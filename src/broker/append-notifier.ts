/**
 * Wakes long-polling fetches in this process the moment an append commits here. Appends made by
 * other processes (other Lambda instances) are seen by the fetch's polling instead.
 */
export class AppendNotifier {
  /** Only partitions with a waiter now: an entry leaves with its last waiter, so the map stays as small as the wait. */
  private readonly waiters = new Map<string, Set<() => void>>();

  notify(topicId: string, partition: number): void {
    const key = `${topicId}#${partition}`;
    const set = this.waiters.get(key);
    if (!set) return;
    this.waiters.delete(key);
    for (const wake of set) wake();
  }

  /** Resolves on the next append to the partition or after `timeoutMs`, whichever is first. */
  wait(topicId: string, partition: number, timeoutMs: number): Promise<void> {
    const key = `${topicId}#${partition}`;
    return new Promise((resolve) => {
      let set = this.waiters.get(key);
      if (!set) this.waiters.set(key, (set = new Set()));
      const waiting = set;
      const wake = () => {
        clearTimeout(timer);
        waiting.delete(wake);
        // A timeout leaves the set in the map; the last waiter to leave removes it (unless a
        // notify already did and a newer set took its place).
        if (waiting.size === 0 && this.waiters.get(key) === waiting) this.waiters.delete(key);
        resolve();
      };
      const timer = setTimeout(wake, Math.max(0, timeoutMs));
      waiting.add(wake);
    });
  }

  /** Partitions with a waiter now (for tests and diagnostics). */
  get waitingPartitions(): number {
    return this.waiters.size;
  }
}
