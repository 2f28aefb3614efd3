import type { MessageSpec } from "../spec.js";

/**
 * ListGroups: version 4 filters by state (KIP-518), version 5 by type, "classic" or "consumer"
 * (KIP-848). Kafka declares both filters non-nullable; we also read null as "no filter", because
 * @platformatic/kafka sends a null type filter when its caller gives none.
 */
export const ListGroupsRequest = {
  apiKey: 16,
  name: "ListGroupsRequest",
  type: "request",
  validVersions: "0-5",
  flexibleVersions: "3+",
  fields: [
    { name: "statesFilter", type: "[]string", versions: "4+", nullableVersions: "4+" },
    { name: "typesFilter", type: "[]string", versions: "5+", nullableVersions: "5+" },
  ],
} as const satisfies MessageSpec;

export const ListGroupsResponse = {
  apiKey: 16,
  name: "ListGroupsResponse",
  type: "response",
  validVersions: "0-5",
  flexibleVersions: "3+",
  fields: [
    { name: "throttleTimeMs", type: "int32", versions: "1+" },
    { name: "errorCode", type: "int16", versions: "0+" },
    {
      name: "groups",
      type: "[]",
      versions: "0+",
      fields: [
        { name: "groupId", type: "string", versions: "0+" },
        { name: "protocolType", type: "string", versions: "0+" },
        { name: "groupState", type: "string", versions: "4+" },
        { name: "groupType", type: "string", versions: "5+" },
      ],
    },
  ],
} as const satisfies MessageSpec;
