import type {
  DeliveryBatch,
  DeliveryResult,
  DeliveryTarget,
  LambdaTargetConfig,
  Subscription,
} from "../types.js";
import { batchItemFailuresResult } from "./batch-item-failures.js";
import { mskEvent } from "./msk-event.js";
import { attemptSignal } from "./attempt-signal.js";

/**
 * The Lambda target (architecture §14): each batch is one synchronous (RequestResponse) invocation
 * with the event Lambda's Kafka event source sends (msk-event.ts). A function error fails the
 * batch; a result with `batchItemFailures` makes it partial, by Lambda's own rules.
 */

/**
 * One synchronous Invoke, as the target needs it; aws-lambda-invoke.ts makes one over the AWS SDK,
 * so this module stays free of it.
 */
export type LambdaInvoke = (
  functionName: string,
  payload: Uint8Array,
  signal: AbortSignal,
) => Promise<{ statusCode: number; functionError?: string; payload: Uint8Array }>;

/**
 * Lambda's quota on a synchronous invocation's request payload (6 MB). A larger event is not sent:
 * Lambda would refuse it with RequestEntityTooLargeException after the upload anyway.
 */
export const LAMBDA_MAX_PAYLOAD_BYTES = 6 * 1024 * 1024;

/** How much of a function's error a reason quotes. */
const REASON_CHARS = 500;

export interface LambdaTargetOptions {
  /** What the event's bootstrapServers names (see msk-event.ts). */
  bootstrapServers?: string;
}

export function createLambdaTarget(
  config: LambdaTargetConfig,
  subscription: Subscription,
  invoke: LambdaInvoke,
  options: LambdaTargetOptions = {},
): DeliveryTarget {
  const name = config.functionName;
  return {
    async deliver(batch: DeliveryBatch, signal: AbortSignal): Promise<DeliveryResult> {
      const payload = Buffer.from(
        JSON.stringify(mskEvent(subscription.name, batch.records, options.bootstrapServers)),
        "utf8",
      );
      if (payload.byteLength > LAMBDA_MAX_PAYLOAD_BYTES) {
        return {
          outcome: "error",
          reason: `the event for ${batch.records.length} record(s) is ${payload.byteLength} bytes, over Lambda's ${LAMBDA_MAX_PAYLOAD_BYTES}-byte limit on a synchronous invocation; a smaller batch is needed`,
          tooLarge: true,
        };
      }
      const { signal: both, clear } = attemptSignal(signal, config.timeoutMs);
      try {
        const response = await invoke(name, payload, both);
        const text = Buffer.from(
          response.payload.buffer,
          response.payload.byteOffset,
          response.payload.byteLength,
        ).toString("utf8");
        if (response.functionError !== undefined) {
          return {
            outcome: "error",
            reason: `${name} failed (${response.functionError}): ${errorText(text)}`,
          };
        }
        if (response.statusCode < 200 || response.statusCode >= 300) {
          return { outcome: "error", reason: `invoking ${name} answered status ${response.statusCode}` };
        }
        if (!subscription.reportBatchItemFailures) return { outcome: "success" };
        return batchItemFailuresResult(text, batch.records, { bareOffsets: false });
      } catch (e) {
        if (both.aborted) {
          const why = both.reason instanceof Error ? both.reason.message : String(both.reason);
          return { outcome: "error", reason: `invoking ${name} ${why}` };
        }
        const message = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
        return { outcome: "error", reason: `invoking ${name} failed: ${message.slice(0, REASON_CHARS)}` };
      } finally {
        clear();
      }
    },
  };
}

/**
 * A function error's payload as a reason: Lambda's `{errorType, errorMessage, trace}` as
 * "errorType: errorMessage", anything else as its text, bounded.
 */
function errorText(text: string): string {
  let shown = text;
  try {
    const parsed = JSON.parse(text) as { errorType?: unknown; errorMessage?: unknown };
    if (typeof parsed === "object" && parsed !== null && typeof parsed.errorMessage === "string") {
      shown =
        typeof parsed.errorType === "string"
          ? `${parsed.errorType}: ${parsed.errorMessage}`
          : parsed.errorMessage;
    }
  } catch {
    // Not JSON: the text itself says what happened.
  }
  return shown.length > REASON_CHARS ? `${shown.slice(0, REASON_CHARS)}…` : shown;
}
