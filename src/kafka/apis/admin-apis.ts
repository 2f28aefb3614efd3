import type { KafkaApi } from "../kafka-api.js";

export const adminApis: readonly KafkaApi[] = [];
