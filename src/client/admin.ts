import { FloeClientError } from "./client-error.js";
import { type HttpTransport, segment } from "./http-transport.js";
import type { TopicDescription } from "./types.js";

/** KafkaJS's ITopicConfig. replicationFactor is accepted and ignored: object storage keeps the replicas. */
export interface TopicConfigInput {
  topic: string;
  /** Default 1 (Kafka's num.partitions). */
  numPartitions?: number;
  replicationFactor?: number;
  configEntries?: { name: string; value: string }[];
}

export interface TopicChange {
  /** The new, larger partition count (Kafka's createPartitions: partitions are only ever added). */
  partitions?: number;
  /** Config overrides to set; null removes an override. */
  config?: Record<string, string | number | null>;
}

/** Topic administration over `/v1/topics`, with KafkaJS's method names where KafkaJS has one. */
export class Admin {
  constructor(private readonly transport: HttpTransport) {}

  async connect(): Promise<void> {}
  async disconnect(): Promise<void> {}

  /** Creates one topic; fails with TOPIC_ALREADY_EXISTS if it exists (as kafka-topics --create does). */
  async createTopic(topic: TopicConfigInput): Promise<void> {
    const config: Record<string, string> = {};
    for (const entry of topic.configEntries ?? []) config[entry.name] = entry.value;
    await this.transport.request("POST", "/v1/topics", {
      body: {
        name: topic.topic,
        partitions: topic.numPartitions ?? 1,
        ...(Object.keys(config).length > 0 ? { config } : {}),
      },
    });
  }

  /** KafkaJS semantics: true when every topic was created, false when some already existed; other failures throw. */
  async createTopics(options: { topics: TopicConfigInput[] }): Promise<boolean> {
    let allCreated = true;
    for (const topic of options.topics) {
      try {
        await this.createTopic(topic);
      } catch (error) {
        if (!(error instanceof FloeClientError) || error.code !== "TOPIC_ALREADY_EXISTS") throw error;
        allCreated = false;
      }
    }
    return allCreated;
  }

  async listTopics(): Promise<string[]> {
    const answer = await this.transport.request<{ topics: string[] }>("GET", "/v1/topics");
    return answer.topics;
  }

  async describeTopic(topic: string): Promise<TopicDescription> {
    return this.transport.request<TopicDescription>("GET", `/v1/topics/${segment(topic)}`);
  }

  async alterTopic(topic: string, change: TopicChange): Promise<void> {
    await this.transport.request("PATCH", `/v1/topics/${segment(topic)}`, { body: change });
  }

  /** KafkaJS's createPartitions: grows each topic to `count` partitions. */
  async createPartitions(options: { topicPartitions: { topic: string; count: number }[] }): Promise<void> {
    for (const { topic, count } of options.topicPartitions)
      await this.alterTopic(topic, { partitions: count });
  }

  async deleteTopic(topic: string): Promise<void> {
    await this.transport.request("DELETE", `/v1/topics/${segment(topic)}`);
  }

  async deleteTopics(options: { topics: string[] }): Promise<void> {
    for (const topic of options.topics) await this.deleteTopic(topic);
  }
}
