import type { Broker } from "../../broker/broker.js";

/**
 * Topic names by id, for the APIs that name topics by id (Fetch 13+, KIP-516). The directory is
 * read in one query and kept per broker; an id not in it is looked up again (a topic created since),
 * once per call however many ids are missing. A name found here may since belong to a re-created
 * topic: callers compare the topic's current id before serving it.
 */
const known = new WeakMap<Broker, Map<string, string>>();
const refreshing = new WeakMap<Broker, Promise<Map<string, string>>>();

export async function topicNamesById(
  broker: Broker,
  ids: readonly string[],
): Promise<Map<string, string | undefined>> {
  let names = known.get(broker);
  if (!names || ids.some((id) => !names?.has(id))) names = await refresh(broker);
  return new Map(ids.map((id) => [id, names?.get(id)]));
}

function refresh(broker: Broker): Promise<Map<string, string>> {
  let pending = refreshing.get(broker);
  if (!pending) {
    pending = broker.topics.namesById().then(
      (names) => {
        known.set(broker, names);
        refreshing.delete(broker);
        return names;
      },
      (e: unknown) => {
        refreshing.delete(broker);
        throw e;
      },
    );
    refreshing.set(broker, pending);
  }
  return pending;
}
