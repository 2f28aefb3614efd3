import type { AttemptContext } from "../../../src/subscriptions/delivery-attempts.js";
import type {
  DeliveryBatch,
  DeliveryRecord,
  DeliveryResult,
  DeliveryTarget,
  Subscription,
} from "../../../src/subscriptions/types.js";

/** A subscription with Lambda's defaults, as the store would hold it; `settings` overrides them. */
export function subscriptionWith(settings: Partial<Subscription> = {}): Subscription {
  return {
    name: "s",
    state: "Enabled",
    groupId: "floe-subscription-s",
    secret: null,
    incarnation: "00000000-0000-0000-0000-000000000001",
    createdAt: 0,
    updatedAt: 0,
    version: 1,
    topics: ["t"],
    topicRegex: null,
    target: { type: "http", url: "http://127.0.0.1:1/", timeoutMs: 30_000 },
    batchSize: 100,
    maximumBatchingWindowMs: 500,
    startingPosition: "LATEST",
    startingPositionTimestamp: null,
    maximumRetryAttempts: -1,
    maximumRecordAgeMs: -1,
    bisectBatchOnError: false,
    reportBatchItemFailures: true,
    parallelizationFactor: 1,
    onFailureTopic: null,
    filters: [],
    ...settings,
  };
}

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
