/** What one pass of a many-partition fetch answered for a partition, as the long-poll weighs it. */
export type PassWeight = { bytes: number; highWatermark: number } | "failed";

/** What the long-poll needs of the broker: its clock and the wait for appends. */
export interface AppendWaiter {
  now(): number;
  waitForAnyAppend(
    partitions: { topic: string; partition: number; offset: number }[],
    deadline: number,
    cancelled?: () => boolean,
  ): Promise<void>;
}

export interface LongPollOptions<A> {
  /** The partitions read, in the order `read` answers them. */
  partitions: readonly { topic: string; partition: number }[];
  /** Kafka's FetchRequest min_bytes: answer once the passes gather at least this many bytes. */
  minBytes: number;
  /** The answer's byte limit: an answer that full cannot grow by waiting, so it answers at once. */
  maxBytes: number;
  /** Kafka's max_wait_ms, already capped by the caller. */
  maxWaitMs: number;
  /** A client gone or a server stopping ends the wait; checked at each wake-up. */
  cancelled?: () => boolean;
  /** One pass over the partitions (its answers in the order of `partitions`). */
  read: () => Promise<A[]>;
  weigh: (answer: A) => PassWeight;
}

/**
 * Kafka's delayed fetch, shared by the Kafka listener's Fetch and `POST /v1/fetch`: read every
 * partition; answer when the pass has min_bytes (or as many as max_bytes allows), a partition failed
 * (errors are answered at once, as Kafka's broker does), max_wait_ms has passed or the caller gave
 * up; otherwise wait for the high-water mark of any partition to pass what the pass saw, and read again.
 */
export async function fetchLongPolled<A>(broker: AppendWaiter, options: LongPollOptions<A>): Promise<A[]> {
  const deadline = broker.now() + Math.max(0, options.maxWaitMs);
  const enough = Math.min(options.minBytes, options.maxBytes);
  const cancelled = options.cancelled ?? (() => false);
  for (;;) {
    const answers = await options.read();
    let bytes = 0;
    let failed = false;
    const positions: { topic: string; partition: number; offset: number }[] = [];
    for (let i = 0; i < answers.length; i++) {
      const weight = options.weigh(answers[i]);
      if (weight === "failed") {
        failed = true;
        continue;
      }
      bytes += weight.bytes;
      const { topic, partition } = options.partitions[i];
      positions.push({ topic, partition, offset: weight.highWatermark });
    }
    if (failed || positions.length === 0 || bytes >= enough || broker.now() >= deadline || cancelled()) {
      return answers;
    }
    await broker.waitForAnyAppend(positions, deadline, cancelled);
  }
}
