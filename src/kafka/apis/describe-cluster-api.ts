import { defineApi } from "../kafka-api.js";
import { DescribeClusterRequest, DescribeClusterResponse } from "../protocol/messages/describe-cluster.js";
import { WireRefusal } from "../error-codes.js";
import { itemError } from "./admin-errors.js";

const BROKERS = 1;
const CONTROLLERS = 2;

/**
 * DescribeCluster: this agent is the cluster's only broker and its controller, as in Metadata;
 * every agent answers the same of itself, since any agent serves any partition (the log is in
 * object storage). Floe has no separate controllers to describe (KIP-919's endpoint type 2).
 */
export const describeClusterApi = defineApi(DescribeClusterRequest, DescribeClusterResponse, {
  handle(request, ctx) {
    const node = ctx.core.node();
    const cluster = { throttleTimeMs: 0, endpointType: request.endpointType, clusterId: ctx.core.clusterId };
    if (request.endpointType !== BROKERS) {
      const refusal =
        request.endpointType === CONTROLLERS
          ? new WireRefusal(
              "MISMATCHED_ENDPOINT_TYPE",
              "The request was sent to an endpoint of type BROKER, but we wanted an endpoint of type CONTROLLER",
            )
          : new WireRefusal("UNSUPPORTED_ENDPOINT_TYPE", `Unsupported endpoint type ${request.endpointType}`);
      return { ...cluster, ...itemError(refusal) };
    }
    return {
      ...cluster,
      errorCode: 0,
      errorMessage: null,
      controllerId: node.nodeId,
      brokers: [{ brokerId: node.nodeId, host: node.host, port: node.port, rack: null }],
    };
  },
});
