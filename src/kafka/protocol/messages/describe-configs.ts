import type { MessageSpec } from "../spec.js";

/**
 * DescribeConfigs (32). Version 0 (with isDefault instead of a config source) was removed in
 * Kafka 4.0; 1 adds synonyms and the source, 3 the type and documentation, 4 is flexible.
 */
export const DescribeConfigsRequest = {
  apiKey: 32,
  name: "DescribeConfigsRequest",
  type: "request",
  validVersions: "1-4",
  flexibleVersions: "4+",
  fields: [
    {
      name: "resources",
      type: "[]",
      versions: "0+",
      fields: [
        { name: "resourceType", type: "int8", versions: "0+" },
        { name: "resourceName", type: "string", versions: "0+" },
        /** null: every config of the resource. */
        {
          name: "configurationKeys",
          type: "[]string",
          versions: "0+",
          nullableVersions: "0+",
          default: null,
        },
      ],
    },
    { name: "includeSynonyms", type: "bool", versions: "1+", default: false },
    { name: "includeDocumentation", type: "bool", versions: "3+", default: false },
  ],
} as const satisfies MessageSpec;

export const DescribeConfigsResponse = {
  apiKey: 32,
  name: "DescribeConfigsResponse",
  type: "response",
  validVersions: "1-4",
  flexibleVersions: "4+",
  fields: [
    { name: "throttleTimeMs", type: "int32", versions: "0+" },
    {
      name: "results",
      type: "[]",
      versions: "0+",
      fields: [
        { name: "errorCode", type: "int16", versions: "0+" },
        { name: "errorMessage", type: "string", versions: "0+", nullableVersions: "0+", default: null },
        { name: "resourceType", type: "int8", versions: "0+" },
        { name: "resourceName", type: "string", versions: "0+" },
        {
          name: "configs",
          type: "[]",
          versions: "0+",
          fields: [
            { name: "name", type: "string", versions: "0+" },
            { name: "value", type: "string", versions: "0+", nullableVersions: "0+" },
            { name: "readOnly", type: "bool", versions: "0+" },
            { name: "configSource", type: "int8", versions: "1+", default: -1 },
            { name: "isSensitive", type: "bool", versions: "0+" },
            {
              name: "synonyms",
              type: "[]",
              versions: "1+",
              fields: [
                { name: "name", type: "string", versions: "1+" },
                { name: "value", type: "string", versions: "1+", nullableVersions: "0+" },
                { name: "source", type: "int8", versions: "1+" },
              ],
            },
            { name: "configType", type: "int8", versions: "3+", default: 0 },
            { name: "documentation", type: "string", versions: "3+", nullableVersions: "0+", default: null },
          ],
        },
      ],
    },
  ],
} as const satisfies MessageSpec;
