import type { OffsetSpec } from "../../broker/types.js";
import { errorNumber } from "../error-codes.js";
import { defineApi } from "../kafka-api.js";
import { ListOffsetsRequest, ListOffsetsResponse } from "../protocol/messages/list-offsets.js";

/** Kafka's special timestamps (ListOffsetsRequest): what a negative timestamp asks for. */
const LATEST = -1;
const EARLIEST = -2;
const MAX_TIMESTAMP = -3;
const EARLIEST_LOCAL = -4;
const LATEST_TIERED = -5;

/**
 * ListOffsets: earliest (the log start), latest (the high-water mark), the first offset at or after
 * a timestamp, and the record with the largest timestamp. Floe's log lives wholly in object
 * storage with no local copy, so the earliest local offset is the log start, and nothing is
 * "tiered" in KIP-405's sense: latest-tiered answers no offset, as Kafka does with tiering off.
 */
export const listOffsetsApi = defineApi(ListOffsetsRequest, ListOffsetsResponse, {
  async handle(request, ctx) {
    const { broker } = ctx.core;
    const topics = await Promise.all(
      request.topics.map(async (t) => ({
        name: t.name,
        partitions: await Promise.all(
          t.partitions.map(async (p) => {
            const answer = {
              partitionIndex: p.partitionIndex,
              errorCode: 0,
              timestamp: -1,
              offset: -1,
              leaderEpoch: 0,
            };
            if (p.timestamp === LATEST_TIERED) return answer;
            try {
              const spec = specOf(p.timestamp);
              const listed = await broker.listOffsets(t.name, p.partitionIndex, spec);
              // A search that found no record answers no offset (Kafka's -1); the client then
              // takes the end of the log, as KafkaJS and kafka-consumer-groups do.
              if (typeof spec === "object" || spec === "maxTimestamp") {
                return listed.timestamp === null
                  ? answer
                  : { ...answer, offset: listed.offset, timestamp: listed.timestamp };
              }
              return { ...answer, offset: listed.offset };
            } catch (e) {
              return { ...answer, errorCode: errorNumber(e), leaderEpoch: -1 };
            }
          }),
        ),
      })),
    );
    return { throttleTimeMs: 0, topics };
  },
  errorResponse(request, errorCode) {
    return {
      throttleTimeMs: 0,
      topics: request.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode })),
      })),
    };
  },
});

function specOf(timestamp: number): OffsetSpec {
  switch (timestamp) {
    case LATEST:
      return "latest";
    case EARLIEST:
    case EARLIEST_LOCAL:
      return "earliest";
    case MAX_TIMESTAMP:
      return "maxTimestamp";
    default:
      // broker.listOffsets refuses other negative values as INVALID_REQUEST.
      return { timestamp };
  }
}
