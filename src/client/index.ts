export type {
  CommittedOffset,
  GroupDescription,
  GroupListing,
  GroupOffset,
  GroupState,
  MemberDescription,
  PlannedOffset,
} from "../groups/types.js";
export type {
  FilterPattern,
  HttpTargetConfig,
  LambdaTargetConfig,
  PartitionDeliveryStats,
  StartingPosition,
  Subscription,
  SubscriptionChange,
  SubscriptionError,
  SubscriptionInput,
  SubscriptionSettings,
  SubscriptionState,
  SubscriptionStatus,
  TargetConfig,
  TargetInput,
} from "../subscriptions/types.js";
export {
  Admin,
  type OffsetResetTarget,
  type SubscriptionDescription,
  type TopicChange,
  type TopicConfigInput,
} from "./admin.js";
export type { BytesLike } from "./bytes.js";
export { FloeClientError, NETWORK_EXCEPTION } from "./client-error.js";
export { Consumer } from "./consumer.js";
export type {
  Batch,
  ConsumerConfig,
  ConsumerEvent,
  ConsumerEventName,
  ConsumerEvents,
  EachBatchPayload,
  EachMessagePayload,
  OffsetReset,
  RebalanceListener,
  RunConfig,
  SubscribeOptions,
  TopicPartitionOffset,
  TopicPartitions,
} from "./consumer-types.js";
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
