import type { KafkaApi } from "../kafka-api.js";
import { adminApis } from "./admin-apis.js";
import { apiVersionsApi, metadataApi } from "./cluster-apis.js";
import { dataApis } from "./data-apis.js";
import { groupApis } from "./group-apis.js";

/** Every API the Kafka listener serves; ApiVersions answers exactly these, with their version ranges. */
export const KAFKA_APIS: readonly KafkaApi[] = [
  apiVersionsApi,
  metadataApi,
  ...dataApis,
  ...groupApis,
  ...adminApis,
] as readonly KafkaApi[];
