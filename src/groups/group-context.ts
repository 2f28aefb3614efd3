import type { Broker } from "../broker/broker.js";
import type { MetaStore } from "../storage/ports.js";
import type { Assignor } from "./assignor.js";
import type { ExpirySweeps } from "./expiry-sweeps.js";
import type { DecodedMetaCache } from "./group-records.js";
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
  /** This process's schedule of whole-group reads that expire lapsed members (decision 0012). */
  sweeps: ExpirySweeps;
  /** Decoded meta items by version, so a steady heartbeat does not decode the whole target again. */
  metas: DecodedMetaCache;
}
