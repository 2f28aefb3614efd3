import type { Topic } from "../../broker/types.js";
import { isFloeError } from "../../errors.js";
import { mapConcurrent } from "../../groups/map-concurrent.js";
import { MAX_OFFSET_METADATA_LENGTH } from "../../groups/request-validation.js";
import type { CommitRequest, GroupOffset } from "../../groups/types.js";
import { ERROR_NUMBERS } from "../error-codes.js";
import { classicMembersOf } from "../groups/classic-members.js";
import { defineApi, type RequestContext } from "../kafka-api.js";
import { OffsetCommitRequest, OffsetCommitResponse } from "../protocol/messages/offset-commit.js";
import { OffsetDeleteRequest, OffsetDeleteResponse } from "../protocol/messages/offset-delete.js";
import { OffsetFetchRequest, OffsetFetchResponse } from "../protocol/messages/offset-fetch.js";
import { groupErrorCode, isUnknownTopic } from "./group-error-codes.js";

/** KafkaJS's admin.resetOffsets commits these logical offsets; Kafka's ListOffsets spells them the same. */
const LATEST_OFFSET = -1;
const EARLIEST_OFFSET = -2;
/** OffsetFetch's "nothing committed" (Kafka's INVALID_OFFSET and NO_METADATA). */
const NO_OFFSET = -1;
const NO_METADATA = "";
/** Groups of one OffsetFetch read at once. */
const GROUPS_IN_FLIGHT = 8;

/** Topics by name for one request, each looked up once; undefined when it does not exist. */
function topicLookup(ctx: RequestContext): (name: string) => Promise<Topic | undefined> {
  const seen = new Map<string, Promise<Topic | undefined>>();
  return (name) => {
    let found = seen.get(name);
    if (!found) {
      found = ctx.core.broker.topics.cached(name).catch((e) => {
        if (isUnknownTopic(e)) return undefined;
        throw e;
      });
      seen.set(name, found);
    }
    return found;
  };
}

interface CommitEntry {
  topic: string;
  partition: number;
  offset: number;
  metadata: string | null;
  errorCode: number;
}

/**
 * OffsetCommit onto the coordinator's commit. A member commits with its memberId and its epoch,
 * which a classic member knows as its generation; generation -1 is a standalone commit (KafkaJS's
 * and Kafka's admin tools), accepted while the group has no members. Errors are per partition, as
 * in Kafka: an unknown partition or oversized metadata refuses that partition only, the rest is
 * committed; a membership error refuses them all. A classic member gets ILLEGAL_GENERATION where a
 * KIP-848 member gets STALE_MEMBER_EPOCH, as Kafka answers each: every client below version 9 is
 * classic, and at any version so is a member the coordinator knows joined through JoinGroup (on
 * this process or another agent: the refusal names the member's recorded protocol).
 *
 * The logical offsets -2 (earliest) and -1 (latest) are resolved to the partition's log start and
 * high-water mark: KafkaJS's admin.resetOffsets commits them, and Floe stores only real positions.
 * Any other offset outside [0, high-water mark] is OFFSET_OUT_OF_RANGE for its partition (see
 * groups/offset-commit.ts for why Floe refuses what Kafka would store). Retention time and the
 * committed leader epoch are ignored: offsets live as long as their group, and Floe has no leader
 * elections to fence.
 */
export const offsetCommitApi = defineApi(OffsetCommitRequest, OffsetCommitResponse, {
  async handle(request, ctx) {
    const classic =
      ctx.apiVersion < 9 ||
      classicMembersOf(ctx.core.groups).get(request.groupId, request.memberId) !== undefined;
    const topicOf = topicLookup(ctx);
    const entries: CommitEntry[] = [];
    for (const t of request.topics) {
      const topic = await topicOf(t.name);
      for (const p of t.partitions) {
        const entry: CommitEntry = {
          topic: t.name,
          partition: p.partitionIndex,
          offset: p.committedOffset,
          metadata: p.committedMetadata,
          errorCode: 0,
        };
        if (!topic || p.partitionIndex < 0 || p.partitionIndex >= topic.partitions) {
          entry.errorCode = ERROR_NUMBERS.UNKNOWN_TOPIC_OR_PARTITION;
        } else if (p.committedMetadata !== null && p.committedMetadata.length > MAX_OFFSET_METADATA_LENGTH) {
          entry.errorCode = ERROR_NUMBERS.OFFSET_METADATA_TOO_LARGE;
        }
        entries.push(entry);
      }
    }
    await resolveLogicalOffsets(ctx, entries);
    await commit(ctx, request.groupId, identity(request, classic ? ctx : undefined), entries, classic);
    return { topics: byTopic(entries, (e) => ({ partitionIndex: e.partition, errorCode: e.errorCode })) };
  },
  errorResponse(request, errorCode) {
    return {
      topics: request.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode })),
      })),
    };
  },
});

