/**
 * A sleep that can be cut short: the consumer's loops wait on one between rounds, and whatever
 * changes their work (a new assignment, resume, stop) wakes them at once instead of after the wait.
 */
export class Wakeup {
  private pending: (() => void) | undefined;
  private woken = false;

  /** Resolves after `ms`, or at once if wake() was called since the last wait. */
  wait(ms: number = Number.POSITIVE_INFINITY): Promise<void> {
    if (this.woken) {
      this.woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = Number.isFinite(ms) ? setTimeout(done, ms) : undefined;
      const self = this;
      function done() {
        clearTimeout(timer);
        if (self.pending === done) self.pending = undefined;
        self.woken = false;
        resolve();
      }
      this.pending = done;
    });
  }

  wake(): void {
    this.woken = true;
    this.pending?.();
  }
}
