import type { KafkaApi } from "../kafka-api.js";
import { fetchApi } from "./fetch-api.js";
import { initProducerIdApi } from "./init-producer-id-api.js";
import { listOffsetsApi } from "./list-offsets-api.js";
import { produceApi } from "./produce-api.js";

/** The data path: Produce, Fetch, ListOffsets and InitProducerId. */
export const dataApis: readonly KafkaApi[] = [
  produceApi,
  fetchApi,
  listOffsetsApi,
  initProducerIdApi,
] as readonly KafkaApi[];
