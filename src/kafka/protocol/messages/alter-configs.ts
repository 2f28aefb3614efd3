import type { MessageSpec } from "../spec.js";

/**
 * AlterConfigs (33), the legacy whole-set form: a resource's overrides become exactly the
 * configs given. KafkaJS's admin.alterConfigs speaks only this one. Version 2 is flexible.
 */
export const AlterConfigsRequest = {
  apiKey: 33,
  name: "AlterConfigsRequest",
  type: "request",
  validVersions: "0-2",
  flexibleVersions: "2+",
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
            { name: "value", type: "string", versions: "0+", nullableVersions: "0+" },
          ],
        },
      ],
    },
    { name: "validateOnly", type: "bool", versions: "0+" },
  ],
} as const satisfies MessageSpec;

export const AlterConfigsResponse = {
  apiKey: 33,
  name: "AlterConfigsResponse",
  type: "response",
  validVersions: "0-2",
  flexibleVersions: "2+",
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
