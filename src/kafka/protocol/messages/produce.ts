import type { MessageSpec } from "../spec.js";

/**
 * Produce (API key 0), versions 3-11: message format v2 only (3+), flexible from 9. Versions 10 and
 * 11 change nothing on the request; they tell the broker the client handles the current-leader hints
 * (KIP-951) and the newer transaction errors (KIP-890).
 */
export const ProduceRequest = {
  apiKey: 0,
  name: "ProduceRequest",
  type: "request",
  validVersions: "3-11",
  flexibleVersions: "9+",
  fields: [
    { name: "transactionalId", type: "string", versions: "3+", nullableVersions: "3+", default: null },
    { name: "acks", type: "int16", versions: "0+" },
    { name: "timeoutMs", type: "int32", versions: "0+" },
    {
      name: "topicData",
      type: "[]",
      versions: "0+",
      fields: [
        { name: "name", type: "string", versions: "0+" },
        {
          name: "partitionData",
          type: "[]",
          versions: "0+",
          fields: [
            { name: "index", type: "int32", versions: "0+" },
            { name: "records", type: "records", versions: "0+", nullableVersions: "0+" },
          ],
        },
      ],
    },
  ],
} as const satisfies MessageSpec;

export const ProduceResponse = {
  apiKey: 0,
  name: "ProduceResponse",
  type: "response",
  validVersions: "3-11",
  flexibleVersions: "9+",
  fields: [
    {
      name: "responses",
      type: "[]",
      versions: "0+",
      fields: [
        { name: "name", type: "string", versions: "0+" },
        {
          name: "partitionResponses",
          type: "[]",
          versions: "0+",
          fields: [
            { name: "index", type: "int32", versions: "0+" },
            { name: "errorCode", type: "int16", versions: "0+" },
            { name: "baseOffset", type: "int64", versions: "0+" },
            { name: "logAppendTimeMs", type: "int64", versions: "2+", default: -1 },
            { name: "logStartOffset", type: "int64", versions: "5+", default: -1 },
            {
              name: "recordErrors",
              type: "[]",
              versions: "8+",
              fields: [
                { name: "batchIndex", type: "int32", versions: "8+" },
                {
                  name: "batchIndexErrorMessage",
                  type: "string",
                  versions: "8+",
                  nullableVersions: "8+",
                  default: null,
                },
              ],
            },
            { name: "errorMessage", type: "string", versions: "8+", nullableVersions: "8+", default: null },
            {
              // Only sent with NOT_LEADER_OR_FOLLOWER; this process leads every partition.
              name: "currentLeader",
              type: "{}",
              versions: "10+",
              taggedVersions: "10+",
              tag: 0,
              fields: [
                { name: "leaderId", type: "int32", versions: "10+", default: -1 },
                { name: "leaderEpoch", type: "int32", versions: "10+", default: -1 },
              ],
            },
          ],
        },
      ],
    },
    { name: "throttleTimeMs", type: "int32", versions: "1+" },
    {
      name: "nodeEndpoints",
      type: "[]",
      versions: "10+",
      taggedVersions: "10+",
      tag: 0,
      fields: [
        { name: "nodeId", type: "int32", versions: "10+" },
        { name: "host", type: "string", versions: "10+" },
        { name: "port", type: "int32", versions: "10+" },
        { name: "rack", type: "string", versions: "10+", nullableVersions: "10+", default: null },
      ],
    },
  ],
} as const satisfies MessageSpec;
