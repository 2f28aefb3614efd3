import { afterAll, describe, expect, it } from "vitest";
import { FloeBus } from "../../../cdk/floe-bus.js";
import { type CfnTemplate, functionId, removeAssemblies, synthesize } from "./synth.js";
import { App, Stack } from "aws-cdk-lib";

/** FloeBus's subscriptionPrivateTargets prop: FLOE_SUBSCRIPTION_PRIVATE_TARGETS on the dispatcher only. */

afterAll(() => removeAssemblies());

function variables(json: CfnTemplate, name: string): Record<string, unknown> {
  const properties = json.Resources[functionId(json, name)].Properties!;
  return (properties.Environment as { Variables: Record<string, unknown> }).Variables;
}

describe("FloeBus subscriptionPrivateTargets", () => {
  it('denies private targets by default, on the dispatcher, and allows them with "allow"', () => {
    const byDefault = synthesize().json;
    expect(variables(byDefault, "dispatcher").FLOE_SUBSCRIPTION_PRIVATE_TARGETS).toBe("deny");
    // The API functions deliver nothing: they do not get the setting.
    expect(variables(byDefault, "produce").FLOE_SUBSCRIPTION_PRIVATE_TARGETS).toBeUndefined();

    const allowed = synthesize({ subscriptionPrivateTargets: "allow" }).json;
    expect(variables(allowed, "dispatcher").FLOE_SUBSCRIPTION_PRIVATE_TARGETS).toBe("allow");
    const denied = synthesize({ subscriptionPrivateTargets: "deny" }).json;
    expect(variables(denied, "dispatcher").FLOE_SUBSCRIPTION_PRIVATE_TARGETS).toBe("deny");
  });

  it("refuses any other value", () => {
    const stack = new Stack(new App({ context: { "aws:cdk:bundling-stacks": [] } }), "Floe");
    expect(() => new FloeBus(stack, "Bus", { subscriptionPrivateTargets: "sometimes" as "allow" })).toThrow(
      'FloeBus subscriptionPrivateTargets must be "allow" or "deny", got "sometimes"',
    );
  });
});
