import { jsonResponse } from "../json-response.js";
import { defineRoute } from "../route.js";
import { GroupParams, HeartbeatRequest, HeartbeatResponse } from "../group-schemas.js";
import { groupFieldCode } from "./group-field-code.js";

/** KIP-848's ConsumerGroupHeartbeat: join (epoch 0), stay and converge, or leave (epoch -1), in one call. */
export const groupHeartbeatRoute = defineRoute({
  method: "POST",
  path: "/v1/groups/{group}/heartbeat",
  group: "groups",
  operationId: "heartbeat",
  summary: "Join, heartbeat or leave a consumer group; answers the member's assignment",
  description:
    "Send one heartbeat at a time: a member must not send the next before the previous has answered or failed, and ownedPartitions must be exactly what it consumes.",
  params: GroupParams,
  body: HeartbeatRequest,
  codeFor: groupFieldCode,
  responses: { 200: { description: "The member's id, epoch and assignment.", schema: HeartbeatResponse } },
  errors: [
    "INVALID_GROUP_ID",
    "INVALID_TOPIC_EXCEPTION",
    "INVALID_REGULAR_EXPRESSION",
    "UNKNOWN_MEMBER_ID",
    "FENCED_MEMBER_EPOCH",
    "CONCURRENT_TRANSACTIONS",
  ],
  async handle({ params, body, groups }) {
    return jsonResponse(200, await groups.heartbeat(params.group, body));
  },
});
