import type { MessageSpec } from "../spec.js";

/** CreatePartitions (37): grows a topic to a new partition count. Version 2 is the first flexible one. */
export const CreatePartitionsRequest = {
  apiKey: 37,
  name: "CreatePartitionsRequest",
  type: "request",
  validVersions: "0-3",
  flexibleVersions: "2+",
  fields: [
    {
      name: "topics",
      type: "[]",
      versions: "0+",
      fields: [
        { name: "name", type: "string", versions: "0+" },
        { name: "count", type: "int32", versions: "0+" },
        {
          name: "assignments",
          type: "[]",
          versions: "0+",
          nullableVersions: "0+",
          default: null,
          fields: [{ name: "brokerIds", type: "[]int32", versions: "0+" }],
        },
      ],
    },
    { name: "timeoutMs", type: "int32", versions: "0+" },
    { name: "validateOnly", type: "bool", versions: "0+" },
  ],
} as const satisfies MessageSpec;

export const CreatePartitionsResponse = {
  apiKey: 37,
  name: "CreatePartitionsResponse",
  type: "response",
  validVersions: "0-3",
  flexibleVersions: "2+",
  fields: [
    { name: "throttleTimeMs", type: "int32", versions: "0+" },
    {
      name: "results",
      type: "[]",
      versions: "0+",
      fields: [
        { name: "name", type: "string", versions: "0+" },
        { name: "errorCode", type: "int16", versions: "0+" },
        { name: "errorMessage", type: "string", versions: "0+", nullableVersions: "0+", default: null },
      ],
    },
  ],
} as const satisfies MessageSpec;
