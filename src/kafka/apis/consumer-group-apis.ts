import type { KafkaApi } from "../kafka-api.js";

export const consumerGroupApis: readonly KafkaApi[] = [];
