/**
 * Wakes long-polling fetches in this process the moment an append commits here. Appends made by
 * other processes (other Lambda instances) are seen by the fetch's polling instead.
 */
export class AppendNotifier {
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
      const wake = () => {
        clearTimeout(timer);
        set.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, Math.max(0, timeoutMs));
      set.add(wake);
    });
  }
}
