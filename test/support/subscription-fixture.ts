import type { Subscription } from "../../src/subscriptions/types.js";

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
