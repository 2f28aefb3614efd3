import { UsageError } from "./args.js";
import type { Command, CommandContext } from "./command.js";
import type { TopicDescription } from "../client/types.js";
import { FloeClientError } from "../client/client-error.js";

/** Admin calls fail fast: a person at a prompt is better served by an error in a second than by retries. */
const ADMIN_RETRY = { retries: 2 };

const TOPIC = { kind: "value", valueName: "name", description: "the topic" } as const;

function write(context: CommandContext, text: string): void {
  context.io.stdout.write(text);
}

const create: Command = {
  path: ["topics", "create"],
  summary: "Create a topic",
  kafka: "kafka-topics.sh --create",
  usage: "floe topics create --topic <name> [--partitions <n>] [--config <key=value>]... [options]",
  connects: true,
  options: {
    topic: { ...TOPIC, description: "name of the topic to create (letters, digits, '.', '_', '-')" },
    partitions: { kind: "value", valueName: "n", description: "number of partitions (default 1)" },
    "replication-factor": {
      kind: "value",
      valueName: "n",
      description: "accepted for Kafka familiarity and ignored: object storage keeps the replicas",
    },
    config: {
      kind: "value",
      valueName: "key=value",
      repeatable: true,
      description: "a topic config override, e.g. retention.ms=86400000 (repeatable)",
    },
    "if-not-exists": { kind: "flag", description: "succeed quietly if the topic already exists" },
  },
  examples: ["floe topics create --topic quickstart --partitions 3 --config retention.ms=86400000"],
  async run(context) {
    const { options } = context;
    options.noPositionals();
    const topic = options.requiredString("topic");
    const numPartitions = options.integer("partitions", 1) ?? 1;
    options.integer("replication-factor", 1);
    const config = options.keyValues("config");
    try {
      await context
        .client({ retry: ADMIN_RETRY })
        .admin()
        .createTopic({
          topic,
          numPartitions,
          configEntries: Object.entries(config).map(([name, value]) => ({ name, value })),
        });
    } catch (error) {
      if (
        options.flag("if-not-exists") &&
        error instanceof FloeClientError &&
        error.code === "TOPIC_ALREADY_EXISTS"
      ) {
        return 0;
      }
      throw error;
    }
    write(context, `Created topic ${topic}.\n`);
    return 0;
  },
};

const list: Command = {
  path: ["topics", "list"],
  summary: "List topic names, one per line",
  kafka: "kafka-topics.sh --list",
  usage: "floe topics list [options]",
  connects: true,
  options: {},
  async run(context) {
    context.options.noPositionals();
    const topics = await context.client({ retry: ADMIN_RETRY }).admin().listTopics();
    write(context, topics.length === 0 ? "" : `${[...topics].sort().join("\n")}\n`);
    return 0;
  },
};

const describe: Command = {
  path: ["topics", "describe"],
  summary: "Show a topic's partitions: log start offset, high-water mark, size",
  kafka: "kafka-topics.sh --describe",
  usage: "floe topics describe [--topic <name>] [options]",
  connects: true,
  options: { topic: { ...TOPIC, description: "the topic to describe (default: every topic)" } },
  notes: [
    "LogStartOffset is the first offset still readable, HighWatermark the offset the next record gets;",
    "their difference is the number of records kept. Size is in bytes.",
  ],
  async run(context) {
    context.options.noPositionals();
    const admin = context.client({ retry: ADMIN_RETRY }).admin();
    const named = context.options.string("topic");
    const names = named !== undefined ? [named] : [...(await admin.listTopics())].sort();
    for (const name of names) write(context, formatDescription(await admin.describeTopic(name)));
    return 0;
  },
};

/**
 * kafka-topics --describe's layout: a topic line, then one indented line per partition, tab-separated.
 * Configs lists only the topic's overrides, as Kafka's does; the defaults are Kafka's.
 */
export function formatDescription(topic: TopicDescription): string {
  const configs = Object.entries(topic.configOverrides ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(",");
  const lines = [
    `Topic: ${topic.name}\tTopicId: ${topic.topicId}\tPartitionCount: ${topic.partitions.length}\tConfigs: ${configs}`,
  ];
  for (const p of topic.partitions) {
    lines.push(
      `\tTopic: ${topic.name}\tPartition: ${p.partition}\tLogStartOffset: ${p.logStartOffset}\tHighWatermark: ${p.highWatermark}\tSize: ${p.bytes}\tLeaderEpoch: ${p.leaderEpoch}${p.leaseOwner ? `\tLeaseHolder: ${p.leaseOwner}` : ""}`,
    );
  }
  return `${lines.join("\n")}\n`;
}

const alter: Command = {
  path: ["topics", "alter"],
  summary: "Add partitions or change config overrides",
  kafka: "kafka-topics.sh --alter / kafka-configs.sh --alter",
  usage:
    "floe topics alter --topic <name> [--partitions <n>] [--config <key=value>]... [--delete-config <key>]...",
  connects: true,
  options: {
    topic: TOPIC,
    partitions: {
      kind: "value",
      valueName: "n",
      description: "the new partition count (partitions are only added)",
    },
    config: {
      kind: "value",
      valueName: "key=value",
      repeatable: true,
      description: "set a config override (repeatable)",
    },
    "delete-config": {
      kind: "value",
      valueName: "key",
      repeatable: true,
      description: "remove a config override (repeatable)",
    },
  },
  async run(context) {
    const { options } = context;
    options.noPositionals();
    const topic = options.requiredString("topic");
    const partitions = options.integer("partitions", 1);
    const config: Record<string, string | null> = options.keyValues("config");
    for (const key of options.list("delete-config")) config[key] = null;
    if (partitions === undefined && Object.keys(config).length === 0) {
      throw new UsageError("nothing to alter: give --partitions, --config or --delete-config");
    }
    await context
      .client({ retry: ADMIN_RETRY })
      .admin()
      .alterTopic(topic, {
        ...(partitions !== undefined ? { partitions } : {}),
        ...(Object.keys(config).length > 0 ? { config } : {}),
      });
    write(context, `Altered topic ${topic}.\n`);
    return 0;
  },
};

const remove: Command = {
  path: ["topics", "delete"],
  summary: "Delete a topic and its records",
  kafka: "kafka-topics.sh --delete",
  usage: "floe topics delete --topic <name> [options]",
  connects: true,
  options: { topic: { ...TOPIC, description: "the topic to delete" } },
  async run(context) {
    context.options.noPositionals();
    const topic = context.options.requiredString("topic");
    await context.client({ retry: ADMIN_RETRY }).admin().deleteTopic(topic);
    write(context, `Deleted topic ${topic}.\n`);
    return 0;
  },
};

export const topicsCommands: Command[] = [create, list, describe, alter, remove];
