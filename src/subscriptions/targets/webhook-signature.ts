import { createHmac } from "node:crypto";
import { FloeError } from "../../errors.js";

/**
 * Standard Webhooks signing (https://www.standardwebhooks.com, the "symmetric" scheme): the HTTP
 * target signs `{id}.{timestamp}.{body}` with HMAC-SHA256 under the subscription's secret, so a
 * receiver can check with any Standard Webhooks library that the batch came from Floe, unaltered,
 * and recently (the timestamp is signed too, against replays).
 */

/** The three headers the specification names. */
export const WEBHOOK_ID_HEADER = "webhook-id";
export const WEBHOOK_TIMESTAMP_HEADER = "webhook-timestamp";
export const WEBHOOK_SIGNATURE_HEADER = "webhook-signature";

/** The specification's prefix of a serialized symmetric secret. */
const SECRET_PREFIX = "whsec_";

/**
 * The key bytes of a `whsec_…` secret: the base64 after the prefix. A secret without the prefix is
 * taken as bare base64, as the specification's libraries take it.
 */
export function webhookKey(secret: string): Buffer {
  const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  // Buffer.from ignores characters outside the alphabet, so re-encoding is the strict check.
  const key = Buffer.from(encoded, "base64");
  if (key.length === 0 || key.toString("base64").replace(/=+$/, "") !== encoded.replace(/=+$/, "")) {
    throw new FloeError("INVALID_CONFIG", "A webhook secret must be 'whsec_' followed by non-empty base64.");
  }
  return key;
}

/**
 * The `webhook-signature` header's value for one message: `v1,` and the base64 HMAC-SHA256 of
 * `{messageId}.{timestampSeconds}.{body}` keyed by the secret's bytes. The body is signed exactly as
 * sent, byte for byte.
 */
export function signWebhook(
  secret: string,
  messageId: string,
  timestampSeconds: number,
  body: Uint8Array,
): string {
  const mac = createHmac("sha256", webhookKey(secret));
  mac.update(`${messageId}.${timestampSeconds}.`);
  mac.update(body);
  return `v1,${mac.digest("base64")}`;
}
