import type { MessageSpec } from "../spec.js";

export const DeleteGroupsRequest = {
  apiKey: 42,
  name: "DeleteGroupsRequest",
  type: "request",
  validVersions: "0-2",
  flexibleVersions: "2+",
  fields: [{ name: "groupsNames", type: "[]string", versions: "0+" }],
} as const satisfies MessageSpec;

export const DeleteGroupsResponse = {
  apiKey: 42,
  name: "DeleteGroupsResponse",
  type: "response",
  validVersions: "0-2",
  flexibleVersions: "2+",
  fields: [
    { name: "throttleTimeMs", type: "int32", versions: "0+" },
    {
      name: "results",
      type: "[]",
      versions: "0+",
      fields: [
        { name: "groupId", type: "string", versions: "0+" },
        { name: "errorCode", type: "int16", versions: "0+" },
      ],
    },
  ],
} as const satisfies MessageSpec;
