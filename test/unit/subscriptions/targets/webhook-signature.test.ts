import { randomBytes } from "node:crypto";
import fc from "fast-check";
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import {
  signWebhook,
  WEBHOOK_ID_HEADER,
  WEBHOOK_SIGNATURE_HEADER,
  WEBHOOK_TIMESTAMP_HEADER,
  webhookKey,
} from "../../../../src/subscriptions/targets/webhook-signature.js";

/**
 * Every signature is checked by the `standardwebhooks` package's Webhook.verify, a second
 * implementation of the specification (its own base64 and HMAC), not by recomputing ours.
 */
const secretOf = (key: Uint8Array) => `whsec_${Buffer.from(key).toString("base64")}`;
const now = () => Math.floor(Date.now() / 1000);

function headers(id: string, timestamp: number, signature: string): Record<string, string> {
  return {
    [WEBHOOK_ID_HEADER]: id,
    [WEBHOOK_TIMESTAMP_HEADER]: String(timestamp),
    [WEBHOOK_SIGNATURE_HEADER]: signature,
  };
}

describe("signWebhook", () => {
  it("signs what a second Standard Webhooks implementation verifies", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 64 }),
        fc.string({ minLength: 1, maxLength: 40 }).filter((s) => !s.includes(" ") && !s.includes(",")),
        fc.json(),
        (key, id, json) => {
          const secret = secretOf(key);
          const timestamp = now();
          const body = Buffer.from(json, "utf8");
          const signature = signWebhook(secret, id, timestamp, body);
          expect(signature).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
          expect(new Webhook(secret).verify(body, headers(id, timestamp, signature))).toEqual(
            JSON.parse(json),
          );
        },
      ),
      { numRuns: 200 },
    );
  });

  it("signs non-ASCII bodies byte for byte", () => {
    const secret = secretOf(randomBytes(32));
    const body = Buffer.from(JSON.stringify({ text: "żółw 🐢 \u2028" }), "utf8");
    const timestamp = now();
    const signature = signWebhook(secret, "msg_1", timestamp, body);
    expect(() => new Webhook(secret).verify(body, headers("msg_1", timestamp, signature))).not.toThrow();
  });

  it("is refused when the body, id, timestamp or secret differ", () => {
    const secret = secretOf(randomBytes(32));
    const body = Buffer.from('{"records":[1]}', "utf8");
    const timestamp = now();
    const signature = signWebhook(secret, "msg_1", timestamp, body);
    const verifier = new Webhook(secret);
    expect(() =>
      verifier.verify(Buffer.from('{"records":[2]}'), headers("msg_1", timestamp, signature)),
    ).toThrow();
    expect(() => verifier.verify(body, headers("msg_2", timestamp, signature))).toThrow();
    expect(() => verifier.verify(body, headers("msg_1", timestamp - 1, signature))).toThrow();
    const other = signWebhook(secretOf(randomBytes(32)), "msg_1", timestamp, body);
    expect(() => verifier.verify(body, headers("msg_1", timestamp, other))).toThrow();
  });

  it("takes a secret without the whsec_ prefix as bare base64, as the libraries do", () => {
    const key = randomBytes(24);
    const bare = Buffer.from(key).toString("base64");
    const body = Buffer.from("{}");
    const timestamp = now();
    expect(signWebhook(bare, "m", timestamp, body)).toBe(signWebhook(`whsec_${bare}`, "m", timestamp, body));
    expect(webhookKey(bare)).toEqual(key);
  });

  it("refuses a secret that is empty or not base64", () => {
    for (const secret of ["whsec_", "", "whsec_not base64!", "whsec_@@@@"]) {
      expect(() => signWebhook(secret, "m", now(), Buffer.from("{}")), secret).toThrow(/whsec_/);
    }
  });
});
