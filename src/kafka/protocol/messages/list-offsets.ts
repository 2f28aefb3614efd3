import type { MessageSpec } from "../spec.js";

/**
 * ListOffsets (API key 2), versions 1-9: one offset per partition (1+), flexible from 6, max
 * timestamp (-3) from 7, earliest-local (-4) from 8, latest-tiered (-5) from 9. Version 0's list
 * of old-style offsets is not served.
 */
export const ListOffsetsRequest = {
  apiKey: 2,
  name: "ListOffsetsRequest",
  type: "request",
  validVersions: "1-9",
  flexibleVersions: "6+",
  fields: [
    { name: "replicaId", type: "int32", versions: "0+" },
    { name: "isolationLevel", type: "int8", versions: "2+" },
    {
      name: "topics",
      type: "[]",
      versions: "0+",
      fields: [
        { name: "name", type: "string", versions: "0+" },
        {
          name: "partitions",
          type: "[]",
          versions: "0+",
          fields: [
            { name: "partitionIndex", type: "int32", versions: "0+" },
            { name: "currentLeaderEpoch", type: "int32", versions: "4+", default: -1 },
            { name: "timestamp", type: "int64", versions: "0+" },
          ],
        },
      ],
    },
  ],
} as const satisfies MessageSpec;

export const ListOffsetsResponse = {
  apiKey: 2,
  name: "ListOffsetsResponse",
  type: "response",
  validVersions: "1-9",
  flexibleVersions: "6+",
  fields: [
    { name: "throttleTimeMs", type: "int32", versions: "2+" },
    {
      name: "topics",
      type: "[]",
      versions: "0+",
      fields: [
        { name: "name", type: "string", versions: "0+" },
        {
          name: "partitions",
          type: "[]",
          versions: "0+",
          fields: [
            { name: "partitionIndex", type: "int32", versions: "0+" },
            { name: "errorCode", type: "int16", versions: "0+" },
            { name: "timestamp", type: "int64", versions: "1+", default: -1 },
            { name: "offset", type: "int64", versions: "1+", default: -1 },
            { name: "leaderEpoch", type: "int32", versions: "4+", default: -1 },
          ],
        },
      ],
    },
  ],
} as const satisfies MessageSpec;
