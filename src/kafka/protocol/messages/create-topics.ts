import type { MessageSpec } from "../spec.js";

/** CreateTopics (19). Versions 0-1 were removed in Kafka 4.0; 5 is the first flexible one. */
export const CreateTopicsRequest = {
  apiKey: 19,
  name: "CreateTopicsRequest",
  type: "request",
  validVersions: "2-7",
  flexibleVersions: "5+",
  fields: [
    {
      name: "topics",
      type: "[]",
      versions: "0+",
      fields: [
        { name: "name", type: "string", versions: "0+" },
        /** -1: the broker's num.partitions (v4+; older clients always send a count). */
        { name: "numPartitions", type: "int32", versions: "0+" },
        { name: "replicationFactor", type: "int16", versions: "0+" },
        {
          name: "assignments",
          type: "[]",
          versions: "0+",
          fields: [
            { name: "partitionIndex", type: "int32", versions: "0+" },
            { name: "brokerIds", type: "[]int32", versions: "0+" },
          ],
        },
        {
          name: "configs",
          type: "[]",
          versions: "0+",
          fields: [
            { name: "name", type: "string", versions: "0+" },
            { name: "value", type: "string", versions: "0+", nullableVersions: "0+" },
          ],
        },
      ],
    },
    { name: "timeoutMs", type: "int32", versions: "0+", default: 60_000 },
    { name: "validateOnly", type: "bool", versions: "1+", default: false },
  ],
} as const satisfies MessageSpec;

export const CreateTopicsResponse = {
  apiKey: 19,
  name: "CreateTopicsResponse",
  type: "response",
  validVersions: "2-7",
  flexibleVersions: "5+",
  fields: [
    { name: "throttleTimeMs", type: "int32", versions: "2+" },
    {
      name: "topics",
      type: "[]",
      versions: "0+",
      fields: [
        { name: "name", type: "string", versions: "0+" },
        { name: "topicId", type: "uuid", versions: "7+" },
        { name: "errorCode", type: "int16", versions: "0+" },
        { name: "errorMessage", type: "string", versions: "1+", nullableVersions: "0+", default: null },
        /** Set when the topic was created but its configs could not be read back. */
        { name: "topicConfigErrorCode", type: "int16", versions: "5+", taggedVersions: "5+", tag: 0 },
        { name: "numPartitions", type: "int32", versions: "5+", default: -1 },
        { name: "replicationFactor", type: "int16", versions: "5+", default: -1 },
        {
          name: "configs",
          type: "[]",
          versions: "5+",
          nullableVersions: "5+",
          fields: [
            { name: "name", type: "string", versions: "5+" },
            { name: "value", type: "string", versions: "5+", nullableVersions: "5+" },
            { name: "readOnly", type: "bool", versions: "5+" },
            { name: "configSource", type: "int8", versions: "5+", default: -1 },
            { name: "isSensitive", type: "bool", versions: "5+" },
          ],
        },
      ],
    },
  ],
} as const satisfies MessageSpec;
