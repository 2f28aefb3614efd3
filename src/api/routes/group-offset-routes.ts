import { jsonResponse } from "../json-response.js";
import { defineRoute } from "../route.js";
import {
  CommitOffsetsRequest,
  CommitOffsetsResponse,
  GroupOffsetsQuery,
  GroupOffsetsResponse,
  GroupParams,
  ResetOffsetsRequest,
  ResetOffsetsResponse,
} from "../group-schemas.js";
import { groupFieldCode } from "./group-field-code.js";

const offsetsPath = "/v1/groups/{group}/offsets";

export const groupOffsetRoutes = [
  defineRoute({
    method: "POST",
    path: offsetsPath,
    group: "groups",
    operationId: "commitOffsets",
    summary: "Commit offsets (the next record to read) as a member, or standalone while the group is empty",
    params: GroupParams,
    body: CommitOffsetsRequest,
    codeFor: groupFieldCode,
    responses: { 200: { description: "The offsets committed.", schema: CommitOffsetsResponse } },
    errors: [
      "INVALID_GROUP_ID",
      "INVALID_TOPIC_EXCEPTION",
      "UNKNOWN_TOPIC_OR_PARTITION",
      "OFFSET_OUT_OF_RANGE",
      "UNKNOWN_MEMBER_ID",
      "STALE_MEMBER_EPOCH",
      "CONCURRENT_TRANSACTIONS",
    ],
    async handle({ params, body, groups }) {
      return jsonResponse(200, { offsets: await groups.commitOffsets(params.group, body) });
    },
  }),
  defineRoute({
    method: "GET",
    path: offsetsPath,
    group: "groups",
    operationId: "fetchOffsets",
    summary: "Committed offsets with the log-end offset and lag (Kafka's OffsetFetch)",
    params: GroupParams,
    query: GroupOffsetsQuery,
    codeFor: groupFieldCode,
    responses: {
      200: { description: "Committed offsets, by topic and partition.", schema: GroupOffsetsResponse },
    },
    errors: ["INVALID_GROUP_ID"],
    async handle({ params, query, groups }) {
      return jsonResponse(200, { offsets: await groups.fetchOffsets(params.group, query.topic) });
    },
  }),
  defineRoute({
    method: "POST",
    path: `${offsetsPath}/reset`,
    group: "groups",
    operationId: "resetOffsets",
    summary: "Reset one topic's offsets of an empty group (kafka-consumer-groups --reset-offsets)",
    params: GroupParams,
    body: ResetOffsetsRequest,
    codeFor: groupFieldCode,
    responses: {
      200: { description: "The plan, applied unless dryRun.", schema: ResetOffsetsResponse },
    },
    errors: [
      "INVALID_GROUP_ID",
      "INVALID_TOPIC_EXCEPTION",
      "UNKNOWN_TOPIC_OR_PARTITION",
      "NON_EMPTY_GROUP",
      "CONCURRENT_TRANSACTIONS",
    ],
    async handle({ params, body, groups }) {
      const { dryRun = false, ...request } = body;
      const offsets = await groups.resetOffsets(params.group, request, { dryRun });
      return jsonResponse(200, { dryRun, offsets });
    },
  }),
];
