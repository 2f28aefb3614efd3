import { topicNamesById } from "./topic-ids.js";
import {
  effectiveConfig,
  parseTopicConfig,
  validatePartitionCount,
  validateTopicName,
} from "../../broker/topic-config.js";
import type { Topic } from "../../broker/types.js";
import { FloeError } from "../../errors.js";
import { mapConcurrent } from "../../groups/map-concurrent.js";
import { defineApi, type RequestContext } from "../kafka-api.js";
import { CreatePartitionsRequest, CreatePartitionsResponse } from "../protocol/messages/create-partitions.js";
import { CreateTopicsRequest, CreateTopicsResponse } from "../protocol/messages/create-topics.js";
import { DeleteTopicsRequest, DeleteTopicsResponse } from "../protocol/messages/delete-topics.js";
import type { MessageValue } from "../protocol/spec.js";
import { WireRefusal } from "../error-codes.js";
import { duplicated, invalidRequest, itemError, NO_ERROR } from "./admin-errors.js";
import { defaultPartitions, topicConfigEntries } from "./kafka-configs.js";

/** Items of one request worked on at once: a wide request must not fire thousands of metadata reads and writes together. */
const ADMIN_CONCURRENCY = 8;

const NULL_UUID = "00000000-0000-0000-0000-000000000000";

/**
 * The replication factor Floe reports for every topic: one replica, this agent, as Metadata says.
 *
 * A Kafka broker refuses a factor larger than its broker count (INVALID_REPLICATION_FACTOR), so a
 * script asking for 3 fails on a one-broker Kafka. Floe accepts any factor (and -1, the default)
 * and ignores it, as WarpStream and other object-storage brokers do: a partition's durability is
 * the object store's (S3 keeps every object in several availability zones), not a count of broker
 * copies, so the scripts and Terraform a team runs against Kafka work unchanged. Only a factor no
 * Kafka accepts (0, or below -1) is refused.
 */
const REPORTED_REPLICATION_FACTOR = 1;

const NO_MANUAL_ASSIGNMENT =
  "Manual replica assignments are not supported: every Floe agent serves every partition, whose log is in object storage.";

type CreatableTopic = MessageValue<typeof CreateTopicsRequest>["topics"][number];

/** What a CreateTopics entry asks for, validated as Kafka validates it. */
function topicPlan(
  ctx: RequestContext,
  t: CreatableTopic,
): { partitions: number; config: Record<string, string> } {
  validateTopicName(t.name);
  if (t.assignments.length > 0) throw invalidRequest(NO_MANUAL_ASSIGNMENT);
  const partitions = t.numPartitions === -1 ? defaultPartitions(ctx) : t.numPartitions;
  validatePartitionCount(partitions);
  if (t.replicationFactor === 0 || t.replicationFactor < -1) {
    throw new WireRefusal(
      "INVALID_REPLICATION_FACTOR",
      "Replication factor must be larger than 0, or -1 to use the default value.",
    );
  }
  // Null prototype: a config named "__proto__" must reach parseTopicConfig and be refused, not vanish.
  const config: Record<string, string> = Object.create(null);
  for (const { name, value } of t.configs) {
    if (Object.hasOwn(config, name)) throw invalidRequest(`Config '${name}' is given more than once.`);
    if (value === null)
      throw new FloeError("INVALID_CONFIG", `Null value not supported for topic config '${name}'.`);
    config[name] = value;
  }
  parseTopicConfig(config); // unknown names and bad values: INVALID_CONFIG, before anything is written
  return { partitions, config };
}

/** CreateTopics' success answer; v5+ clients read back the partitions, factor and every config. */
function created(topic: Pick<Topic, "name" | "topicId" | "partitions" | "config" | "configOverrides">) {
  const all = { keys: null, includeSynonyms: false, includeDocumentation: false };
  return {
    name: topic.name,
    topicId: topic.topicId,
    ...NO_ERROR,
    numPartitions: topic.partitions,
    replicationFactor: REPORTED_REPLICATION_FACTOR,
    configs: topicConfigEntries(topic, all).map((c) => ({
      name: c.name,
      value: c.value,
      readOnly: c.readOnly,
      configSource: c.configSource,
      isSensitive: c.isSensitive,
    })),
  };
}

async function refuseIfExists(ctx: RequestContext, name: string): Promise<void> {
  try {
    await ctx.core.broker.topics.get(name);
  } catch (e) {
    if (e instanceof FloeError && e.code === "UNKNOWN_TOPIC_OR_PARTITION") return;
    throw e;
  }
  throw new FloeError("TOPIC_ALREADY_EXISTS", `Topic '${name}' already exists.`);
}

