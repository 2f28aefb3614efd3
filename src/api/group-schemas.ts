import { z } from "zod";
import {
  MAX_GROUP_ID_LENGTH,
  MAX_MEMBER_ID_LENGTH,
  MAX_OFFSET_METADATA_LENGTH,
} from "../groups/request-validation.js";
import { MAX_LIST_LENGTH } from "../groups/request-validation.js";
import { EpochDateTime, named, TopicName } from "./schemas.js";

/**
 * The consumer-group routes' shapes (architecture §8), registered with the same OpenAPI registry as the
 * rest of the API. They check types and refuse unknown fields; value rules (epochs, offsets within
 * the log, regex syntax) stay in the coordinator, which gives every entry point the same errors.
 */

export const GroupId = named(
  "GroupId",
  z
    .string()
    .min(1, "a group id cannot be empty")
    .max(MAX_GROUP_ID_LENGTH, `a group id has at most ${MAX_GROUP_ID_LENGTH} characters`),
  "Any non-empty string of at most 249 characters (Kafka's group.id).",
);

export const GroupParams = z.object({ group: GroupId });

/** Kafka's int32 fields (epochs, timeouts, partition numbers). */
const INT32_MAX = 2 ** 31 - 1;

const Partitions = z.array(z.number().int().min(0).max(INT32_MAX)).max(MAX_LIST_LENGTH);

/** A member id as the coordinator accepts it: Kafka's are UUIDs; empty is refused. */
const MemberId = z.string().min(1).max(MAX_MEMBER_ID_LENGTH);

export const TopicPartitions = named(
  "TopicPartitions",
  z.strictObject({ topic: TopicName, partitions: Partitions.describe("Ascending, no duplicates.") }),
);

export const HeartbeatRequest = named(
  "HeartbeatRequest",
  z
    .strictObject({
      memberId: MemberId.optional().describe(
        "Absent on a first join (the server generates one); required once joined (memberEpoch other than 0).",
      ),
      memberEpoch: z
        .number({ error: "memberEpoch is required" })
        .int()
        .min(-1)
        .max(INT32_MAX)
        .describe("0 joins (or rejoins after being fenced), -1 leaves, else the epoch of the last answer."),
      clientId: z.string().max(MAX_MEMBER_ID_LENGTH).optional(),
      subscribedTopics: z
        .array(TopicName)
        .max(MAX_LIST_LENGTH)
        .optional()
        .describe("Replaces the subscription when present; absent keeps it."),
      subscribedTopicRegex: z
        .string()
        .max(1000)
        .optional()
        .describe(
          'An RE2 regular expression (Kafka\'s RE2/J syntax: no lookaround or backreferences), matched against whole topic names, at most 1,000 characters; "" clears it.',
        ),
      ownedPartitions: z
        .array(TopicPartitions)
        .max(MAX_LIST_LENGTH)
        .optional()
        .describe(
          "Exactly the partitions the member is consuming now. A partition being revoked moves only once a heartbeat stops listing it; absent means unchanged.",
        ),
      rebalanceTimeoutMs: z
        .number()
        .int()
        .min(1)
        .max(INT32_MAX)
        .optional()
        .describe(
          "How long the member may take to give partitions up (max.poll.interval.ms); default 300000.",
        ),
    })
    // The coordinator's two rules across fields (request-validation.ts), stated in the document too:
    // a join subscribes to something; any other heartbeat names its member.
    .meta({
      if: { properties: { memberEpoch: { const: 0 } }, required: ["memberEpoch"] },
      // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then/else keywords
      then: {
        anyOf: [
          { required: ["subscribedTopics"] },
          { required: ["subscribedTopicRegex"], properties: { subscribedTopicRegex: { minLength: 1 } } },
        ],
      },
      else: { required: ["memberId"] },
    }),
);

export const HeartbeatResponse = named(
  "HeartbeatResponse",
  z.object({
    memberId: z.string(),
    memberEpoch: z.number().int().describe("Send it back in the next heartbeat and with every commit."),
    heartbeatIntervalMs: z.number().int(),
    assignment: z
      .array(TopicPartitions)
      .describe("What the member may consume now; it must give up everything else it holds."),
  }),
);

