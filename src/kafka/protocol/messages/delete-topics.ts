import type { MessageSpec } from "../spec.js";

/** DeleteTopics (20). Version 0 was removed in Kafka 4.0; 6 names topics by name or by id. */
export const DeleteTopicsRequest = {
  apiKey: 20,
  name: "DeleteTopicsRequest",
  type: "request",
  validVersions: "1-6",
  flexibleVersions: "4+",
  fields: [
    {
      name: "topics",
      type: "[]",
      versions: "6+",
      fields: [
        { name: "name", type: "string", versions: "6+", nullableVersions: "6+", default: null },
        { name: "topicId", type: "uuid", versions: "6+" },
      ],
    },
    { name: "topicNames", type: "[]string", versions: "0-5" },
    { name: "timeoutMs", type: "int32", versions: "0+" },
  ],
} as const satisfies MessageSpec;

export const DeleteTopicsResponse = {
  apiKey: 20,
  name: "DeleteTopicsResponse",
  type: "response",
  validVersions: "1-6",
  flexibleVersions: "4+",
  fields: [
    { name: "throttleTimeMs", type: "int32", versions: "1+" },
    {
      name: "responses",
      type: "[]",
      versions: "0+",
      fields: [
        { name: "name", type: "string", versions: "0+", nullableVersions: "6+" },
        { name: "topicId", type: "uuid", versions: "6+" },
        { name: "errorCode", type: "int16", versions: "0+" },
        { name: "errorMessage", type: "string", versions: "5+", nullableVersions: "5+", default: null },
      ],
    },
  ],
} as const satisfies MessageSpec;
