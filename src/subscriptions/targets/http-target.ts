import { renderRecord } from "../../api/record-encoding.js";
import type {
  DeliveryBatch,
  DeliveryRecord,
  DeliveryResult,
  DeliveryTarget,
  HttpTargetConfig,
  Subscription,
} from "../types.js";
import { batchItemFailuresResult } from "./batch-item-failures.js";
import {
  signWebhook,
  WEBHOOK_ID_HEADER,
  WEBHOOK_SIGNATURE_HEADER,
  WEBHOOK_TIMESTAMP_HEADER,
} from "./webhook-signature.js";
import { attemptSignal } from "./attempt-signal.js";

/**
 * The HTTP(S) target (architecture §14): one signed JSON POST per batch. 2xx means delivered unless
 * the body names failed records (batch-item-failures.ts); anything else — another status, a
 * redirect, a timeout, a network error — fails the batch, which the dispatcher retries.
 */

/**
 * The most of a response body read: enough for any batchItemFailures of a 10,000-record batch
 * written compactly, and a bound on what a misbehaving endpoint costs the dispatcher.
 */
export const MAX_RESPONSE_BYTES = 64 * 1024;

/** How much of an error response's body a reason quotes. */
const REASON_BODY_CHARS = 200;

const USER_AGENT = "floe-subscriptions";

export interface HttpTargetOptions {
  /** The fetch to POST with (the global one by default). */
  fetch?: typeof fetch;
  /** Milliseconds since the epoch, for webhook-timestamp. */
  clock?: () => number;
}

/**
 * The JSON body of one batch, as text: each record exactly as the JSON fetch API renders it
 * (renderRecord, with its fallback markers for bytes that are not JSON or UTF-8), with `topic` and
 * `partition` first. Rendered values are spliced, never parsed and re-serialised.
 */
export function batchBody(subscriptionName: string, records: readonly DeliveryRecord[]): string {
  let out = `{"subscription":${JSON.stringify(subscriptionName)},"records":[`;
  for (let i = 0; i < records.length; i++) {
    const r = records[i];
    // renderRecord's text starts with "{"; the location fields go in front of its first field.
    const rendered = renderRecord(r, "json").text;
    out += `${i > 0 ? "," : ""}{"topic":${JSON.stringify(r.topic)},"partition":${r.partition},${rendered.slice(1)}`;
  }
  return `${out}]}`;
}

export function createHttpTarget(
  config: HttpTargetConfig,
  subscription: Subscription,
  options: HttpTargetOptions = {},
): DeliveryTarget {
  const post = options.fetch ?? fetch;
  const clock = options.clock ?? Date.now;
  const { url, authorization } = withoutCredentials(config.url);
  return {
    async deliver(batch: DeliveryBatch, signal: AbortSignal): Promise<DeliveryResult> {
      const { signal: both, clear } = attemptSignal(signal, config.timeoutMs);
      try {
        const secret = subscription.secret;
        if (secret === null) return { outcome: "error", reason: "the subscription has no signing secret" };
        const body = Buffer.from(batchBody(subscription.name, batch.records), "utf8");
        // A fresh timestamp per attempt: receivers reject old ones (replay protection).
        const timestamp = Math.floor(clock() / 1000);
        const response = await post(url, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            "user-agent": USER_AGENT,
            ...(authorization ? { authorization } : {}),
            [WEBHOOK_ID_HEADER]: batch.messageId,
            [WEBHOOK_TIMESTAMP_HEADER]: String(timestamp),
            [WEBHOOK_SIGNATURE_HEADER]: signWebhook(secret, batch.messageId, timestamp, body),
          },
          body,
          // A redirect is not followed: the signed POST goes to the configured URL only.
          redirect: "manual",
          signal: both,
        });
        const { text, truncated } = await readBounded(response);
        if (response.status >= 300 && response.status < 400) {
          const location = response.headers.get("location");
          return {
            outcome: "error",
            reason: `HTTP ${response.status}: redirects are not followed${location ? ` (location: ${location.slice(0, REASON_BODY_CHARS)})` : ""}`,
          };
        }
        if (response.status < 200 || response.status >= 300) {
          return { outcome: "error", reason: `HTTP ${response.status}: ${text.slice(0, REASON_BODY_CHARS)}` };
        }
        if (!subscription.reportBatchItemFailures) return { outcome: "success" };
        if (truncated && text.trimStart().startsWith("{")) {
          // JSON cut short may have named failed records: retrying is safe, assuming success is not.
          return {
            outcome: "error",
            reason: `HTTP ${response.status}: the JSON response is over ${MAX_RESPONSE_BYTES} bytes, so its batchItemFailures cannot be read`,
          };
        }
        return batchItemFailuresResult(text, batch.records, { bareOffsets: true });
      } catch (e) {
        return { outcome: "error", reason: failureReason(e, both, config.url) };
      } finally {
        clear();
      }
    },
  };
}

/**
 * A URL's user info (https://user:pass@host/hook) as HTTP Basic authorization: fetch refuses a URL
 * that carries credentials, so every delivery to it would fail.
 */
export function withoutCredentials(target: string): { url: string; authorization?: string } {
  const parsed = new URL(target);
  if (parsed.username === "" && parsed.password === "") return { url: target };
  const user = decodeURIComponent(parsed.username);
  const password = decodeURIComponent(parsed.password);
  parsed.username = "";
  parsed.password = "";
  return {
    url: parsed.href,
    authorization: `Basic ${Buffer.from(`${user}:${password}`, "utf8").toString("base64")}`,
  };
}

/** At most MAX_RESPONSE_BYTES of a response's body as text; the rest is not read. */
async function readBounded(response: Response): Promise<{ text: string; truncated: boolean }> {
  if (response.body === null) return { text: "", truncated: false };
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let length = 0;
  let truncated = false;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    length += value.byteLength;
    if (length > MAX_RESPONSE_BYTES) {
      truncated = true;
      // Cancelling drops the connection's remaining body instead of downloading it.
      await reader.cancel().catch(() => {});
      break;
    }
  }
  const bytes = Buffer.concat(chunks, length).subarray(0, MAX_RESPONSE_BYTES);
  return { text: bytes.toString("utf8"), truncated };
}

/** Why a POST failed, naming the timeout, the abort or the network error (fetch hides it in `cause`). */
function failureReason(e: unknown, signal: AbortSignal, url: string): string {
  if (signal.aborted) {
    const why = signal.reason instanceof Error ? signal.reason.message : String(signal.reason);
    return `POST ${origin(url)} ${why}`;
  }
  const cause = e instanceof Error && e.cause instanceof Error ? e.cause : undefined;
  const message = e instanceof Error ? e.message : String(e);
  return `POST ${origin(url)} failed: ${cause ? `${message} (${cause.message})` : message}`;
}

/** The URL's origin: a reason is shown in the status API, and a path or query may carry a token. */
function origin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return "(invalid URL)";
  }
}
