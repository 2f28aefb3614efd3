import { describe, expect, it } from "vitest";
import { OptionReader, parseArgs } from "../../../src/cli/args.js";
import { readSubscriptionTargets, TUNING_OPTIONS } from "../../../src/cli/server-options.js";
import { subscriptionWith } from "../../support/subscription-fixture.js";

/** --deny-private-targets (floe dev, floe agent): HTTP targets refused private addresses, as in Lambda. */

function reader(...argv: string[]) {
  return new OptionReader(parseArgs(argv, TUNING_OPTIONS));
}

describe("--deny-private-targets", () => {
  it("gives the server targets that refuse a private address, naming the refusal", async () => {
    const { subscriptionTargets } = await readSubscriptionTargets(reader("--deny-private-targets"));
    expect(subscriptionTargets).toBeDefined();
    const subscription = subscriptionWith({
      secret: `whsec_${Buffer.alloc(32, 1).toString("base64")}`,
      target: { type: "http", url: "http://10.0.0.5:8080/hook", timeoutMs: 30_000 },
    });
    const result = await subscriptionTargets!(subscription).deliver(
      { subscription, messageId: "msg_1", attempt: 1, records: [] },
      new AbortController().signal,
    );
    expect(result).toEqual({
      outcome: "error",
      reason:
        "POST http://10.0.0.5:8080 failed: refused to connect to 10.0.0.5 (a private address); set FLOE_SUBSCRIPTION_PRIVATE_TARGETS=allow to allow it",
    });
  });

  it("leaves the server's default targets (private addresses allowed) without the flag", async () => {
    expect(await readSubscriptionTargets(reader())).toEqual({});
  });
});
