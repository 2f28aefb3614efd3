import { Broker } from "../../../src/broker/broker.js";
import { GroupCoordinator } from "../../../src/groups/coordinator.js";
import { createBackend } from "../../../src/storage/backend.js";
import type { Backend } from "../../../src/storage/ports.js";
import { SubscriptionStore } from "../../../src/subscriptions/subscription-store.js";

/**
 * What the dispatcher tests run on: a real Broker, GroupCoordinator and SubscriptionStore over the
 * memory backend, with short long-poll and heartbeat intervals so nothing waits long, and a
 * session timeout (30 s) no test outlasts unless it moves `clock` on.
 */
export interface MemoryBus {
  backend: Backend;
  broker: Broker;
  groups: GroupCoordinator;
  store: SubscriptionStore;
}

export async function memoryBus(options: { clock?: () => number } = {}): Promise<MemoryBus> {
  const backend = await createBackend({ storage: "memory" });
  const broker = new Broker(backend, { longPollIntervalMs: 20 });
  const groups = new GroupCoordinator({
    meta: backend.meta,
    broker,
    heartbeatIntervalMs: 50,
    sessionTimeoutMs: 30_000,
    ...(options.clock ? { clock: options.clock } : {}),
  });
  return { backend, broker, groups, store: new SubscriptionStore(backend.meta) };
}
