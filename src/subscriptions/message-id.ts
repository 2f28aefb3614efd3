import { createHash } from "node:crypto";

/**
 * The Standard Webhooks message id of a delivery (`webhook-id`, decision 0013 §8): the same for
 * every attempt at the same records, so a receiver can deduplicate a redelivery, and never the same
 * for a re-created subscription (the incarnation) or another range. `msg_` as the specification's
 * examples, then 144 bits of SHA-256 in base64url: short, and collisions are out of reach.
 */
export function messageId(
  incarnation: string,
  topic: string,
  partition: number,
  firstOffset: number,
  lastOffset: number,
): string {
  // Topic names cannot hold a newline, so the fields cannot run into one another.
  const digest = createHash("sha256")
    .update(`${incarnation}\n${topic}\n${partition}\n${firstOffset}\n${lastOffset}`)
    .digest();
  return `msg_${digest.subarray(0, 18).toString("base64url")}`;
}
