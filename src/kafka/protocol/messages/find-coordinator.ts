import type { MessageSpec } from "../spec.js";

/**
 * FindCoordinator: which broker coordinates a group (key type 0) or a transactional id (1); v4+
 * asks for many keys at once (KIP-699), v6 adds share-group keys (2, KIP-932).
 */
export const FindCoordinatorRequest = {
  apiKey: 10,
  name: "FindCoordinatorRequest",
  type: "request",
  validVersions: "0-6",
  flexibleVersions: "3+",
  fields: [
    { name: "key", type: "string", versions: "0-3" },
    { name: "keyType", type: "int8", versions: "1+", default: 0 },
    { name: "coordinatorKeys", type: "[]string", versions: "4+" },
  ],
} as const satisfies MessageSpec;

export const FindCoordinatorResponse = {
  apiKey: 10,
  name: "FindCoordinatorResponse",
  type: "response",
  validVersions: "0-6",
  flexibleVersions: "3+",
  fields: [
    { name: "throttleTimeMs", type: "int32", versions: "1+" },
    { name: "errorCode", type: "int16", versions: "0-3" },
    { name: "errorMessage", type: "string", versions: "1-3", nullableVersions: "1-3", default: null },
    { name: "nodeId", type: "int32", versions: "0-3" },
    { name: "host", type: "string", versions: "0-3" },
    { name: "port", type: "int32", versions: "0-3" },
    {
      name: "coordinators",
      type: "[]",
      versions: "4+",
      fields: [
        { name: "key", type: "string", versions: "4+" },
        { name: "nodeId", type: "int32", versions: "4+" },
        { name: "host", type: "string", versions: "4+" },
        { name: "port", type: "int32", versions: "4+" },
        { name: "errorCode", type: "int16", versions: "4+" },
        { name: "errorMessage", type: "string", versions: "4+", nullableVersions: "4+", default: null },
      ],
    },
  ],
} as const satisfies MessageSpec;
