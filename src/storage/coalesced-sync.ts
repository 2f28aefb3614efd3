/**
 * Shares one fsync among every writer that asks while it runs, as a group commit shares one
 * write: a request is answered by a sync that started after it was made (so it covers every
 * write made before the request), and at most one sync runs at a time, with at most one more
 * queued behind it for all the requests that arrived meanwhile.
 */
export class CoalescedSync {
  private running: Promise<void> | undefined;
  private queued: Promise<void> | undefined;

  constructor(private readonly sync: () => Promise<void>) {}

  request(): Promise<void> {
    if (!this.running) return this.start();
    // The running sync may have started before this request's write: wait for the next one.
    this.queued ??= this.running.then(
      () => this.startQueued(),
      () => this.startQueued(),
    );
    return this.queued;
  }

  /** Settles once no sync runs or waits (for a clean close). */
  async idle(): Promise<void> {
    while (this.running || this.queued) await Promise.allSettled([this.running, this.queued]);
  }

  private startQueued(): Promise<void> {
    this.queued = undefined;
    return this.start();
  }

  private start(): Promise<void> {
    const run: Promise<void> = this.sync().finally(() => {
      if (this.running === run) this.running = undefined;
    });
    this.running = run;
    return run;
  }
}