/**
 * Who commits. A classic member's generation is the epoch it joined at, but the coordinator may
 * have moved its epoch on at a heartbeat (more partitions after another member left) where Kafka
 * would only at the next JoinGroup; Java and librdkafka then commit at the old generation before
 * rejoining, so a generation this process handed out commits at the member's current epoch (the
 * coordinator still refuses partitions it no longer owns).
 */
function identity(
  request: { groupId: string; generationIdOrMemberEpoch: number; memberId: string },
  classicCtx: RequestContext | undefined,
): Omit<CommitRequest, "offsets"> {
  const generation = request.generationIdOrMemberEpoch;
  // A negative generation is a commit from outside the group's membership, whatever memberId says.
  if (generation < 0) return {};
  const epoch = classicCtx
    ? classicMembersOf(classicCtx.core.groups).commitEpoch(request.groupId, request.memberId, generation)
    : generation;
  return request.memberId === ""
    ? { memberEpoch: epoch }
    : { memberId: request.memberId, memberEpoch: epoch };
}

async function resolveLogicalOffsets(ctx: RequestContext, entries: CommitEntry[]): Promise<void> {
  const logical = entries.filter((e) => e.errorCode === 0 && e.offset < 0);
  await mapConcurrent(logical, 16, async (e) => {
    if (e.offset !== LATEST_OFFSET && e.offset !== EARLIEST_OFFSET) {
      e.errorCode = ERROR_NUMBERS.OFFSET_OUT_OF_RANGE;
      return;
    }
    const spec = e.offset === EARLIEST_OFFSET ? "earliest" : "latest";
    e.offset = (await ctx.core.broker.listOffsets(e.topic, e.partition, spec)).offset;
  });
}

async function commit(
  ctx: RequestContext,
  groupId: string,
  who: Omit<CommitRequest, "offsets">,
  entries: CommitEntry[],
  classic: boolean,
): Promise<void> {
  // The same partition twice: the last one wins, as in Kafka, and both report its outcome.
  const last = new Map<string, CommitEntry>();
  for (const e of entries) if (e.errorCode === 0) last.set(`${e.topic}\u0000${e.partition}`, e);
  const settle = (key: string, errorCode: number) => {
    for (const e of entries)
      if (e.errorCode === 0 && `${e.topic}\u0000${e.partition}` === key) e.errorCode = errorCode;
  };
  for (let attempt = 0; last.size > 0; attempt++) {
    const offsets = [...last.values()].map((e) => ({
      topic: e.topic,
      partition: e.partition,
      offset: e.offset,
      metadata: e.metadata,
    }));
    try {
      await ctx.core.groups.commitOffsets(groupId, { ...who, offsets });
      return;
    } catch (e) {
      if (attempt === 0 && isFloeError(e) && e.code === "OFFSET_OUT_OF_RANGE") {
        // Find the partitions past their high-water mark (which only grows) and commit the rest.
        const past = await mapConcurrent([...last], 16, async ([key, entry]) => {
          const hwm = await ctx.core.broker.listOffsets(entry.topic, entry.partition, "latest");
          return entry.offset > hwm.offset ? key : undefined;
        });
        for (const key of past) {
          if (key === undefined) continue;
          settle(key, ERROR_NUMBERS.OFFSET_OUT_OF_RANGE);
          last.delete(key);
        }
        continue;
      }
      const errorCode = groupErrorCode(e, { classic });
      for (const key of last.keys()) settle(key, errorCode);
      return;
    }
  }
}

/** Entries grouped by topic, topics in first-seen order, partitions in request order. */
function byTopic<E extends { topic: string }, P>(
  entries: E[],
  partition: (e: E) => P,
): { name: string; partitions: P[] }[] {
  const topics = new Map<string, P[]>();
  for (const e of entries) {
    let list = topics.get(e.topic);
    if (!list) topics.set(e.topic, (list = []));
    list.push(partition(e));
  }
  return [...topics].map(([name, partitions]) => ({ name, partitions }));
}

interface FetchedGroup {
  errorCode: number;
  topics: {
    name: string;
    partitions: { partitionIndex: number; committedOffset: number; metadata: string; errorCode: number }[];
  }[];
}

/**
 * One group's committed offsets: all of them for null topics, else each requested partition, -1
 * with empty metadata where nothing is committed (Kafka's answer; an unknown group simply has
 * none). requireStable needs no waiting: without transactions no commit is ever pending.
 */
