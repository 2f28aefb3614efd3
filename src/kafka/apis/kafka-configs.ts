import { DEFAULT_TOPIC_CONFIG, type TopicConfig } from "../../broker/topic-config.js";
import type { RequestContext } from "../kafka-api.js";

/**
 * Floe's configs as Kafka's config APIs (DescribeConfigs, CreateTopics v5+) present them: the
 * names, types and sources of Kafka's own ConfigDef, so `kafka-configs --describe` and admin
 * clients read them unchanged. Only configs Floe honours are listed; nothing is made up to look
 * complete.
 */

/** Kafka's ConfigResource.Type. */
export const RESOURCE_TYPE = { TOPIC: 2, BROKER: 4 } as const;

/** Kafka's DescribeConfigsResponse.ConfigSource. */
export const CONFIG_SOURCE = {
  DYNAMIC_TOPIC_CONFIG: 1,
  STATIC_BROKER_CONFIG: 4,
  DEFAULT_CONFIG: 5,
} as const;

/** Kafka's DescribeConfigsResponse.ConfigType. */
export const CONFIG_TYPE = { BOOLEAN: 1, STRING: 2, INT: 3, LONG: 5, LIST: 7 } as const;
type ConfigType = (typeof CONFIG_TYPE)[keyof typeof CONFIG_TYPE];

/** The socket.request.max.bytes the listener enforces unless started with another (listener.ts). */
const SOCKET_REQUEST_MAX_BYTES = 100 * 1024 * 1024;

interface TopicConfigInfo {
  type: ConfigType;
  /** The broker config holding the default a topic without an override gets, as in Kafka. */
  brokerSynonym: string;
  doc: string;
}

export const TOPIC_CONFIGS: Readonly<Record<keyof TopicConfig, TopicConfigInfo>> = {
  "cleanup.policy": {
    type: CONFIG_TYPE.LIST,
    brokerSynonym: "log.cleanup.policy",
    doc: "delete: retention removes old segments; compact: maintenance keeps the latest record per key. One of the two (Floe does not combine them).",
  },
  "retention.ms": {
    type: CONFIG_TYPE.LONG,
    brokerSynonym: "log.retention.ms",
    doc: "How long records are kept before retention may delete them; -1 keeps them forever.",
  },
  "retention.bytes": {
    type: CONFIG_TYPE.LONG,
    brokerSynonym: "log.retention.bytes",
    doc: "The size a partition may grow to before retention deletes its oldest segments; -1 (any negative value, as in Kafka) for no limit.",
  },
  "max.message.bytes": {
    type: CONFIG_TYPE.INT,
    brokerSynonym: "message.max.bytes",
    doc: "The largest record batch a producer may append to this topic.",
  },
  "message.timestamp.type": {
    type: CONFIG_TYPE.STRING,
    brokerSynonym: "log.message.timestamp.type",
    doc: "CreateTime keeps the producer's timestamps; LogAppendTime stamps records with the broker's clock.",
  },
};

export const TOPIC_CONFIG_NAMES = Object.keys(TOPIC_CONFIGS) as (keyof TopicConfig)[];

export function isTopicConfigName(name: string): name is keyof TopicConfig {
  return Object.hasOwn(TOPIC_CONFIGS, name);
}

/** One entry of a DescribeConfigs answer (the CreateTopics answer uses a subset of its fields). */
export interface ConfigEntry {
  name: string;
  value: string | null;
  readOnly: boolean;
  configSource: number;
  isSensitive: boolean;
  synonyms: { name: string; value: string | null; source: number }[];
  configType: number;
  documentation: string | null;
}

export interface DescribeOptions {
  /** null: every config. Names the resource does not have are left out, as Kafka does. */
  keys: readonly string[] | null;
  includeSynonyms: boolean;
  includeDocumentation: boolean;
}

