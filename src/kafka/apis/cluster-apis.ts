import { ERROR_NUMBERS, errorNumber } from "../error-codes.js";
import { topicNamesById } from "./topic-ids.js";
import { defineApi, type KafkaApi } from "../kafka-api.js";
import { ApiVersionsRequest, ApiVersionsResponse } from "../protocol/messages/api-versions.js";
import { MetadataRequest, MetadataResponse } from "../protocol/messages/metadata.js";

export const apiVersionsApi = defineApi(ApiVersionsRequest, ApiVersionsResponse, {
  handle(_request, ctx) {
    return { errorCode: 0, apiKeys: servedVersions(ctx.served) };
  },
});

/** What ApiVersions answers: every served API with its version range, by API key. */
export function servedVersions(served: readonly KafkaApi[]) {
  return [...served]
    .sort((a, b) => a.apiKey - b.apiKey)
    .map((api) => ({
      apiKey: api.apiKey,
      minVersion: api.advertisedMinVersion ?? api.request.low,
      maxVersion: api.request.high,
    }));
}

/**
 * Metadata: this process leads every partition and is the only broker, as each of WarpStream's
 * stateless agents answers; any agent can serve any partition because the log is in object storage.
 */
export const metadataApi = defineApi(MetadataRequest, MetadataResponse, {
  async handle(request, ctx) {
    const node = ctx.core.node();
    const { broker } = ctx.core;
    // v0 lists all topics with an empty array; v1+ with null.
    const all = request.topics === null || (ctx.apiVersion === 0 && request.topics.length === 0);
    const wanted: { name: string | null; topicId: string }[] = all
      ? (await broker.listTopics()).map((name) => ({ name, topicId: "" }))
      : (request.topics ?? []);
    const unnamed = wanted.filter((t) => t.name === null).map((t) => t.topicId);
    const byId = unnamed.length > 0 ? await topicNamesById(broker, unnamed) : undefined;
    const topics = await Promise.all(
      wanted.map(async ({ name, topicId }) => {
        const topicName = name ?? byId?.get(topicId);
        if (topicName === undefined) {
          return { errorCode: ERROR_NUMBERS.UNKNOWN_TOPIC_ID, name: null, topicId, partitions: [] };
        }
        try {
          const auto = !all && request.allowAutoTopicCreation ? broker.autoCreateTopics : undefined;
          const topic = await broker.topics.cachedOrCreated(topicName, auto?.partitions);
          return {
            errorCode: 0,
            name: topic.name,
            topicId: topic.topicId,
            partitions: Array.from({ length: topic.partitions }, (_, partitionIndex) => ({
              errorCode: 0,
              partitionIndex,
              leaderId: node.nodeId,
              // Floe has no leader elections: a client's leader epoch is never stale.
              leaderEpoch: 0,
              replicaNodes: [node.nodeId],
              isrNodes: [node.nodeId],
            })),
          };
        } catch (e) {
          return { errorCode: errorNumber(e), name: topicName, topicId, partitions: [] };
        }
      }),
    );
    return {
      brokers: [{ nodeId: node.nodeId, host: node.host, port: node.port, rack: null }],
      clusterId: ctx.core.clusterId,
      controllerId: node.nodeId,
      topics,
    };
  },
});