async function fetchGroup(
  ctx: RequestContext,
  groupId: string,
  topics: { name: string; partitionIndexes: number[] }[] | null,
): Promise<FetchedGroup> {
  let committed: GroupOffset[];
  try {
    committed = await ctx.core.groups.fetchOffsets(
      groupId,
      topics?.map((t) => t.name),
    );
  } catch (e) {
    const errorCode = groupErrorCode(e);
    // Version 1 has no group-level code: the caller copies it onto every partition asked for.
    return {
      errorCode,
      topics: (topics ?? []).map((t) => ({
        name: t.name,
        partitions: t.partitionIndexes.map((partitionIndex) => ({
          partitionIndex,
          committedOffset: NO_OFFSET,
          metadata: NO_METADATA,
          errorCode,
        })),
      })),
    };
  }
  if (topics === null) {
    return {
      errorCode: 0,
      topics: byTopic(committed, (o) => ({
        partitionIndex: o.partition,
        committedOffset: o.offset,
        metadata: o.metadata,
        errorCode: 0,
      })),
    };
  }
  const found = new Map(committed.map((o) => [`${o.topic}\u0000${o.partition}`, o]));
  return {
    errorCode: 0,
    topics: topics.map((t) => ({
      name: t.name,
      partitions: t.partitionIndexes.map((partitionIndex) => {
        const o = found.get(`${t.name}\u0000${partitionIndex}`);
        return {
          partitionIndex,
          committedOffset: o ? o.offset : NO_OFFSET,
          metadata: o ? o.metadata : NO_METADATA,
          errorCode: 0,
        };
      }),
    })),
  };
}

/**
 * OffsetFetch, one group (versions 1-7) or several (8+). Version 9's memberId and memberEpoch are
 * read and ignored: committed offsets are no secret within a group (admin tools read them with
 * no membership at all), and a consumer that lost its partitions is stopped by its heartbeat and
 * by the commit check, not by what it may read.
 */
export const offsetFetchApi = defineApi(OffsetFetchRequest, OffsetFetchResponse, {
  async handle(request, ctx) {
    if (ctx.apiVersion >= 8) {
      const groups = await mapConcurrent(request.groups, GROUPS_IN_FLIGHT, async (g) => {
        const fetched = await fetchGroup(ctx, g.groupId, g.topics);
        return { groupId: g.groupId, ...fetched, topics: fetched.errorCode === 0 ? fetched.topics : [] };
      });
      return { groups };
    }
    // Version 1 cannot ask for all topics: null is a version 2 addition.
    const fetched = await fetchGroup(ctx, request.groupId, request.topics);
    if (ctx.apiVersion >= 2 && fetched.errorCode !== 0) return { errorCode: fetched.errorCode, topics: [] };
    return { errorCode: fetched.errorCode, topics: fetched.topics };
  },
  errorResponse(request, errorCode) {
    return {
      errorCode,
      groups: request.groups.map((g) => ({ groupId: g.groupId, errorCode, topics: [] })),
    };
  },
});

/**
 * OffsetDelete onto the coordinator's deleteOffsets: an unknown topic or partition is
 * UNKNOWN_TOPIC_OR_PARTITION, a topic some member subscribes to GROUP_SUBSCRIBED_TO_TOPIC, an
 * unknown group GROUP_ID_NOT_FOUND for the whole request (kafka-consumer-groups --delete-offsets).
 */
export const offsetDeleteApi = defineApi(OffsetDeleteRequest, OffsetDeleteResponse, {
  async handle(request, ctx) {
    const topicOf = topicLookup(ctx);
    const entries: { topic: string; partition: number; errorCode: number }[] = [];
    for (const t of request.topics) {
      const topic = await topicOf(t.name);
      for (const p of t.partitions) {
        const known = topic !== undefined && p.partitionIndex >= 0 && p.partitionIndex < topic.partitions;
        entries.push({
          topic: t.name,
          partition: p.partitionIndex,
          errorCode: known ? 0 : ERROR_NUMBERS.UNKNOWN_TOPIC_OR_PARTITION,
        });
      }
    }
    const wanted = byTopic(
      entries.filter((e) => e.errorCode === 0),
      (e) => e.partition,
    ).map(({ name, partitions }) => ({ topic: name, partitions }));
    try {
      const results = await ctx.core.groups.deleteOffsets(request.groupId, wanted);
      const kept = new Set(
        results.filter((r) => r.error !== undefined).map((r) => `${r.topic}\u0000${r.partition}`),
      );
      for (const e of entries) {
        if (e.errorCode === 0 && kept.has(`${e.topic}\u0000${e.partition}`)) {
          e.errorCode = ERROR_NUMBERS.GROUP_SUBSCRIBED_TO_TOPIC;
        }
      }
    } catch (e) {
      return { errorCode: groupErrorCode(e), topics: [] };
    }
    return {
      errorCode: 0,
      topics: byTopic(entries, (e) => ({ partitionIndex: e.partition, errorCode: e.errorCode })),
    };
  },
});
