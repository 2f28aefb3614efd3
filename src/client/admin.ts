import type {
  GroupDescription,
  GroupListing,
  GroupOffset,
  PlannedOffset,
  ResetTarget,
} from "../groups/types.js";
import type {
  Subscription,
  SubscriptionChange,
  SubscriptionInput,
  SubscriptionStatus,
} from "../subscriptions/types.js";
import { FloeClientError } from "./client-error.js";
import { groupSegment, type HttpTransport, segment, topicSegment } from "./http-transport.js";
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

/** Where resetOffsets() moves a group: a timestamp may be given as a Date or an ISO-8601 string too. */
export type OffsetResetTarget =
  | Exclude<ResetTarget, { timestamp: number }>
  | { timestamp: number | string | Date };

/** What describeSubscription() answers: the definition with its delivery status. */
export type SubscriptionDescription = Subscription & { status: SubscriptionStatus };

/** Topic, consumer-group and push-subscription administration, with KafkaJS's method names where KafkaJS has one. */
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
    return this.transport.request<TopicDescription>("GET", `/v1/topics/${topicSegment(topic)}`);
  }

  async alterTopic(topic: string, change: TopicChange): Promise<void> {
    await this.transport.request("PATCH", `/v1/topics/${topicSegment(topic)}`, { body: change });
  }

  /** KafkaJS's createPartitions: grows each topic to `count` partitions. */
  async createPartitions(options: { topicPartitions: { topic: string; count: number }[] }): Promise<void> {
    for (const { topic, count } of options.topicPartitions)
      await this.alterTopic(topic, { partitions: count });
  }

  async deleteTopic(topic: string): Promise<void> {
    await this.transport.request("DELETE", `/v1/topics/${topicSegment(topic)}`);
  }

  async deleteTopics(options: { topics: string[] }): Promise<void> {
    for (const topic of options.topics) await this.deleteTopic(topic);
  }

  /** Every consumer group with its state and member count. */
  async listGroups(): Promise<{ groups: GroupListing[] }> {
    return this.transport.request<{ groups: GroupListing[] }>("GET", "/v1/groups");
  }

  /** State, epochs, members with their assignments, committed offsets and lag; GROUP_ID_NOT_FOUND if unknown. */
  async describeGroup(groupId: string): Promise<GroupDescription> {
    return this.transport.request<GroupDescription>("GET", `/v1/groups/${groupSegment(groupId)}`);
  }

  async describeGroups(groupIds: string[]): Promise<{ groups: GroupDescription[] }> {
    return { groups: await Promise.all(groupIds.map((id) => this.describeGroup(id))) };
  }

  /** Committed offsets (the next record to read) with log-end offset and lag; empty for an unknown group. */
  async fetchOffsets(options: { groupId: string; topics?: string[] }): Promise<GroupOffset[]> {
    const answer = await this.transport.request<{ offsets: GroupOffset[] }>(
      "GET",
      `/v1/groups/${groupSegment(options.groupId)}/offsets`,
      { query: { topic: options.topics?.join(",") } },
    );
    return answer.offsets;
  }

  /**
   * kafka-consumer-groups --reset-offsets for one topic of a group with no active members: plans
   * the new offsets (clamped to the log) and, unless dryRun, commits them.
   */
  async resetOffsets(options: {
    groupId: string;
    topic: string;
    partitions?: number[];
    to: OffsetResetTarget;
    dryRun?: boolean;
  }): Promise<PlannedOffset[]> {
    const to =
      typeof options.to === "object" && "timestamp" in options.to
        ? { timestamp: toMillis(options.to.timestamp) }
        : options.to;
    const answer = await this.transport.request<{ offsets: PlannedOffset[] }>(
      "POST",
      `/v1/groups/${groupSegment(options.groupId)}/offsets/reset`,
      { body: { topic: options.topic, partitions: options.partitions, to, dryRun: options.dryRun } },
    );
    return answer.offsets;
  }

  /** KafkaJS's setOffsets: commits these offsets for a group with no active members. */
  async setOffsets(options: {
    groupId: string;
    topic: string;
    partitions: { partition: number; offset: number | string }[];
  }): Promise<void> {
    await this.transport.request("POST", `/v1/groups/${groupSegment(options.groupId)}/offsets`, {
      body: {
        offsets: options.partitions.map((p) => ({
          topic: options.topic,
          partition: p.partition,
          offset: Number(p.offset),
        })),
      },
    });
  }

  /** Deletes groups with no active members, and their offsets. */
  async deleteGroups(groupIds: string[]): Promise<void> {
    for (const groupId of groupIds)
      await this.transport.request("DELETE", `/v1/groups/${groupSegment(groupId)}`);
  }

  /**
   * Creates a push subscription (architecture §14): its consumer group starts at `startingPosition`.
   * The answer carries the Standard Webhooks signing secret of an HTTP target. DUPLICATE_RESOURCE if
   * the name is taken.
   */
  async createSubscription(name: string, input: SubscriptionInput): Promise<Subscription> {
    return this.transport.request<Subscription>("POST", "/v1/subscriptions", { body: { name, ...input } });
  }

  async listSubscriptions(): Promise<Subscription[]> {
    const answer = await this.transport.request<{ subscriptions: Subscription[] }>(
      "GET",
      "/v1/subscriptions",
    );
    return answer.subscriptions;
  }

  /** The definition and its delivery status (counts, lag, last error, per partition); RESOURCE_NOT_FOUND if unknown. */
  async describeSubscription(name: string): Promise<SubscriptionDescription> {
    return this.transport.request<SubscriptionDescription>("GET", subscriptionPath(name));
  }

  /**
   * Changes settings (the starting position only applies at creation). With `version`, the change
   * applies only if the stored subscription is still at that version (INVALID_UPDATE_VERSION if not).
   */
  async updateSubscription(
    name: string,
    change: SubscriptionChange,
    options: { version?: number } = {},
  ): Promise<Subscription> {
    return this.transport.request<Subscription>("PATCH", subscriptionPath(name), {
      body: { ...change, ...(options.version !== undefined ? { version: options.version } : {}) },
    });
  }

  /** Stops delivery (Lambda's Disabled): the dispatcher finishes its in-flight batches and leaves the group. */
  async pauseSubscription(name: string): Promise<Subscription> {
    return this.updateSubscription(name, { state: "Disabled" });
  }

  /** Delivery resumes from the group's committed offsets. */
  async resumeSubscription(name: string): Promise<Subscription> {
    return this.updateSubscription(name, { state: "Enabled" });
  }

  /**
   * Deletes the subscription and its consumer group: `Deleted` when done at once, `Deleting` while a
   * dispatcher still holds the group (it finishes its in-flight batches first; then the rest goes).
   */
  async deleteSubscription(name: string): Promise<{ state: "Deleted" | "Deleting" }> {
    const answer = await this.transport.request<{ state?: string } | undefined>(
      "DELETE",
      subscriptionPath(name),
    );
    return { state: answer?.state === "Deleting" ? "Deleting" : "Deleted" };
  }
}

function subscriptionPath(name: string): string {
  return `/v1/subscriptions/${segment(name, "INVALID_REQUEST", "subscription name")}`;
}

function toMillis(timestamp: number | string | Date): number | string {
  return timestamp instanceof Date ? timestamp.getTime() : timestamp;
}
