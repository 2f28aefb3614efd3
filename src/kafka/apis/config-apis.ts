import { parseTopicConfig } from "../../broker/topic-config.js";
import type { Topic } from "../../broker/types.js";
import { FloeError } from "../../errors.js";
import { mapConcurrent } from "../../groups/map-concurrent.js";
import { defineApi, type RequestContext } from "../kafka-api.js";
import { AlterConfigsRequest, AlterConfigsResponse } from "../protocol/messages/alter-configs.js";
import { DescribeConfigsRequest, DescribeConfigsResponse } from "../protocol/messages/describe-configs.js";
import {
  IncrementalAlterConfigsRequest,
  IncrementalAlterConfigsResponse,
} from "../protocol/messages/incremental-alter-configs.js";
import { duplicated, invalidRequest, itemError, NO_ERROR } from "./admin-errors.js";
import {
  brokerConfigEntries,
  CONFIG_TYPE,
  type ConfigEntry,
  type DescribeOptions,
  isTopicConfigName,
  RESOURCE_TYPE,
  TOPIC_CONFIG_NAMES,
  TOPIC_CONFIGS,
  topicConfigEntries,
} from "./kafka-configs.js";

/** Items of one request worked on at once: a wide request must not fire thousands of metadata reads and writes together. */
const ADMIN_CONCURRENCY = 8;

function unsupportedResource(type: number): FloeError {
  return invalidRequest(
    `Resource type ${type} is not supported: Floe has configs for topics (2) and brokers (4) only.`,
  );
}

/**
 * A BROKER resource names this agent's node id, or "" for the cluster-wide dynamic defaults (of
 * which Floe has none). Another id is refused as Kafka refuses it: configs are asked of their broker.
 */
function brokerResource(ctx: RequestContext, name: string): "this" | "defaults" {
  if (name === "") return "defaults";
  const nodeId = ctx.core.node().nodeId;
  if (name === String(nodeId)) return "this";
  throw invalidRequest(`Unexpected broker id, expected ${nodeId} or empty string, but received ${name}`);
}

const READ_ONLY_BROKER =
  "Floe's broker configs are this process's startup options (floe dev flags); they cannot be altered over the Kafka protocol.";

export const describeConfigsApi = defineApi(DescribeConfigsRequest, DescribeConfigsResponse, {
  async handle(request, ctx) {
    const results = await mapConcurrent(request.resources, ADMIN_CONCURRENCY, async (r) => {
      const resource = { resourceType: r.resourceType, resourceName: r.resourceName };
      const options: DescribeOptions = {
        // An empty list asks for every config, as null does: nothing else could be meant by it.
        keys: r.configurationKeys?.length ? r.configurationKeys : null,
        includeSynonyms: request.includeSynonyms,
        includeDocumentation: request.includeDocumentation,
      };
      try {
        let configs: ConfigEntry[];
        if (r.resourceType === RESOURCE_TYPE.TOPIC) {
          configs = topicConfigEntries(await ctx.core.broker.topics.get(r.resourceName), options);
        } else if (r.resourceType === RESOURCE_TYPE.BROKER) {
          configs = brokerResource(ctx, r.resourceName) === "this" ? brokerConfigEntries(ctx, options) : [];
        } else {
          throw unsupportedResource(r.resourceType);
        }
        return { ...NO_ERROR, ...resource, configs };
      } catch (e) {
        return { ...itemError(e), ...resource, configs: [] };
      }
    });
    return { throttleTimeMs: 0, results };
  },
  errorResponse: (request, errorCode, errorMessage) => ({
    results: request.resources.map((r) => ({
      errorCode,
      errorMessage,
      resourceType: r.resourceType,
      resourceName: r.resourceName,
    })),
  }),
});

/** A change to a topic's overrides: a value sets the key, null removes it (the default applies). */
type ConfigChange = Record<string, string | null>;

function unknownConfig(name: string): FloeError {
  return new FloeError(
    "INVALID_CONFIG",
    `Unknown topic config name: ${name}. Floe supports ${TOPIC_CONFIG_NAMES.join(", ")}.`,
  );
}

function nullValue(name: string): FloeError {
  return invalidRequest(`Null value not supported for: ${name}`);
}

const OP = { SET: 0, DELETE: 1, APPEND: 2, SUBTRACT: 3 } as const;

