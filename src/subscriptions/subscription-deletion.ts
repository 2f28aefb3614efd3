import { FloeError } from "../errors.js";
import type { GroupCoordinator } from "../groups/coordinator.js";
import { subscriptionGroupId } from "./subscription-settings.js";
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

/**
 * Deletes the group a removed subscription left behind. A dispatcher that listed the subscription
 * before it was marked Deleting can join its group after the deletion deleted it and before the
 * definition went, so the group comes back, and once that dispatcher leaves it is an empty group
 * nothing owns, under which the name could not be created again (DUPLICATE_RESOURCE). The member
 * that left last deletes it: only when there is still no definition of that name (a new one owns
 * its group) and the group is empty (a member still in it is someone else's to clean up).
 */
export async function deleteLeftoverGroup(
  store: SubscriptionStore,
  groups: GroupCoordinator,
  name: string,
): Promise<void> {
  if ((await store.get(name)) !== undefined) return;
  try {
    await groups.delete(subscriptionGroupId(name));
  } catch (e) {
    if (!(e instanceof FloeError && (e.code === "GROUP_ID_NOT_FOUND" || e.code === "NON_EMPTY_GROUP")))
      throw e;
  }
}
