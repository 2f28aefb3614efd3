import { emptyResponse, jsonResponse } from "../json-response.js";
import { defineRoute } from "../route.js";
import { GroupDescription, GroupList, GroupParams } from "../group-schemas.js";
import { groupFieldCode } from "./group-field-code.js";

export const groupAdminRoutes = [
  defineRoute({
    method: "GET",
    path: "/v1/groups",
    group: "groups",
    operationId: "listGroups",
    summary: "List consumer groups with their state (kafka-consumer-groups --list --state)",
    responses: { 200: { description: "Every group.", schema: GroupList } },
    errors: [],
    async handle({ groups }) {
      return jsonResponse(200, { groups: await groups.list() });
    },
  }),
  defineRoute({
    method: "GET",
    path: "/v1/groups/{group}",
    group: "groups",
    operationId: "describeGroup",
    summary: "Describe a group: state, epochs, members with their assignments, committed offsets and lag",
    params: GroupParams,
    codeFor: groupFieldCode,
    responses: { 200: { description: "The group.", schema: GroupDescription } },
    errors: ["INVALID_GROUP_ID", "GROUP_ID_NOT_FOUND"],
    async handle({ params, groups }) {
      return jsonResponse(200, await groups.describe(params.group));
    },
  }),
  defineRoute({
    method: "DELETE",
    path: "/v1/groups/{group}",
    group: "groups",
    operationId: "deleteGroup",
    summary: "Delete an empty group and its committed offsets (kafka-consumer-groups --delete)",
    params: GroupParams,
    codeFor: groupFieldCode,
    responses: { 204: { description: "Deleted." } },
    errors: ["INVALID_GROUP_ID", "GROUP_ID_NOT_FOUND", "NON_EMPTY_GROUP", "CONCURRENT_TRANSACTIONS"],
    async handle({ params, groups }) {
      await groups.delete(params.group);
      return emptyResponse(204);
    },
  }),
];