export const createTopicsApi = defineApi(CreateTopicsRequest, CreateTopicsResponse, {
  async handle(request, ctx) {
    const { broker } = ctx.core;
    const twice = duplicated(request.topics, (t) => t.name);
    const topics = await mapConcurrent(request.topics, ADMIN_CONCURRENCY, async (t) => {
      try {
        if (twice.has(t.name))
          throw invalidRequest(`Topic '${t.name}' appears more than once in the request.`);
        const plan = topicPlan(ctx, t);
        if (request.validateOnly) {
          await refuseIfExists(ctx, t.name);
          const overrides = parseTopicConfig(plan.config);
          return created({
            name: t.name,
            topicId: NULL_UUID,
            partitions: plan.partitions,
            config: effectiveConfig(overrides),
            configOverrides: overrides,
          });
        }
        return created(await broker.createTopic(t.name, plan.partitions, plan.config));
      } catch (e) {
        return { name: t.name, ...itemError(e) };
      }
    });
    return { throttleTimeMs: 0, topics };
  },
  errorResponse: (request, errorCode, errorMessage) => ({
    topics: request.topics.map((t) => ({ name: t.name, errorCode, errorMessage })),
  }),
});

export const deleteTopicsApi = defineApi(DeleteTopicsRequest, DeleteTopicsResponse, {
  async handle(request, ctx) {
    const { broker } = ctx.core;
    // v1-5 name topics in a list of strings; v6 by name or by id.
    const wanted =
      ctx.apiVersion >= 6 ? request.topics : request.topicNames.map((name) => ({ name, topicId: NULL_UUID }));
    const byName = wanted.filter((t) => t.name !== null);
    const byId = wanted.filter((t) => t.name === null);
    const twiceNamed = duplicated(byName, (t) => t.name as string);
    const twiceId = duplicated(byId, (t) => t.topicId);
    const ids =
      byId.length > 0
        ? await topicNamesById(
            broker,
            byId.map((t) => t.topicId),
          )
        : undefined;
    const responses = await mapConcurrent(wanted, ADMIN_CONCURRENCY, async ({ name, topicId }) => {
      let topicName = name;
      try {
        if (name !== null && topicId !== NULL_UUID) {
          throw invalidRequest("A topic to delete is named by its name or by its id, not both.");
        }
        if (name === null) {
          if (topicId === NULL_UUID) throw invalidRequest("A topic to delete needs a name or an id.");
          if (twiceId.has(topicId)) throw invalidRequest(`Topic id ${topicId} appears more than once.`);
          topicName = ids?.get(topicId) ?? null;
          if (topicName === null)
            throw new WireRefusal("UNKNOWN_TOPIC_ID", `Topic id ${topicId} does not exist.`);
        } else if (twiceNamed.has(name)) {
          throw invalidRequest(`Topic '${name}' appears more than once in the request.`);
        }
        const topic = await broker.topics.get(topicName as string).catch((e: unknown) => {
          // The id map may still name a topic deleted since: by id, that is an unknown id.
          if (name === null) throw new WireRefusal("UNKNOWN_TOPIC_ID", `Topic id ${topicId} does not exist.`);
          throw e;
        });
        if (name === null && topic.topicId !== topicId) {
          throw new WireRefusal("UNKNOWN_TOPIC_ID", `Topic id ${topicId} does not exist.`);
        }
        await broker.deleteTopic(topic.name);
        return { name: topic.name, topicId: topic.topicId, ...NO_ERROR };
      } catch (e) {
        return {
          name: e instanceof WireRefusal && e.code === "UNKNOWN_TOPIC_ID" ? null : topicName,
          topicId,
          ...itemError(e),
        };
      }
    });
    return { throttleTimeMs: 0, responses };
  },
  errorResponse: (request, errorCode, errorMessage) => ({
    responses: [
      ...request.topics.map((t) => ({ name: t.name, topicId: t.topicId, errorCode, errorMessage })),
      ...request.topicNames.map((name) => ({ name, errorCode, errorMessage })),
    ],
  }),
});

export const createPartitionsApi = defineApi(CreatePartitionsRequest, CreatePartitionsResponse, {
  async handle(request, ctx) {
    const { broker } = ctx.core;
    const twice = duplicated(request.topics, (t) => t.name);
    const results = await mapConcurrent(request.topics, ADMIN_CONCURRENCY, async (t) => {
      try {
        if (twice.has(t.name))
          throw invalidRequest(`Topic '${t.name}' appears more than once in the request.`);
        if (t.assignments !== null && t.assignments.length > 0) throw invalidRequest(NO_MANUAL_ASSIGNMENT);
        const topic = await broker.topics.get(t.name);
        validatePartitionCount(t.count);
        if (t.count === topic.partitions) {
          throw new FloeError("INVALID_PARTITIONS", `Topic already has ${topic.partitions} partitions.`);
        }
        if (t.count < topic.partitions) {
          throw new FloeError(
            "INVALID_PARTITIONS",
            `Topic currently has ${topic.partitions} partitions, which is higher than the requested ${t.count}; partitions can only be added.`,
          );
        }
        if (!request.validateOnly) await broker.updateTopic(t.name, { partitions: t.count });
        return { name: t.name, ...NO_ERROR };
      } catch (e) {
        return { name: t.name, ...itemError(e) };
      }
    });
    return { throttleTimeMs: 0, results };
  },
  errorResponse: (request, errorCode, errorMessage) => ({
    results: request.topics.map((t) => ({ name: t.name, errorCode, errorMessage })),
  }),
});

export const topicAdminApis = [createTopicsApi, deleteTopicsApi, createPartitionsApi] as const;
