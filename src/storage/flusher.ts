/**
 * log.flush.interval.ms for the embedded store: every interval, put on disk everything written
 * since the last flush, objects before the metadata that names them (decision 0010).
 */

/** What the flusher needs of the object store (FsObjectStore with fsync "on-flush"). */
export interface PendingObjects {
  hasPending(): boolean;
  syncPending(): Promise<void>;
}

/** What the flusher needs of the metadata store (SqliteMetaStore). */
export interface SyncableMeta {
  hasUnsynced(): boolean;
  /** Synchronous: nothing else runs between the caller's last check and the fsync. */
  syncWal(): void;
  /** Refuses further writes after a failed flush. */
  fail(e: unknown): unknown;
}

export class Flusher {
  private timer: ReturnType<typeof setInterval> | undefined;
  private running: Promise<void> | undefined;
  private failed = false;

  constructor(
    private readonly objects: PendingObjects,
    private readonly meta: SyncableMeta,
    private readonly onError: (error: unknown) => void = () => {},
  ) {}

  /** Flushes every intervalMs; the timer keeps no process alive. */
  start(intervalMs: number): void {
    this.timer = setInterval(() => {
      this.flush().catch(this.onError);
    }, intervalMs);
    this.timer.unref();
  }

  /**
   * One flush (or the one running, then another: a caller needs one that started after its
   * writes). A commit names only objects whose put resolved, and an on-flush put is pending
   * before it resolves. So once the last check sees no pending object, every commit made so far
   * names objects already on disk, and the WAL is synced in the same synchronous run, before any
   * other commit can be made.
   */
  async flush(): Promise<void> {
    while (this.running) await this.running.catch(() => {});
    const run = this.flushOnce().finally(() => {
      if (this.running === run) this.running = undefined;
    });
    this.running = run;
    return run;
  }

  /** Stops the timer and flushes what is left, as Kafka flushes its logs on a clean shutdown. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (!this.failed) await this.flush();
  }

  private async flushOnce(): Promise<void> {
    if (this.failed) return;
    try {
      while (this.objects.hasPending()) await this.objects.syncPending();
      // No await between the check above and this call.
      if (this.meta.hasUnsynced()) this.meta.syncWal();
    } catch (e) {
      this.failed = true;
      this.meta.fail(e);
      throw e;
    }
  }
}