/** A topic's every config: overrides as DYNAMIC_TOPIC_CONFIG, the rest as Kafka's defaults. */
export function topicConfigEntries(
  topic: { config: TopicConfig; configOverrides: Partial<TopicConfig> },
  options: DescribeOptions,
): ConfigEntry[] {
  return TOPIC_CONFIG_NAMES.filter((name) => options.keys === null || options.keys.includes(name)).map(
    (name) => {
      const info = TOPIC_CONFIGS[name];
      const overridden = Object.hasOwn(topic.configOverrides, name);
      const defaultValue = String(DEFAULT_TOPIC_CONFIG[name]);
      const synonyms: ConfigEntry["synonyms"] = [];
      if (options.includeSynonyms) {
        // Most specific first, as Kafka lists them: the topic's override, then the broker default.
        if (overridden)
          synonyms.push({
            name,
            value: String(topic.configOverrides[name]),
            source: CONFIG_SOURCE.DYNAMIC_TOPIC_CONFIG,
          });
        synonyms.push({
          name: info.brokerSynonym,
          value: defaultValue,
          source: CONFIG_SOURCE.DEFAULT_CONFIG,
        });
      }
      return {
        name,
        value: String(topic.config[name]),
        // Every topic config can be altered (IncrementalAlterConfigs, AlterConfigs, PATCH /v1/topics).
        readOnly: false,
        configSource: overridden ? CONFIG_SOURCE.DYNAMIC_TOPIC_CONFIG : CONFIG_SOURCE.DEFAULT_CONFIG,
        isSensitive: false,
        synonyms,
        configType: info.type,
        documentation: options.includeDocumentation ? info.doc : null,
      };
    },
  );
}

interface BrokerConfig {
  name: string;
  value: string;
  type: ConfigType;
  /** STATIC_BROKER_CONFIG: set by this process's options; DEFAULT_CONFIG: Kafka's default, unchanged. */
  source: number;
  doc: string;
}

/**
 * The broker-level configs Floe honours, all read-only: they are this process's startup options
 * (`floe dev` flags), not dynamic configs. The log.* and message.max.bytes values are the defaults
 * a topic without its own override gets.
 */
function brokerConfigs(ctx: RequestContext): BrokerConfig[] {
  const { broker } = ctx.core;
  const d = DEFAULT_TOPIC_CONFIG;
  const defaultConfig = CONFIG_SOURCE.DEFAULT_CONFIG;
  return [
    {
      name: "node.id",
      value: String(ctx.core.node().nodeId),
      type: CONFIG_TYPE.INT,
      source: CONFIG_SOURCE.STATIC_BROKER_CONFIG,
      doc: "This agent's id in Metadata; every agent leads every partition, since the log is in object storage.",
    },
    {
      name: "auto.create.topics.enable",
      value: String(broker.autoCreateTopics !== undefined),
      type: CONFIG_TYPE.BOOLEAN,
      source: CONFIG_SOURCE.STATIC_BROKER_CONFIG,
      doc: "Whether producing to or asking Metadata for an unknown topic creates it.",
    },
    {
      name: "num.partitions",
      value: String(defaultPartitions(ctx)),
      type: CONFIG_TYPE.INT,
      source: CONFIG_SOURCE.STATIC_BROKER_CONFIG,
      doc: "The partitions of a topic created without a count (auto-created, or CreateTopics with -1).",
    },
    {
      name: "socket.request.max.bytes",
      value: String(SOCKET_REQUEST_MAX_BYTES),
      type: CONFIG_TYPE.INT,
      source: defaultConfig,
      doc: "A request frame larger than this closes its connection.",
    },
    ...TOPIC_CONFIG_NAMES.map((name) => ({
      name: TOPIC_CONFIGS[name].brokerSynonym,
      value: String(d[name]),
      type: TOPIC_CONFIGS[name].type,
      source: defaultConfig,
      doc: `The default of the topic config ${name}: ${TOPIC_CONFIGS[name].doc}`,
    })),
  ];
}

/** Kafka's num.partitions: what a topic created without a count gets. */
export function defaultPartitions(ctx: RequestContext): number {
  return ctx.core.broker.autoCreateTopics?.partitions ?? 1;
}

export function brokerConfigEntries(ctx: RequestContext, options: DescribeOptions): ConfigEntry[] {
  return brokerConfigs(ctx)
    .filter((c) => options.keys === null || options.keys.includes(c.name))
    .map((c) => ({
      name: c.name,
      value: c.value,
      readOnly: true,
      configSource: c.source,
      isSensitive: false,
      synonyms: options.includeSynonyms ? [{ name: c.name, value: c.value, source: c.source }] : [],
      configType: c.type,
      documentation: options.includeDocumentation ? c.doc : null,
    }));
}
