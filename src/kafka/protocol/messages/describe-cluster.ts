import type { MessageSpec } from "../spec.js";

const NO_OPERATIONS = -2147483648;

/** DescribeCluster (60), flexible in every version; 1 adds the endpoint type (KIP-919). */
export const DescribeClusterRequest = {
  apiKey: 60,
  name: "DescribeClusterRequest",
  type: "request",
  validVersions: "0-1",
  flexibleVersions: "0+",
  fields: [
    { name: "includeClusterAuthorizedOperations", type: "bool", versions: "0+" },
    /** 1 brokers, 2 controllers. */
    { name: "endpointType", type: "int8", versions: "1+", default: 1 },
  ],
} as const satisfies MessageSpec;

export const DescribeClusterResponse = {
  apiKey: 60,
  name: "DescribeClusterResponse",
  type: "response",
  validVersions: "0-1",
  flexibleVersions: "0+",
  fields: [
    { name: "throttleTimeMs", type: "int32", versions: "0+" },
    { name: "errorCode", type: "int16", versions: "0+" },
    { name: "errorMessage", type: "string", versions: "0+", nullableVersions: "0+", default: null },
    { name: "endpointType", type: "int8", versions: "1+", default: 1 },
    { name: "clusterId", type: "string", versions: "0+" },
    { name: "controllerId", type: "int32", versions: "0+", default: -1 },
    {
      name: "brokers",
      type: "[]",
      versions: "0+",
      fields: [
        { name: "brokerId", type: "int32", versions: "0+" },
        { name: "host", type: "string", versions: "0+" },
        { name: "port", type: "int32", versions: "0+" },
        { name: "rack", type: "string", versions: "0+", nullableVersions: "0+", default: null },
      ],
    },
    { name: "clusterAuthorizedOperations", type: "int32", versions: "0+", default: NO_OPERATIONS },
  ],
} as const satisfies MessageSpec;
