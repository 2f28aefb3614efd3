import type { KafkaErrorCode } from "../../errors.js";
import type { InputPart } from "../route.js";

/** Kafka's codes for a bad group id or topic name in a group request; anything else is INVALID_REQUEST. */
export function groupFieldCode(part: InputPart, path: readonly PropertyKey[]): KafkaErrorCode | undefined {
  if (part === "params" && path[0] === "group") return "INVALID_GROUP_ID";
  if (part === "body" && path.includes("topic")) return "INVALID_TOPIC_EXCEPTION";
  if (part === "body" && path[0] === "subscribedTopics") return "INVALID_TOPIC_EXCEPTION";
  // A negative commit offset: the coordinator's code for it, whichever layer refuses it first.
  if (part === "body" && path[0] === "offsets" && path[2] === "offset") return "OFFSET_OUT_OF_RANGE";
  return undefined;
}
