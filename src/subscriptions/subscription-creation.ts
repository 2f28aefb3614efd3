import type { Broker } from "../broker/broker.js";
import { FloeError } from "../errors.js";
import type { GroupCoordinator } from "../groups/coordinator.js";
import { commitStartingOffsets } from "./starting-position.js";
import { settingsFromInput, subscriptionGroupId, validateSubscriptionName } from "./subscription-settings.js";
import type { SubscriptionStore } from "./subscription-store.js";
import type { Subscription, SubscriptionInput } from "./types.js";

/**
 * Creates a subscription with its starting offsets, all or nothing. It is stored Disabled first, so
 * no dispatcher joins its group before the starting offsets are committed (a member in the group
 * would refuse the standalone commit, and one delivering before it would start at the log start
 * instead of, say, LATEST); then it takes the state asked for. If committing fails, the definition
 * and the group go again, so a refused creation leaves nothing behind. A consumer group already
 * using the subscription's group id is DUPLICATE_RESOURCE: its offsets would be taken over.
 */
export async function createSubscription(
  store: SubscriptionStore,
  broker: Broker,
  groups: GroupCoordinator,
  name: string,
  input: SubscriptionInput,
): Promise<Subscription> {
  validateSubscriptionName(name);
  settingsFromInput(input);
  const state = input.state ?? "Enabled";
  if (state !== "Enabled" && state !== "Disabled") {
    throw new FloeError("INVALID_CONFIG", `state must be Enabled or Disabled, got ${String(state)}.`);
  }
  const groupId = subscriptionGroupId(name);
  if (await groupExists(groups, groupId)) {
    throw new FloeError(
      "DUPLICATE_RESOURCE",
      `Consumer group "${groupId}" already exists; a subscription named "${name}" would take over its offsets. Delete the group first.`,
    );
  }
  const created = await store.create(name, { ...input, state: "Disabled" });
  try {
    await commitStartingOffsets(broker, groups, created);
    return state === "Disabled" ? created : await store.setState(name, state);
  } catch (e) {
    await store.remove(name);
    await groups.delete(groupId).catch((gone: unknown) => {
      if (!(gone instanceof FloeError && gone.code === "GROUP_ID_NOT_FOUND")) throw gone;
    });
    throw e;
  }
}

async function groupExists(groups: GroupCoordinator, groupId: string): Promise<boolean> {
  try {
    await groups.describe(groupId);
    return true;
  } catch (e) {
    if (e instanceof FloeError && e.code === "GROUP_ID_NOT_FOUND") return false;
    throw e;
  }
}