function listItems(value: string): string[] {
  return value
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

/** IncrementalAlterConfigs' operations on one topic, over its current configs (APPEND extends the default when there is no override, as in Kafka). */
function incrementalChange(
  ops: readonly { name: string; configOperation: number; value: string | null }[],
  topic: Topic,
): ConfigChange {
  const change: ConfigChange = {};
  for (const { name, configOperation, value } of ops) {
    if (!isTopicConfigName(name)) throw unknownConfig(name);
    switch (configOperation) {
      case OP.SET:
        if (value === null) throw nullValue(name);
        change[name] = value;
        break;
      case OP.DELETE:
        change[name] = null;
        break;
      case OP.APPEND:
      case OP.SUBTRACT: {
        const verb = configOperation === OP.APPEND ? "append" : "subtract";
        if (TOPIC_CONFIGS[name].type !== CONFIG_TYPE.LIST) {
          throw invalidRequest(`Config value ${verb} is not allowed for config key: ${name}`);
        }
        if (value === null) throw nullValue(name);
        const current = listItems(String(topic.config[name]));
        const items = listItems(value);
        const next =
          configOperation === OP.APPEND
            ? [...current, ...items.filter((i) => !current.includes(i))]
            : current.filter((i) => !items.includes(i));
        change[name] = next.join(",");
        break;
      }
      default:
        throw invalidRequest(`Unknown config operation ${configOperation} for ${name}.`);
    }
  }
  return change;
}

/** AlterConfigs' whole-set replacement: the overrides become exactly these; the others revert to defaults. */
function replacement(configs: readonly { name: string; value: string | null }[], topic: Topic): ConfigChange {
  const change: ConfigChange = {};
  for (const name of Object.keys(topic.configOverrides)) change[name] = null;
  for (const { name, value } of configs) {
    if (!isTopicConfigName(name)) throw unknownConfig(name);
    if (value === null) throw nullValue(name);
    change[name] = value;
  }
  return change;
}

/** How often a change lost to a concurrent one is recomputed before the client is told to retry. */
const ALTER_ATTEMPTS = 3;

/**
 * Applies a change computed from the topic's current configs. A concurrent change makes the
 * conditional write fail; the change is then recomputed over the new configs (APPEND must see them).
 */
async function alterTopicConfigs(
  ctx: RequestContext,
  name: string,
  compute: (topic: Topic) => ConfigChange,
  validateOnly: boolean,
): Promise<void> {
  const { broker } = ctx.core;
  for (let attempt = 1; ; attempt++) {
    const topic = await broker.topics.get(name);
    const change = compute(topic);
    const next: Record<string, unknown> = { ...topic.configOverrides };
    for (const [k, v] of Object.entries(change)) {
      if (v === null) delete next[k];
      else next[k] = v;
    }
    parseTopicConfig(next); // a bad value is INVALID_CONFIG here, validateOnly or not
    if (validateOnly) return;
    try {
      await broker.updateTopic(name, { config: change });
      return;
    } catch (e) {
      const lost = e instanceof FloeError && e.code === "CONCURRENT_TRANSACTIONS";
      if (!lost || attempt >= ALTER_ATTEMPTS) throw e;
    }
  }
}

interface AlterResource<C> {
  resourceType: number;
  resourceName: string;
  configs: C[];
}

/** The per-resource loop both alter APIs share: duplicates refused, each resource its own answer. */
async function alterResources<C extends { name: string }>(
  ctx: RequestContext,
  resources: readonly AlterResource<C>[],
  validateOnly: boolean,
  compute: (configs: readonly C[], topic: Topic) => ConfigChange,
) {
  const twice = duplicated(resources, (r) => `${r.resourceType}:${r.resourceName}`);
  const responses = await mapConcurrent(resources, ADMIN_CONCURRENCY, async (r) => {
    const resource = { resourceType: r.resourceType, resourceName: r.resourceName };
    try {
      if (twice.has(`${r.resourceType}:${r.resourceName}`)) {
        throw invalidRequest(`Resource ${r.resourceName} (type ${r.resourceType}) appears more than once.`);
      }
      const keys = duplicated(r.configs, (c) => c.name);
      if (keys.size > 0) throw invalidRequest(`Duplicate config keys: ${[...keys].join(", ")}`);
      if (r.resourceType === RESOURCE_TYPE.TOPIC) {
        await alterTopicConfigs(ctx, r.resourceName, (topic) => compute(r.configs, topic), validateOnly);
      } else if (r.resourceType === RESOURCE_TYPE.BROKER) {
        brokerResource(ctx, r.resourceName);
        if (r.configs.length > 0) throw invalidRequest(READ_ONLY_BROKER);
      } else {
        throw unsupportedResource(r.resourceType);
      }
      return { ...NO_ERROR, ...resource };
    } catch (e) {
      return { ...itemError(e), ...resource };
    }
  });
  return { throttleTimeMs: 0, responses };
}

export const incrementalAlterConfigsApi = defineApi(
  IncrementalAlterConfigsRequest,
  IncrementalAlterConfigsResponse,
  {
    handle: (request, ctx) => alterResources(ctx, request.resources, request.validateOnly, incrementalChange),
    errorResponse: (request, errorCode, errorMessage) =>
      everyResourceFailed(request.resources, errorCode, errorMessage),
  },
);

export const alterConfigsApi = defineApi(AlterConfigsRequest, AlterConfigsResponse, {
  handle: (request, ctx) => alterResources(ctx, request.resources, request.validateOnly, replacement),
  errorResponse: (request, errorCode, errorMessage) =>
    everyResourceFailed(request.resources, errorCode, errorMessage),
});

/** Both alter APIs' answer when the request as a whole failed: each resource with the error. */
function everyResourceFailed(
  resources: readonly { resourceType: number; resourceName: string }[],
  errorCode: number,
  errorMessage: string | null,
) {
  return {
    responses: resources.map((r) => ({
      errorCode,
      errorMessage,
      resourceType: r.resourceType,
      resourceName: r.resourceName,
    })),
  };
}

export const configApis = [describeConfigsApi, incrementalAlterConfigsApi, alterConfigsApi] as const;
