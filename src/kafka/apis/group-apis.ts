import type { KafkaApi } from "../kafka-api.js";
import { classicGroupApis } from "./classic-group-apis.js";
import { consumerGroupApis } from "./consumer-group-apis.js";
import { groupOffsetApis } from "./group-offset-apis.js";

/** FindCoordinator, the classic protocol, KIP-848's heartbeat, offsets and group administration. */
export const groupApis: readonly KafkaApi[] = [...classicGroupApis, ...consumerGroupApis, ...groupOffsetApis];
