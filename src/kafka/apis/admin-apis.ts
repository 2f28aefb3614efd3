import type { KafkaApi } from "../kafka-api.js";
import { configApis } from "./config-apis.js";
import { describeClusterApi } from "./describe-cluster-api.js";
import { topicAdminApis } from "./topic-admin-apis.js";

/** Kafka's admin APIs: topics (create, delete, add partitions), configs, and the cluster's description. */
export const adminApis = [
  ...topicAdminApis,
  ...configApis,
  describeClusterApi,
  // Each API is typed by its own description; the listener sees them all through the common interface.
] as unknown as readonly KafkaApi[];
