import type { MessageSpec } from "../spec.js";

/** IncrementalAlterConfigs (44): per-key SET, DELETE, APPEND, SUBTRACT. Version 1 is flexible. */
export const IncrementalAlterConfigsRequest = {
  apiKey: 44,
  name: "IncrementalAlterConfigsRequest",
  type: "request",
  validVersions: "0-1",
  flexibleVersions: "1+",
  fields: [
    {
      name: "resources",
      type: "[]",
      versions: "0+",
      fields: [
        { name: "resourceType", type: "int8", versions: "0+" },
        { name: "resourceName", type: "string", versions: "0+" },
        {
          name: "configs",
          type: "[]",
          versions: "0+",
          fields: [
            { name: "name", type: "string", versions: "0+" },
            /** 0 SET, 1 DELETE, 2 APPEND, 3 SUBTRACT. */
            { name: "configOperation", type: "int8", versions: "0+" },
            { name: "value", type: "string", versions: "0+", nullableVersions: "0+" },
          ],
        },
      ],
    },
    { name: "validateOnly", type: "bool", versions: "0+" },
  ],
} as const satisfies MessageSpec;

export const IncrementalAlterConfigsResponse = {
  apiKey: 44,
  name: "IncrementalAlterConfigsResponse",
  type: "response",
  validVersions: "0-1",
  flexibleVersions: "1+",
  fields: [
    { name: "throttleTimeMs", type: "int32", versions: "0+" },
    {
      name: "responses",
      type: "[]",
      versions: "0+",
      fields: [
        { name: "errorCode", type: "int16", versions: "0+" },
        { name: "errorMessage", type: "string", versions: "0+", nullableVersions: "0+", default: null },
        { name: "resourceType", type: "int8", versions: "0+" },
        { name: "resourceName", type: "string", versions: "0+" },
      ],
    },
  ],
} as const satisfies MessageSpec;
