import { FloeError } from "../errors.js";
import type { GroupCoordinator } from "../groups/coordinator.js";
import type { SubscriptionStore } from "./subscription-store.js";

/**
 * Deletes a subscription the way Lambda deletes an event source mapping: it is marked Deleting at
 * once (dispatchers stop taking new batches and leave the group once their in-flight ones are
 * committed), and its group and definition go once the group has no member. While a dispatcher
 * still holds the group the answer is `Deleting`; calling again finishes the job. RESOURCE_NOT_FOUND
 * when there is no such subscription.
 */
export async function deleteSubscription(
  store: SubscriptionStore,
  groups: GroupCoordinator,
  name: string,
): Promise<{ state: "Deleted" | "Deleting" }> {
  const subscription = await store.setState(name, "Deleting");
  try {
    const group = await groups.describe(subscription.groupId);
    if (group.members.length > 0) return { state: "Deleting" };
    await groups.delete(subscription.groupId);
  } catch (e) {
    if (!(e instanceof FloeError)) throw e;
    // A member joined between the describe and the delete: it will see Deleting and leave.
    if (e.code === "NON_EMPTY_GROUP") return { state: "Deleting" };
    // No group: the subscription never had a partition to commit for, or a deletion got this far before.
    if (e.code !== "GROUP_ID_NOT_FOUND") throw e;
  }
  await store.remove(name);
  return { state: "Deleted" };
}
