import type { MessageSpec } from "../spec.js";

/**
 * Fetch (API key 1), versions 4-16: message format v2 (4+), fetch sessions (7+), flexible from 12,
 * topics by id from 13 (KIP-516). 17 (KRaft directory ids) and later are for brokers' followers.
 */
export const FetchRequest = {
  apiKey: 1,
  name: "FetchRequest",
  type: "request",
  validVersions: "4-16",
  flexibleVersions: "12+",
  fields: [
    {
      name: "clusterId",
      type: "string",
      versions: "12+",
      nullableVersions: "12+",
      default: null,
      taggedVersions: "12+",
      tag: 0,
    },
    { name: "replicaId", type: "int32", versions: "0-14", default: -1 },
    {
      name: "replicaState",
      type: "{}",
      versions: "15+",
      taggedVersions: "15+",
      tag: 1,
      fields: [
        { name: "replicaId", type: "int32", versions: "15+", default: -1 },
        { name: "replicaEpoch", type: "int64", versions: "15+", default: -1 },
      ],
    },
    { name: "maxWaitMs", type: "int32", versions: "0+" },
    { name: "minBytes", type: "int32", versions: "0+" },
    { name: "maxBytes", type: "int32", versions: "3+", default: 0x7fffffff },
    { name: "isolationLevel", type: "int8", versions: "4+" },
    { name: "sessionId", type: "int32", versions: "7+" },
    { name: "sessionEpoch", type: "int32", versions: "7+", default: -1 },
    {
      name: "topics",
      type: "[]",
      versions: "0+",
      fields: [
        { name: "topic", type: "string", versions: "0-12" },
        { name: "topicId", type: "uuid", versions: "13+" },
        {
          name: "partitions",
          type: "[]",
          versions: "0+",
          fields: [
            { name: "partition", type: "int32", versions: "0+" },
            { name: "currentLeaderEpoch", type: "int32", versions: "9+", default: -1 },
            { name: "fetchOffset", type: "int64", versions: "0+" },
            { name: "lastFetchedEpoch", type: "int32", versions: "12+", default: -1 },
            { name: "logStartOffset", type: "int64", versions: "5+", default: -1 },
            { name: "partitionMaxBytes", type: "int32", versions: "0+" },
          ],
        },
      ],
    },
    {
      name: "forgottenTopicsData",
      type: "[]",
      versions: "7+",
      fields: [
        { name: "topic", type: "string", versions: "7-12" },
        { name: "topicId", type: "uuid", versions: "13+" },
        { name: "partitions", type: "[]int32", versions: "7+" },
      ],
    },
    { name: "rackId", type: "string", versions: "11+", default: "" },
  ],
} as const satisfies MessageSpec;

export const FetchResponse = {
  apiKey: 1,
  name: "FetchResponse",
  type: "response",
  validVersions: "4-16",
  flexibleVersions: "12+",
  fields: [
    { name: "throttleTimeMs", type: "int32", versions: "1+" },
    { name: "errorCode", type: "int16", versions: "7+" },
    { name: "sessionId", type: "int32", versions: "7+" },
    {
      name: "responses",
      type: "[]",
      versions: "0+",
      fields: [
        { name: "topic", type: "string", versions: "0-12" },
        { name: "topicId", type: "uuid", versions: "13+" },
        {
          name: "partitions",
          type: "[]",
          versions: "0+",
          fields: [
            { name: "partitionIndex", type: "int32", versions: "0+" },
            { name: "errorCode", type: "int16", versions: "0+" },
            { name: "highWatermark", type: "int64", versions: "0+" },
            { name: "lastStableOffset", type: "int64", versions: "4+", default: -1 },
            { name: "logStartOffset", type: "int64", versions: "5+", default: -1 },
            {
              name: "divergingEpoch",
              type: "{}",
              versions: "12+",
              taggedVersions: "12+",
              tag: 0,
              fields: [
                { name: "epoch", type: "int32", versions: "12+", default: -1 },
                { name: "endOffset", type: "int64", versions: "12+", default: -1 },
              ],
            },
            {
              name: "currentLeader",
              type: "{}",
              versions: "12+",
              taggedVersions: "12+",
              tag: 1,
              fields: [
                { name: "leaderId", type: "int32", versions: "12+", default: -1 },
                { name: "leaderEpoch", type: "int32", versions: "12+", default: -1 },
              ],
            },
            {
              name: "snapshotId",
              type: "{}",
              versions: "12+",
              taggedVersions: "12+",
              tag: 2,
              fields: [
                { name: "endOffset", type: "int64", versions: "0+", default: -1 },
                { name: "epoch", type: "int32", versions: "0+", default: -1 },
              ],
            },
            {
              name: "abortedTransactions",
              type: "[]",
              versions: "4+",
              nullableVersions: "4+",
              default: null,
              fields: [
                { name: "producerId", type: "int64", versions: "4+" },
                { name: "firstOffset", type: "int64", versions: "4+" },
              ],
            },
            { name: "preferredReadReplica", type: "int32", versions: "11+", default: -1 },
            { name: "records", type: "records", versions: "0+", nullableVersions: "0+" },
          ],
        },
      ],
    },
    {
      name: "nodeEndpoints",
      type: "[]",
      versions: "16+",
      taggedVersions: "16+",
      tag: 0,
      fields: [
        { name: "nodeId", type: "int32", versions: "16+" },
        { name: "host", type: "string", versions: "16+" },
        { name: "port", type: "int32", versions: "16+" },
        { name: "rack", type: "string", versions: "16+", nullableVersions: "16+", default: null },
      ],
    },
  ],
} as const satisfies MessageSpec;
