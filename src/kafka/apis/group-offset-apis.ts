import type { KafkaApi } from "../kafka-api.js";

export const groupOffsetApis: readonly KafkaApi[] = [];
