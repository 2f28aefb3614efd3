import { settingsFromInput } from "../../src/subscriptions/subscription-settings.js";
import type { Subscription } from "../../src/subscriptions/types.js";

/**
 * A subscription with the defaults settingsFromInput fills in (Lambda's, as the store would hold
 * them); `settings` overrides them. The settings test spells the defaults out; this only uses them.
 */
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
    ...settingsFromInput({ topics: ["t"], target: { type: "http", url: "http://127.0.0.1:1/" } }),
    ...settings,
  };
}
