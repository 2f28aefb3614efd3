import type { MessageSpec } from "../spec.js";

/**
 * The classic protocol's describe. Members' metadata and assignment are the consumer protocol's
 * opaque payloads (consumer-protocol.ts).
 */
export const DescribeGroupsRequest = {
  apiKey: 15,
  name: "DescribeGroupsRequest",
  type: "request",
  validVersions: "0-5",
  flexibleVersions: "5+",
  fields: [
    { name: "groups", type: "[]string", versions: "0+" },
    { name: "includeAuthorizedOperations", type: "bool", versions: "3+", default: false },
  ],
} as const satisfies MessageSpec;

/** Kafka's "not requested" value for authorized operations. */
export const AUTHORIZED_OPERATIONS_OMITTED = -2147483648;

export const DescribeGroupsResponse = {
  apiKey: 15,
  name: "DescribeGroupsResponse",
  type: "response",
  validVersions: "0-5",
  flexibleVersions: "5+",
  fields: [
    { name: "throttleTimeMs", type: "int32", versions: "1+" },
    {
      name: "groups",
      type: "[]",
      versions: "0+",
      fields: [
        { name: "errorCode", type: "int16", versions: "0+" },
        { name: "groupId", type: "string", versions: "0+" },
        { name: "groupState", type: "string", versions: "0+" },
        { name: "protocolType", type: "string", versions: "0+" },
        { name: "protocolData", type: "string", versions: "0+" },
        {
          name: "members",
          type: "[]",
          versions: "0+",
          fields: [
            { name: "memberId", type: "string", versions: "0+" },
            {
              name: "groupInstanceId",
              type: "string",
              versions: "4+",
              nullableVersions: "4+",
              default: null,
            },
            { name: "clientId", type: "string", versions: "0+" },
            { name: "clientHost", type: "string", versions: "0+" },
            { name: "memberMetadata", type: "bytes", versions: "0+" },
            { name: "memberAssignment", type: "bytes", versions: "0+" },
          ],
        },
        {
          name: "authorizedOperations",
          type: "int32",
          versions: "3+",
          default: AUTHORIZED_OPERATIONS_OMITTED,
        },
      ],
    },
  ],
} as const satisfies MessageSpec;
