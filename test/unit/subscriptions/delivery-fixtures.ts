import type { AttemptContext } from "../../../src/subscriptions/delivery-attempts.js";
import type {
  DeliveryBatch,
  DeliveryRecord,
  DeliveryResult,
  DeliveryTarget,
  Subscription,
} from "../../../src/subscriptions/types.js";
import { subscriptionWith } from "../../support/subscription-fixture.js";

export { subscriptionWith };

export function records(
  count: number,
  options: { from?: number; key?: (i: number) => string | null; timestamp?: number } = {},
): DeliveryRecord[] {
  const from = options.from ?? 0;
  return Array.from({ length: count }, (_, i) => {
    const key = options.key ? options.key(from + i) : null;
    return {
      topic: "t",
      partition: 0,
      offset: from + i,
      timestamp: options.timestamp ?? 1_000,
      key: key === null ? null : new TextEncoder().encode(key),
      value: new TextEncoder().encode(`v${from + i}`),
      headers: [],
    };
  });
}

/** A target answering each delivery with what `answer` says, remembering every batch it was sent. */
export class ScriptedTarget implements DeliveryTarget {
  readonly batches: DeliveryBatch[] = [];
  constructor(private readonly answer: (batch: DeliveryBatch, call: number) => DeliveryResult) {}
  async deliver(batch: DeliveryBatch): Promise<DeliveryResult> {
    this.batches.push(batch);
    return this.answer(batch, this.batches.length);
  }
  offsetsPerCall(): number[][] {
    return this.batches.map((b) => b.records.map((r) => r.offset));
  }
}

/** Virtual time: sleeping advances the clock and is remembered. */
export function attemptContext(
  subscription: Subscription,
  target: DeliveryTarget,
  overrides: Partial<AttemptContext> = {},
): AttemptContext & { sleeps: number[]; now: { value: number } } {
  const now = { value: 10_000 };
  const sleeps: number[] = [];
  return {
    subscription,
    target,
    clock: () => now.value,
    sleep: async (ms) => {
      sleeps.push(ms);
      now.value += ms;
    },
    random: () => 0.5,
    retryBackoffMs: 100,
    retryBackoffMaxMs: 1_000,
    stopping: () => false,
    signal: new AbortController().signal,
    ...overrides,
    sleeps,
    now,
  };
}
