export { Admin, type TopicChange, type TopicConfigInput } from "./admin.js";
export type { BytesLike } from "./bytes.js";
export { FloeClientError, NETWORK_EXCEPTION } from "./client-error.js";
export { Floe, type FloeOptions } from "./floe.js";
export type { FetchFn } from "./http-transport.js";
export {
  type FetchManyOptions,
  type FetchOptions,
  PartitionReader,
  type PartitionFetchError,
} from "./partition-reader.js";
export { Producer, type ProducerOptions } from "./producer.js";
export type { RetryOptions } from "./retry.js";
export type {
  ConsumedRecord,
  ListedOffset,
  Message,
  OffsetSpec,
  PartitionDescription,
  PartitionFetch,
  ProducerRecord,
  RecordMetadata,
  TopicDescription,
} from "./types.js";
