import type { MessageSpec } from "../spec.js";

/** KIP-848's describe: epochs, the assignor, and each member's current and target assignment by topic id. */
export const ConsumerGroupDescribeRequest = {
  apiKey: 69,
  name: "ConsumerGroupDescribeRequest",
  type: "request",
  validVersions: "0-1",
  flexibleVersions: "0+",
  fields: [
    { name: "groupIds", type: "[]string", versions: "0+" },
    { name: "includeAuthorizedOperations", type: "bool", versions: "0+" },
  ],
} as const satisfies MessageSpec;

const assignmentFields = [
  {
    name: "topicPartitions",
    type: "[]",
    versions: "0+",
    fields: [
      { name: "topicId", type: "uuid", versions: "0+" },
      { name: "topicName", type: "string", versions: "0+" },
      { name: "partitions", type: "[]int32", versions: "0+" },
    ],
  },
] as const;

export const ConsumerGroupDescribeResponse = {
  apiKey: 69,
  name: "ConsumerGroupDescribeResponse",
  type: "response",
  validVersions: "0-1",
  flexibleVersions: "0+",
  fields: [
    { name: "throttleTimeMs", type: "int32", versions: "0+" },
    {
      name: "groups",
      type: "[]",
      versions: "0+",
      fields: [
        { name: "errorCode", type: "int16", versions: "0+" },
        { name: "errorMessage", type: "string", versions: "0+", nullableVersions: "0+", default: null },
        { name: "groupId", type: "string", versions: "0+" },
        { name: "groupState", type: "string", versions: "0+" },
        { name: "groupEpoch", type: "int32", versions: "0+" },
        { name: "assignmentEpoch", type: "int32", versions: "0+" },
        { name: "assignorName", type: "string", versions: "0+" },
        {
          name: "members",
          type: "[]",
          versions: "0+",
          fields: [
            { name: "memberId", type: "string", versions: "0+" },
            { name: "instanceId", type: "string", versions: "0+", nullableVersions: "0+", default: null },
            { name: "rackId", type: "string", versions: "0+", nullableVersions: "0+", default: null },
            { name: "memberEpoch", type: "int32", versions: "0+" },
            { name: "clientId", type: "string", versions: "0+" },
            { name: "clientHost", type: "string", versions: "0+" },
            { name: "subscribedTopicNames", type: "[]string", versions: "0+" },
            {
              name: "subscribedTopicRegex",
              type: "string",
              versions: "0+",
              nullableVersions: "0+",
              default: null,
            },
            { name: "assignment", type: "{}", versions: "0+", fields: assignmentFields },
            { name: "targetAssignment", type: "{}", versions: "0+", fields: assignmentFields },
            /** KIP-1099: -1 unknown, 0 a classic member, 1 a consumer (KIP-848) member. */
            { name: "memberType", type: "int8", versions: "1+", default: -1 },
          ],
        },
        { name: "authorizedOperations", type: "int32", versions: "0+", default: -2147483648 },
      ],
    },
  ],
} as const satisfies MessageSpec;