export const CommitOffsetsRequest = named(
  "CommitOffsetsRequest",
  z.strictObject({
    memberId: MemberId.optional().describe("Absent for a standalone consumer (a group with no members)."),
    memberEpoch: z
      .number()
      .int()
      .min(-(2 ** 31))
      .max(INT32_MAX)
      .optional()
      .describe("The member's current epoch; absent or -1 standalone."),
    offsets: z
      .array(
        z.strictObject({
          topic: TopicName,
          partition: z.number().int().min(0).max(INT32_MAX),
          offset: z
            .number()
            .int()
            .min(0)
            .describe("The next record to read (Kafka's convention), at most the high-water mark."),
          metadata: z.string().max(MAX_OFFSET_METADATA_LENGTH).nullable().optional(),
        }),
        { error: "offsets is required" },
      )
      .min(1, "commit at least one offset")
      .max(MAX_LIST_LENGTH)
      .describe("Each partition at most once."),
  }),
);

const CommittedOffset = z.object({
  topic: z.string(),
  partition: z.number().int(),
  offset: z.number().int(),
  metadata: z.string(),
});

export const CommitOffsetsResponse = named(
  "CommitOffsetsResponse",
  z.object({ offsets: z.array(CommittedOffset) }),
);

export const GroupOffset = named(
  "GroupOffset",
  CommittedOffset.extend({
    highWatermark: z.number().int().describe("The partition's log-end offset when read."),
    lag: z.number().int().describe("highWatermark − offset, never negative."),
  }),
);

export const GroupOffsetsQuery = z.object({
  topic: z
    .string()
    .optional()
    .transform((text) => (text === undefined ? undefined : text.split(",").filter((t) => t !== "")))
    .describe("Only these topics (comma-separated); every topic when absent."),
});

export const GroupOffsetsResponse = named(
  "GroupOffsetsResponse",
  z.object({
    offsets: z
      .array(GroupOffset)
      .describe("Partitions with a committed offset only; empty for an unknown group."),
  }),
);

const GroupState = z.enum(["Empty", "Assigning", "Reconciling", "Stable", "Dead"]);

export const GroupList = named(
  "GroupList",
  z.object({
    groups: z.array(
      z.object({
        groupId: z.string(),
        state: GroupState,
        members: z.number().int(),
        type: z
          .enum(["classic", "consumer"])
          .describe("classic: every member joined over Kafka's JoinGroup."),
      }),
    ),
  }),
);

export const GroupDescription = named(
  "GroupDescription",
  z.object({
    groupId: z.string(),
    state: GroupState,
    groupEpoch: z.number().int(),
    assignmentEpoch: z.number().int(),
    assignor: z.enum(["uniform", "range"]),
    members: z.array(
      z.object({
        memberId: z.string(),
        clientId: z.string().nullable(),
        memberEpoch: z.number().int(),
        subscribedTopics: z.array(z.string()),
        subscribedTopicRegex: z.string().nullable(),
        assignment: z.array(TopicPartitions).describe("What the member may consume now."),
        targetAssignment: z.array(TopicPartitions).describe("What it is converging to."),
        pendingRevocation: z.array(TopicPartitions).describe("Taken away, not yet reported released."),
        lastHeartbeatMs: z.number().int(),
        protocol: z.enum(["classic", "consumer"]).describe("classic: joined over Kafka's JoinGroup."),
      }),
    ),
    offsets: z.array(GroupOffset),
  }),
);

const Timestamp = z
  .union([z.number().int().min(0).max(Number.MAX_SAFE_INTEGER), EpochDateTime])
  .transform((t) => (typeof t === "number" ? t : Date.parse(t)));

export const ResetOffsetsRequest = named(
  "ResetOffsetsRequest",
  z.strictObject({
    topic: TopicName,
    partitions: Partitions.optional().describe("Every partition of the topic when absent."),
    to: z
      .union([
        z.enum(["earliest", "latest"]),
        z.strictObject({ offset: z.number().int() }),
        z.strictObject({
          timestamp: Timestamp.describe("Milliseconds since the epoch or an ISO-8601 date-time."),
        }),
        z.strictObject({ shiftBy: z.number().int().describe("Added to the committed offset.") }),
      ])
      .describe("kafka-consumer-groups' --to-earliest, --to-latest, --to-offset, --to-datetime, --shift-by."),
    dryRun: z.boolean().optional().describe("Plan only, change nothing (the tool without --execute)."),
  }),
);

export const ResetOffsetsResponse = named(
  "ResetOffsetsResponse",
  z.object({
    dryRun: z.boolean(),
    offsets: z.array(
      z.object({
        topic: z.string(),
        partition: z.number().int(),
        previousOffset: z.number().int().nullable().describe("null when none was committed."),
        offset: z.number().int().describe("Clamped to [log start, high-water mark]."),
      }),
    ),
  }),
);
