import type { MessageSpec } from "../spec.js";

/**
 * JoinGroup, the classic group protocol's first step. Served from v2 (v0 has no rebalance timeout,
 * v1 only adds it; every client still alive sends v2 or later). v4+ may be answered
 * MEMBER_ID_REQUIRED with a member id to come back with; v5 adds static membership's instance id,
 * v6 is flexible, v7 returns the protocol type, v8 adds the reason, v9 SkipAssignment (KIP-814).
 */
export const JoinGroupRequest = {
  apiKey: 11,
  name: "JoinGroupRequest",
  type: "request",
  validVersions: "2-9",
  flexibleVersions: "6+",
  fields: [
    { name: "groupId", type: "string", versions: "0+" },
    { name: "sessionTimeoutMs", type: "int32", versions: "0+" },
    { name: "rebalanceTimeoutMs", type: "int32", versions: "1+", default: -1 },
    { name: "memberId", type: "string", versions: "0+" },
    { name: "groupInstanceId", type: "string", versions: "5+", nullableVersions: "5+", default: null },
    { name: "protocolType", type: "string", versions: "0+" },
    {
      name: "protocols",
      type: "[]",
      versions: "0+",
      fields: [
        { name: "name", type: "string", versions: "0+" },
        { name: "metadata", type: "bytes", versions: "0+" },
      ],
    },
    { name: "reason", type: "string", versions: "8+", nullableVersions: "8+", default: null },
  ],
} as const satisfies MessageSpec;

export const JoinGroupResponse = {
  apiKey: 11,
  name: "JoinGroupResponse",
  type: "response",
  validVersions: "2-9",
  flexibleVersions: "6+",
  fields: [
    { name: "throttleTimeMs", type: "int32", versions: "2+" },
    { name: "errorCode", type: "int16", versions: "0+" },
    { name: "generationId", type: "int32", versions: "0+", default: -1 },
    { name: "protocolType", type: "string", versions: "7+", nullableVersions: "7+", default: null },
    { name: "protocolName", type: "string", versions: "0+", nullableVersions: "7+" },
    { name: "leader", type: "string", versions: "0+" },
    { name: "skipAssignment", type: "bool", versions: "9+", default: false },
    { name: "memberId", type: "string", versions: "0+" },
    {
      name: "members",
      type: "[]",
      versions: "0+",
      fields: [
        { name: "memberId", type: "string", versions: "0+" },
        { name: "groupInstanceId", type: "string", versions: "5+", nullableVersions: "5+", default: null },
        { name: "metadata", type: "bytes", versions: "0+" },
      ],
    },
  ],
} as const satisfies MessageSpec;
