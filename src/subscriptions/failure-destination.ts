import type { Broker } from "../broker/broker.js";
import type { ProduceRecord } from "../broker/types.js";
import type { RecordHeader } from "../log/record-batch.js";
import type { FailedRecord } from "./delivery-attempts.js";
import type { Subscription } from "./types.js";

/**
 * The on-failure destination (Lambda's DestinationConfig.OnFailure, decision 0013 §3): a record
 * given up on is appended to the subscription's `onFailureTopic` as it was (key, value, headers),
 * with headers saying what it was and why it failed:
 * - `floe.failure.reason`: the condition (`RetryAttemptsExhausted`, `RecordAgeExceeded`), ": ", and
 *   the target's last answer;
 * - `floe.failure.subscription`, `floe.failure.topic`, `floe.failure.partition`, `floe.failure.offset`;
 * - `floe.failure.timestamp`: the original record's timestamp (ms since the epoch; the new record's
 *   own timestamp is when it failed);
 * - `floe.failure.attempts`: deliveries attempted.
 * The record keeps its key, so the broker places failures of one key in one partition, in order.
 */
export function failureRecords(subscription: Subscription, failed: FailedRecord[]): ProduceRecord[] {
  return failed.map(({ record, condition, reason, attempts }) => ({
    key: record.key,
    value: record.value,
    headers: [
      ...record.headers,
      header("floe.failure.reason", `${condition}: ${reason}`),
      header("floe.failure.subscription", subscription.name),
      header("floe.failure.topic", record.topic),
      header("floe.failure.partition", String(record.partition)),
      header("floe.failure.offset", String(record.offset)),
      header("floe.failure.timestamp", String(record.timestamp)),
      header("floe.failure.attempts", String(attempts)),
    ],
  }));
}

/** Appends them in one request; throws what the broker refused (the caller retries, never skips). */
export async function writeFailures(
  broker: Broker,
  subscription: Subscription,
  failed: FailedRecord[],
): Promise<void> {
  if (failed.length === 0) return;
  if (subscription.onFailureTopic === null) {
    // Settings validation refuses finite retries or age without a topic; a record reaching here
    // anyway must not vanish, so the partition blocks on this error instead.
    throw new Error(
      `Subscription '${subscription.name}' gave up on ${failed.length} record(s) but has no onFailureTopic to send them to.`,
    );
  }
  await broker.produce({ topic: subscription.onFailureTopic, records: failureRecords(subscription, failed) });
}

const utf8 = new TextEncoder();

function header(key: string, value: string): RecordHeader {
  return { key, value: utf8.encode(value) };
}
