import { FloeClientError } from "./client-error.js";

/** One send waiting for room, first come first served. */
interface Waiter {
  bytes: number;
  grant(): void;
  timer: NodeJS.Timeout;
}

/**
 * Kafka's buffer.memory (the producer's BufferPool, counted rather than pooled): the bytes of
 * records accepted but not yet acknowledged. A send that does not fit waits, in arrival order, until
 * acknowledgements free enough, for at most max.block.ms; then it fails as Kafka's does
 * (TimeoutException, here REQUEST_TIMED_OUT, retriable).
 */
export class BufferMemory {
  private used = 0;
  private readonly waiters: Waiter[] = [];

  constructor(readonly total: number) {}

  /** True while a send waits for room: the accumulator then sends everything it holds, as Kafka's does. */
  get exhausted(): boolean {
    return this.waiters.length > 0;
  }

  /** Takes `bytes` at once when they fit and nobody waits ahead; false otherwise. */
  tryReserve(bytes: number): boolean {
    if (this.waiters.length > 0 || this.used + bytes > this.total) return false;
    this.used += bytes;
    return true;
  }

  /** Takes `bytes` once they fit behind every earlier waiter, or fails after `maxBlockMs`. */
  reserve(bytes: number, maxBlockMs: number): Promise<void> {
    if (this.tryReserve(bytes)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        bytes,
        grant: () => {
          clearTimeout(waiter.timer);
          this.used += bytes;
          resolve();
        },
        timer: setTimeout(
          () => {
            this.waiters.splice(this.waiters.indexOf(waiter), 1);
            reject(
              new FloeClientError(
                "REQUEST_TIMED_OUT",
                `Failed to allocate ${bytes} bytes for a record within maxBlockMs (max.block.ms) ${maxBlockMs} ms: ` +
                  `bufferMemory (buffer.memory) ${this.total} bytes hold records not yet acknowledged; the server is not keeping up, or is unreachable.`,
                { retriable: true },
              ),
            );
            // Those behind it may fit where it did not.
            this.grant();
          },
          Math.max(0, maxBlockMs),
        ),
      };
      this.waiters.push(waiter);
    });
  }

  /** Acknowledged (or failed for good): the bytes are free for waiting sends. */
  release(bytes: number): void {
    this.used -= bytes;
    this.grant();
  }

  private grant(): void {
    while (this.waiters.length > 0 && this.used + this.waiters[0].bytes <= this.total) {
      (this.waiters.shift() as Waiter).grant();
    }
  }
}
