import type { z } from "zod";
import type { TopicDescription as BrokerTopicDescription } from "../../broker/types.js";
import type { Broker } from "../../broker/broker.js";
import { FloeError, type KafkaErrorCode } from "../../errors.js";
import { emptyResponse, jsonResponse } from "../json-response.js";
import { defineRoute, type InputPart } from "../route.js";
import {
  CreateTopicRequest,
  DescribeTopicQuery,
  ErrorResponse,
  TopicDescription,
  TopicList,
  TopicParams,
  UpdateTopicRequest,
} from "../schemas.js";

/** Kafka's own codes for a bad topic definition, so admin tools recognise them. */
function topicFieldCode(part: InputPart, path: readonly PropertyKey[]): KafkaErrorCode | undefined {
  const field = path[0];
  if (part === "params" || field === "name") return "INVALID_TOPIC_EXCEPTION";
  if (field === "partitions") return "INVALID_PARTITIONS";
  if (field === "config" || field === "replicationFactor") return "INVALID_CONFIG";
  if (part === "query") return "INVALID_REQUEST";
  return undefined;
}

function describeBody(d: BrokerTopicDescription): z.input<typeof TopicDescription> {
  return {
    name: d.name,
    topicId: d.topicId,
    partitions: d.partitions.map((p) => ({
      partition: p.partition,
      logStartOffset: p.logStartOffset,
      highWatermark: p.highWatermark,
      bytes: p.bytes,
      leaderEpoch: p.leaderEpoch,
      leaseOwner: p.leaseOwner,
    })),
    config: { ...d.config },
    configOverrides: { ...d.configOverrides } as Record<string, string | number>,
    createdAt: d.createdAt,
  };
}

/**
 * The topic described; with allowAutoTopicCreation (Kafka's MetadataRequest field) and a server that
 * auto-creates topics, a missing one is created first with the default partitions, as a Kafka
 * broker with auto.create.topics.enable does for a metadata request.
 */
async function describeOrCreate(broker: Broker, name: string, allowCreate: boolean) {
  try {
    return await broker.describeTopic(name);
  } catch (error) {
    const auto = broker.autoCreateTopics;
    if (!allowCreate || !auto || !(error instanceof FloeError) || error.code !== "UNKNOWN_TOPIC_OR_PARTITION")
      throw error;
    try {
      await broker.createTopic(name, auto.partitions);
    } catch (created) {
      // Another request created it first: describe theirs.
      if (!(created instanceof FloeError) || created.code !== "TOPIC_ALREADY_EXISTS") throw created;
    }
    return broker.describeTopic(name);
  }
}

const topicPath = (name: string) => `/v1/topics/${encodeURIComponent(name)}`;

export const topicRoutes = [
  defineRoute({
    method: "POST",
    path: "/v1/topics",
    group: "admin",
    operationId: "createTopic",
    summary: "Create a topic (kafka-topics.sh --create)",
    body: CreateTopicRequest,
    codeFor: topicFieldCode,
    responses: {
      201: { description: "Created; the new topic described.", schema: TopicDescription },
      409: { description: "TOPIC_ALREADY_EXISTS", schema: ErrorResponse },
    },
    errors: ["INVALID_TOPIC_EXCEPTION", "INVALID_PARTITIONS", "INVALID_CONFIG", "TOPIC_ALREADY_EXISTS"],
    async handle({ body, broker }) {
      await broker.createTopic(body.name, body.partitions, body.config);
      const described = await broker.describeTopic(body.name);
      return jsonResponse(201, describeBody(described), { location: topicPath(body.name) });
    },
  }),
  defineRoute({
    method: "GET",
    path: "/v1/topics",
    group: "admin",
    operationId: "listTopics",
    summary: "List topic names (kafka-topics.sh --list)",
    responses: { 200: { description: "Topic names, sorted.", schema: TopicList } },
    errors: [],
    async handle({ broker }) {
      const topics = [...(await broker.listTopics())].sort();
      return jsonResponse(200, { topics });
    },
  }),
  defineRoute({
    method: "GET",
    path: "/v1/topics/{topic}",
    group: "admin",
    operationId: "describeTopic",
    summary: "Describe a topic: per partition its log start, high-water mark, bytes and leader epoch",
    description:
      "Kafka's Metadata for one topic. With allowAutoTopicCreation=true and a server that auto-creates topics " +
      "(floe dev; FLOE_AUTO_CREATE_TOPICS), a missing topic is created with the default partition count and described; " +
      "otherwise a missing topic is 404.",
    params: TopicParams,
    query: DescribeTopicQuery,
    codeFor: topicFieldCode,
    responses: { 200: { description: "The topic.", schema: TopicDescription } },
    errors: ["INVALID_TOPIC_EXCEPTION", "UNKNOWN_TOPIC_OR_PARTITION"],
    async handle({ params, query, broker }) {
      return jsonResponse(
        200,
        describeBody(await describeOrCreate(broker, params.topic, query.allowAutoTopicCreation)),
      );
    },
  }),
  defineRoute({
    method: "PATCH",
    path: "/v1/topics/{topic}",
    group: "admin",
    operationId: "updateTopic",
    summary: "Add partitions and/or change config (kafka-topics.sh --alter, kafka-configs.sh)",
    params: TopicParams,
    body: UpdateTopicRequest,
    codeFor: topicFieldCode,
    responses: { 200: { description: "The topic after the change.", schema: TopicDescription } },
    errors: [
      "INVALID_TOPIC_EXCEPTION",
      "INVALID_PARTITIONS",
      "INVALID_CONFIG",
      "UNKNOWN_TOPIC_OR_PARTITION",
      "CONCURRENT_TRANSACTIONS",
    ],
    async handle({ params, body, broker }) {
      await broker.updateTopic(params.topic, body);
      return jsonResponse(200, describeBody(await broker.describeTopic(params.topic)));
    },
  }),
  defineRoute({
    method: "DELETE",
    path: "/v1/topics/{topic}",
    group: "admin",
    operationId: "deleteTopic",
    summary: "Delete a topic (kafka-topics.sh --delete); its storage is reclaimed later",
    params: TopicParams,
    codeFor: topicFieldCode,
    responses: { 204: { description: "Deleted." } },
    errors: ["INVALID_TOPIC_EXCEPTION", "UNKNOWN_TOPIC_OR_PARTITION", "CONCURRENT_TRANSACTIONS"],
    async handle({ params, broker }) {
      await broker.deleteTopic(params.topic);
      return emptyResponse(204);
    },
  }),
];
