import type { KafkaApi } from "../kafka-api.js";

export const classicGroupApis: readonly KafkaApi[] = [];
