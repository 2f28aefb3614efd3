import type { KafkaApi } from "../kafka-api.js";

export const dataApis: readonly KafkaApi[] = [];
