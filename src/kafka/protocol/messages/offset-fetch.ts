import type { MessageSpec } from "../spec.js";

/**
 * OffsetFetch from version 1 (Kafka 4 dropped 0, which read ZooKeeper). Version 8 asks for several
 * groups at once; version 9 adds the KIP-848 member id and epoch per group.
 */
export const OffsetFetchRequest = {
  apiKey: 9,
  name: "OffsetFetchRequest",
  type: "request",
  validVersions: "1-9",
  flexibleVersions: "6+",
  fields: [
    { name: "groupId", type: "string", versions: "0-7" },
    {
      name: "topics",
      type: "[]",
      versions: "0-7",
      nullableVersions: "2-7",
      fields: [
        { name: "name", type: "string", versions: "0-7" },
        { name: "partitionIndexes", type: "[]int32", versions: "0-7" },
      ],
    },
    {
      name: "groups",
      type: "[]",
      versions: "8+",
      fields: [
        { name: "groupId", type: "string", versions: "8+" },
        { name: "memberId", type: "string", versions: "9+", nullableVersions: "9+", default: null },
        { name: "memberEpoch", type: "int32", versions: "9+", default: -1 },
        {
          name: "topics",
          type: "[]",
          versions: "8+",
          nullableVersions: "8+",
          fields: [
            { name: "name", type: "string", versions: "8+" },
            { name: "partitionIndexes", type: "[]int32", versions: "8+" },
          ],
        },
      ],
    },
    { name: "requireStable", type: "bool", versions: "7+", default: false },
  ],
} as const satisfies MessageSpec;

const partitionFields = (versions: string, epochVersions: string) =>
  [
    { name: "partitionIndex", type: "int32", versions },
    { name: "committedOffset", type: "int64", versions },
    { name: "committedLeaderEpoch", type: "int32", versions: epochVersions, default: -1 },
    { name: "metadata", type: "string", versions, nullableVersions: versions },
    { name: "errorCode", type: "int16", versions },
  ] as const;

export const OffsetFetchResponse = {
  apiKey: 9,
  name: "OffsetFetchResponse",
  type: "response",
  validVersions: "1-9",
  flexibleVersions: "6+",
  fields: [
    { name: "throttleTimeMs", type: "int32", versions: "3+" },
    {
      name: "topics",
      type: "[]",
      versions: "0-7",
      fields: [
        { name: "name", type: "string", versions: "0-7" },
        { name: "partitions", type: "[]", versions: "0-7", fields: partitionFields("0-7", "5-7") },
      ],
    },
    { name: "errorCode", type: "int16", versions: "2-7" },
    {
      name: "groups",
      type: "[]",
      versions: "8+",
      fields: [
        { name: "groupId", type: "string", versions: "8+" },
        {
          name: "topics",
          type: "[]",
          versions: "8+",
          fields: [
            { name: "name", type: "string", versions: "8+" },
            { name: "partitions", type: "[]", versions: "8+", fields: partitionFields("8+", "8+") },
          ],
        },
        { name: "errorCode", type: "int16", versions: "8+" },
      ],
    },
  ],
} as const satisfies MessageSpec;
