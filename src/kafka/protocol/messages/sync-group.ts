import type { MessageSpec } from "../spec.js";

/**
 * SyncGroup: the classic protocol's second step, where the leader hands in every member's
 * assignment and each member gets its own back. v3 adds the instance id, v4 is flexible, v5 names
 * the protocol type and name (KIP-559).
 */
export const SyncGroupRequest = {
  apiKey: 14,
  name: "SyncGroupRequest",
  type: "request",
  validVersions: "0-5",
  flexibleVersions: "4+",
  fields: [
    { name: "groupId", type: "string", versions: "0+" },
    { name: "generationId", type: "int32", versions: "0+" },
    { name: "memberId", type: "string", versions: "0+" },
    { name: "groupInstanceId", type: "string", versions: "3+", nullableVersions: "3+", default: null },
    { name: "protocolType", type: "string", versions: "5+", nullableVersions: "5+", default: null },
    { name: "protocolName", type: "string", versions: "5+", nullableVersions: "5+", default: null },
    {
      name: "assignments",
      type: "[]",
      versions: "0+",
      fields: [
        { name: "memberId", type: "string", versions: "0+" },
        { name: "assignment", type: "bytes", versions: "0+" },
      ],
    },
  ],
} as const satisfies MessageSpec;

export const SyncGroupResponse = {
  apiKey: 14,
  name: "SyncGroupResponse",
  type: "response",
  validVersions: "0-5",
  flexibleVersions: "4+",
  fields: [
    { name: "throttleTimeMs", type: "int32", versions: "1+" },
    { name: "errorCode", type: "int16", versions: "0+" },
    { name: "protocolType", type: "string", versions: "5+", nullableVersions: "5+", default: null },
    { name: "protocolName", type: "string", versions: "5+", nullableVersions: "5+", default: null },
    { name: "assignment", type: "bytes", versions: "0+" },
  ],
} as const satisfies MessageSpec;
