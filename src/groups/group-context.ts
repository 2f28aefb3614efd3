import type { Broker } from "../broker/broker.js";
import type { MetaStore } from "../storage/ports.js";
import type { Assignor } from "./assignor.js";
import type { RetryPolicy } from "./optimistic-retry.js";

/** What every group operation needs: the ports, the clock and the group settings. */
export interface GroupContext {
  meta: MetaStore;
  broker: Broker;
  clock: () => number;
  newId: () => string;
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  /** For members that do not send one (Kafka's max.poll.interval.ms default). */
  rebalanceTimeoutMs: number;
  assignor: Assignor;
  retry: RetryPolicy;
}
