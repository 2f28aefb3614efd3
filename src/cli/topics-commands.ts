import { type OptionSpecs, UsageError } from "./args.js";
import type { Command, CommandContext } from "./command.js";
import type { TopicDescription } from "../client/types.js";
import { FloeClientError } from "../client/client-error.js";

/** Admin calls fail fast: a person at a prompt is better served by an error in a second than by retries. */
const ADMIN_RETRY = { retries: 2 };

const TOPIC = { kind: "value", valueName: "name", description: "the topic" } as const;

/** Kafka admin-tool options that cannot mean anything against Floe's HTTP API. */
export const KAFKA_ADMIN_OPTIONS: OptionSpecs = {
  "command-config": {
    kind: "value",
    valueName: "file",
    description: "Kafka's admin client properties: not supported",
    refusedBecause:
      "Floe takes no client properties file; give the server with --url (or FLOE_URL) and sign with --aws-sigv4",
  },
};

const EXCLUDE_INTERNAL: OptionSpecs = {
  "exclude-internal": {
    kind: "flag",
    description: "accepted for Kafka familiarity: Floe has no internal topics",
    ignoredBecause: "Floe has no internal topics",
  },
};

const REPLICA_ASSIGNMENT: OptionSpecs = {
  "replica-assignment": {
    kind: "value",
    valueName: "list",
    description: "Kafka's broker placement: not supported",
    refusedBecause: "Floe has no brokers to place replicas on (object storage keeps them); use --partitions",
  },
};

const IF_EXISTS = {
  kind: "flag",
  description: "succeed quietly if the topic does not exist (as Kafka's --if-exists)",
} as const;

/** Kafka's describe filters for partitions short of replicas: never true of object storage. */
const REPLICA_FILTERS = [
  "under-replicated-partitions",
  "under-min-isr-partitions",
  "at-min-isr-partitions",
  "unavailable-partitions",
] as const;

