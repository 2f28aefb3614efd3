import type { MessageSpec } from "../spec.js";

/**
 * KIP-848's ConsumerGroupHeartbeat: join (epoch 0), stay, leave (-1) in one request, the server
 * assigning. v1 adds the subscription regex and has the client choose its member id (KIP-1082).
 * Fields that did not change since the last heartbeat are sent as null (or -1).
 */
export const ConsumerGroupHeartbeatRequest = {
  apiKey: 68,
  name: "ConsumerGroupHeartbeatRequest",
  type: "request",
  validVersions: "0-1",
  flexibleVersions: "0+",
  fields: [
    { name: "groupId", type: "string", versions: "0+" },
    { name: "memberId", type: "string", versions: "0+" },
    { name: "memberEpoch", type: "int32", versions: "0+" },
    { name: "instanceId", type: "string", versions: "0+", nullableVersions: "0+", default: null },
    { name: "rackId", type: "string", versions: "0+", nullableVersions: "0+", default: null },
    { name: "rebalanceTimeoutMs", type: "int32", versions: "0+", default: -1 },
    { name: "subscribedTopicNames", type: "[]string", versions: "0+", nullableVersions: "0+", default: null },
    { name: "subscribedTopicRegex", type: "string", versions: "1+", nullableVersions: "1+", default: null },
    { name: "serverAssignor", type: "string", versions: "0+", nullableVersions: "0+", default: null },
    {
      name: "topicPartitions",
      type: "[]",
      versions: "0+",
      nullableVersions: "0+",
      default: null,
      fields: [
        { name: "topicId", type: "uuid", versions: "0+" },
        { name: "partitions", type: "[]int32", versions: "0+" },
      ],
    },
  ],
} as const satisfies MessageSpec;

export const ConsumerGroupHeartbeatResponse = {
  apiKey: 68,
  name: "ConsumerGroupHeartbeatResponse",
  type: "response",
  validVersions: "0-1",
  flexibleVersions: "0+",
  fields: [
    { name: "throttleTimeMs", type: "int32", versions: "0+" },
    { name: "errorCode", type: "int16", versions: "0+" },
    { name: "errorMessage", type: "string", versions: "0+", nullableVersions: "0+", default: null },
    { name: "memberId", type: "string", versions: "0+", nullableVersions: "0+", default: null },
    { name: "memberEpoch", type: "int32", versions: "0+" },
    { name: "heartbeatIntervalMs", type: "int32", versions: "0+" },
    {
      name: "assignment",
      type: "{}",
      versions: "0+",
      nullableVersions: "0+",
      default: null,
      fields: [
        {
          name: "topicPartitions",
          type: "[]",
          versions: "0+",
          fields: [
            { name: "topicId", type: "uuid", versions: "0+" },
            { name: "partitions", type: "[]int32", versions: "0+" },
          ],
        },
      ],
    },
  ],
} as const satisfies MessageSpec;