function unknownTopic(error: unknown): boolean {
  return error instanceof FloeClientError && error.code === "UNKNOWN_TOPIC_OR_PARTITION";
}

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
      ignoredBecause: "object storage keeps the replicas",
    },
    config: {
      kind: "value",
      valueName: "key=value",
      repeatable: true,
      description: "a topic config override, e.g. retention.ms=86400000 (repeatable)",
    },
    "if-not-exists": { kind: "flag", description: "succeed quietly if the topic already exists" },
    ...REPLICA_ASSIGNMENT,
    ...KAFKA_ADMIN_OPTIONS,
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
  options: { ...EXCLUDE_INTERNAL, ...KAFKA_ADMIN_OPTIONS },
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
  options: {
    topic: { ...TOPIC, description: "the topic to describe (default: every topic)" },
    "if-exists": IF_EXISTS,
    "topics-with-overrides": {
      kind: "flag",
      description: "only the topics with config overrides, topic lines only",
    },
    ...EXCLUDE_INTERNAL,
    ...Object.fromEntries(
      REPLICA_FILTERS.map((name) => [
        name,
        {
          kind: "flag",
          description: "Kafka's replica filter: shows nothing, as object storage keeps every partition whole",
          ignoredBecause:
            "object storage keeps every partition whole and available; there is nothing to show",
        },
      ]),
    ),
    ...KAFKA_ADMIN_OPTIONS,
  },
  notes: [
    "LogStartOffset is the first offset still readable, HighWatermark the offset the next record gets;",
    "their difference is the number of records kept. Size is in bytes.",
  ],
  async run(context) {
    const { options } = context;
    options.noPositionals();
    if (REPLICA_FILTERS.some((name) => options.flag(name))) return 0;
    const admin = context.client({ retry: ADMIN_RETRY }).admin();
    const named = options.string("topic");
    const names = named !== undefined ? [named] : [...(await admin.listTopics())].sort();
    for (const name of names) {
      let topic: TopicDescription;
      try {
        topic = await admin.describeTopic(name);
      } catch (error) {
        if (options.flag("if-exists") && unknownTopic(error)) continue;
        throw error;
      }
      if (!options.flag("topics-with-overrides")) write(context, formatDescription(topic));
      else if (Object.keys(topic.configOverrides ?? {}).length > 0) {
        write(context, `${formatDescription(topic).split("\n")[0]}\n`);
      }
    }
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
    // No trailing space when there are no overrides.
    `Topic: ${topic.name}\tTopicId: ${topic.topicId}\tPartitionCount: ${topic.partitions.length}\tConfigs:${configs ? ` ${configs}` : ""}`,
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
    "floe topics alter --topic <name> [--partitions <n>] [--config <key=value>]... [--delete-config <key>]... [--if-exists]",
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
    "add-config": {
      kind: "value",
      valueName: "k=v,k=v",
      repeatable: true,
      description: "set config overrides, comma-separated (kafka-configs.sh's spelling)",
    },
    "delete-config": {
      kind: "value",
      valueName: "key",
      repeatable: true,
      description: "remove a config override (repeatable; comma-separated keys too)",
    },
    "if-exists": IF_EXISTS,
    ...REPLICA_ASSIGNMENT,
    ...KAFKA_ADMIN_OPTIONS,
  },
  examples: [
    "floe topics alter --topic quickstart --partitions 3",
    "floe topics --alter --topic quickstart --add-config retention.ms=86400000,cleanup.policy=compact",
  ],
  async run(context) {
    const { options } = context;
    options.noPositionals();
    const topic = options.requiredString("topic");
    const partitions = options.integer("partitions", 1);
    const config: Record<string, string | null> = {
      ...options.keyValues("config"),
      ...addConfigs(options.list("add-config")),
    };
    for (const key of options.list("delete-config").flatMap((keys) => keys.split(","))) {
      if (key.trim() !== "") config[key.trim()] = null;
    }
    if (partitions === undefined && Object.keys(config).length === 0) {
      throw new UsageError("nothing to alter: give --partitions, --config, --add-config or --delete-config");
    }
    try {
      await context
        .client({ retry: ADMIN_RETRY })
        .admin()
        .alterTopic(topic, {
          ...(partitions !== undefined ? { partitions } : {}),
          ...(Object.keys(config).length > 0 ? { config } : {}),
        });
    } catch (error) {
      if (options.flag("if-exists") && unknownTopic(error)) return 0;
      throw error;
    }
    write(context, `Altered topic ${topic}.\n`);
    return 0;
  },
};

/** kafka-configs.sh's `--add-config k1=v1,k2=v2`, with its `[a,b]` brackets for list values. */
export function addConfigs(values: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const text of values) {
    for (const pair of text.match(/[^,[]+(\[[^\]]*\])?[^,]*/g) ?? []) {
      const eq = pair.indexOf("=");
      if (eq <= 0) throw new UsageError(`--add-config expects key=value[,key=value…], got "${text}"`);
      const value = pair.slice(eq + 1).trim();
      out[pair.slice(0, eq).trim()] = /^\[.*\]$/.test(value) ? value.slice(1, -1) : value;
    }
  }
  return out;
}

const remove: Command = {
  path: ["topics", "delete"],
  summary: "Delete a topic and its records",
  kafka: "kafka-topics.sh --delete",
  usage: "floe topics delete --topic <name> [--if-exists] [options]",
  connects: true,
  options: {
    topic: { ...TOPIC, description: "the topic to delete" },
    "if-exists": IF_EXISTS,
    ...KAFKA_ADMIN_OPTIONS,
  },
  async run(context) {
    const { options } = context;
    options.noPositionals();
    const topic = options.requiredString("topic");
    try {
      await context.client({ retry: ADMIN_RETRY }).admin().deleteTopic(topic);
    } catch (error) {
      if (options.flag("if-exists") && unknownTopic(error)) return 0;
      throw error;
    }
    write(context, `Deleted topic ${topic}.\n`);
    return 0;
  },
};

export const topicsCommands: Command[] = [create, list, describe, alter, remove];
