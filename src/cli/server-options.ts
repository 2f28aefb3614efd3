/**
 * The options `floe dev` and `floe agent` share — where the HTTP API and the Kafka listener listen,
 * and how produce requests are batched — and their reading into the server's options, each mistake
 * a one-line usage error that names the flag.
 */
import { type OptionReader, type OptionSpecs, UsageError } from "./args.js";
import {
  BATCHING_PROFILE_NAMES,
  type BatchingProfileName,
  parseByteSize,
} from "../server/batching-profile.js";
// Type only: `floe --help` loads no storage code.
import type { FlushPolicy } from "../storage/flush-policy.js";
// Types only: the server itself is loaded by the command's run(), never by `floe --help`.
import type { DevServer, DevServerOptions } from "../server/dev-server.js";

export const DEFAULT_HTTP_PORT = 8092;
/** Kafka's own port: Kafka clients and tools find Floe where they expect a broker. */
export const DEFAULT_KAFKA_PORT = 9092;
const WILDCARDS = new Set(["0.0.0.0", "::", "[::]"]);

/**
 * --port, --host and the Kafka listener's flags; `defaultHost` is what --help says --host defaults
 * to, and `wildcardAdvertises` what a Kafka listener on 0.0.0.0 tells clients without --advertised-host.
 */
export function listenerOptions(defaultHost: string, wildcardAdvertises = "127.0.0.1"): OptionSpecs {
  return {
    port: {
      kind: "value",
      valueName: "n",
      description: `HTTP API port (default ${DEFAULT_HTTP_PORT}; 0 picks a free one)`,
    },
    host: {
      kind: "value",
      valueName: "address",
      description: `address to listen on, for the HTTP API and the Kafka protocol (default ${defaultHost})`,
    },
    "kafka-port": {
      kind: "value",
      valueName: "n",
      description: `Kafka protocol port, for Kafka's clients and tools (default ${DEFAULT_KAFKA_PORT}; 0 picks a free one)`,
    },
    "kafka-host": {
      kind: "value",
      valueName: "address",
      description: "address the Kafka protocol listens on (default: --host)",
    },
    "advertised-host": {
      kind: "value",
      valueName: "host",
      description: `host Kafka clients are told to connect to (Kafka's advertised.listeners; default: the Kafka listener's address, ${wildcardAdvertises} for 0.0.0.0)`,
    },
    "no-kafka": { kind: "flag", description: "do not serve the Kafka protocol (the HTTP API only)" },
  };
}

/** The batching, group, maintenance and subscription-delivery settings. */
export const TUNING_OPTIONS: OptionSpecs = {
  "group-session-timeout-ms": {
    kind: "value",
    valueName: "ms",
    description:
      "remove a consumer-group member not heard from for this long (default 45000; Kafka's group.consumer.session.timeout.ms)",
  },
  "maintenance-interval-ms": {
    kind: "value",
    valueName: "ms",
    description:
      "how often compaction, retention and garbage collection run (default 60000; 0 turns them off)",
  },
  profile: {
    kind: "value",
    valueName: "name",
    description:
      "group-commit batching: default (no linger, objects up to 4 MiB), low-latency (no linger, 1 MiB) or low-cost (400 ms, objects of 4 MiB and more)",
  },
  "linger-ms": {
    kind: "value",
    valueName: "ms",
    description:
      "how long a produce waits for others to share its object (overrides the profile; Kafka's linger.ms)",
  },
  "batch-max-bytes": {
    kind: "value",
    valueName: "size",
    description: "write an object once its batch holds this much, e.g. 4MiB (overrides the profile)",
  },
  "no-subscriptions": {
    kind: "flag",
    description:
      "do not deliver push subscriptions from this server, leaving them to other agents or a deployed stack's dispatcher function (by default a dispatcher in the server delivers them)",
  },
  "deny-private-targets": {
    kind: "flag",
    description:
      "refuse to deliver to HTTP targets at private addresses (loopback, 10/8, 172.16/12, 192.168/16, link-local, ...), as the deployed dispatcher does by default (by default this server delivers to them)",
  },
};

/**
 * Kafka's log.flush.interval.* for `floe dev`'s embedded store (decision 0010). Not `floe agent`'s:
 * S3 and DynamoDB are durable on every request.
 */
export const FLUSH_OPTIONS: OptionSpecs = {
  "log-flush-interval-messages": {
    kind: "value",
    valueName: "n",
    description:
      "1: fsync every object and commit before answering, so acknowledged records survive a power loss (default: never, Kafka's: the OS page cache, which survives a crash of floe dev but not of the machine; Kafka's log.flush.interval.messages)",
  },
  "log-flush-interval-ms": {
    kind: "value",
    valueName: "ms",
    description:
      "fsync everything acknowledged at least this often (default: never; Kafka's log.flush.interval.ms)",
  },
};

/** The flush policy the flags ask for; undefined when neither is given (Kafka's default). */
export function readFlushPolicy(options: OptionReader): FlushPolicy | undefined {
  const messages = options.integer("log-flush-interval-messages", 1);
  const ms = options.integer("log-flush-interval-ms", 1);
  if (messages === undefined && ms === undefined) return undefined;
  if (messages !== undefined && messages > 1) {
    throw new UsageError(
      `--log-flush-interval-messages ${messages} is not supported: use 1 (fsync every commit) or --log-flush-interval-ms`,
    );
  }
  // As flushPolicyOf reads Kafka's settings: flushing every commit already covers any interval.
  if (messages === 1) return { mode: "every-commit" };
  return { mode: "interval", intervalMs: ms! };
}

/** Where the server listens, as startDevServer takes it; `kafka` undefined means --no-kafka. */
export interface Listeners {
  port: number;
  host: string;
  kafka: { port: number; host: string; advertisedHost?: string } | undefined;
}

export function readListeners(options: OptionReader, defaultHost: string): Listeners {
  const port = portOption(options, "port") ?? DEFAULT_HTTP_PORT;
  const host = options.string("host") ?? defaultHost;
  if (options.flag("no-kafka")) {
    const conflicting = ["kafka-port", "kafka-host", "advertised-host"].find((name) => options.has(name));
    if (conflicting) throw new UsageError(`--no-kafka cannot be combined with --${conflicting}`);
    return { port, host, kafka: undefined };
  }
  const kafkaPort = portOption(options, "kafka-port") ?? DEFAULT_KAFKA_PORT;
  const kafkaHost = options.string("kafka-host") ?? host;
  if (port !== 0 && port === kafkaPort && host === kafkaHost) {
    throw new UsageError(
      `--port and --kafka-port are both ${port}: the HTTP API and the Kafka protocol need a port each`,
    );
  }
  const advertisedHost = options.string("advertised-host");
  if (advertisedHost !== undefined) {
    if (advertisedHost.trim() === "" || WILDCARDS.has(advertisedHost)) {
      // Kafka refuses it too: a client cannot connect to "every address".
      throw new UsageError(
        `--advertised-host must be an address Kafka clients can reach, got "${advertisedHost}"`,
      );
    }
    if (/^[^:[\]]+:\d+$/.test(advertisedHost)) {
      throw new UsageError(
        `--advertised-host takes a host without a port (clients are told --kafka-port), got "${advertisedHost}"`,
      );
    }
  }
  return { port, host, kafka: { port: kafkaPort, host: kafkaHost, advertisedHost } };
}

/** Whether the Kafka listener binds every address (clients then need an --advertised-host). */
export function bindsEveryAddress(host: string): boolean {
  return WILDCARDS.has(host);
}

function portOption(options: OptionReader, name: string): number | undefined {
  const port = options.integer(name, 0);
  if (port !== undefined && port > 65535)
    throw new UsageError(`--${name} must be at most 65535, got ${port}`);
  return port;
}

export type Tuning = Pick<
  DevServerOptions,
  | "profile"
  | "lingerMs"
  | "maxBatchBytes"
  | "groupSessionTimeoutMs"
  | "maintenanceIntervalMs"
  | "subscriptions"
>;

export function readTuning(options: OptionReader): Tuning {
  const profile = options.string("profile");
  if (profile !== undefined && !(BATCHING_PROFILE_NAMES as readonly string[]).includes(profile)) {
    throw new UsageError(`--profile must be one of ${BATCHING_PROFILE_NAMES.join(", ")}, got "${profile}"`);
  }
  const batchMaxText = options.string("batch-max-bytes");
  const maxBatchBytes = batchMaxText === undefined ? undefined : parseByteSize(batchMaxText);
  if (batchMaxText !== undefined && maxBatchBytes === undefined) {
    throw new UsageError(
      `--batch-max-bytes must be a size such as 1048576, 512KiB or 4MiB, got "${batchMaxText}"`,
    );
  }
  return {
    profile: profile as BatchingProfileName | undefined,
    lingerMs: options.integer("linger-ms", 0),
    maxBatchBytes,
    groupSessionTimeoutMs: options.integer("group-session-timeout-ms", 2),
    maintenanceIntervalMs: options.integer("maintenance-interval-ms", 0),
    subscriptions: !options.flag("no-subscriptions"),
  };
}

/**
 * The subscription targets --deny-private-targets asks for: HTTP targets over guardedFetch. The
 * targets' code is loaded only then (the server loads it anyway), so `floe --help` stays light.
 */
export async function readSubscriptionTargets(
  options: OptionReader,
): Promise<Pick<DevServerOptions, "subscriptionTargets">> {
  if (!options.flag("deny-private-targets")) return {};
  const { subscriptionTargets } = await import("../server/subscription-targets.js");
  return { subscriptionTargets: subscriptionTargets({ privateTargets: "deny" }) };
}

/**
 * What to type next, once the server listens: a floe command, and a Kafka tool when the Kafka
 * protocol is on, both aimed at this server.
 */
export function tryHints(server: Pick<DevServer, "url" | "port" | "kafka">, advertisedHost?: string): string {
  const urlFlag = server.port === DEFAULT_HTTP_PORT ? "" : ` --url ${server.url}`;
  const lines = [`  try: floe topics create --topic quickstart --partitions 1${urlFlag}`];
  if (server.kafka) {
    const host = advertisedHost ?? (bindsEveryAddress(server.kafka.host) ? "127.0.0.1" : server.kafka.host);
    const bootstrap = `${host.includes(":") ? `[${host}]` : host}:${server.kafka.port}`;
    lines.push(`       kafka-console-producer.sh --bootstrap-server ${bootstrap} --topic quickstart`);
  }
  return `${lines.join("\n")}\n`;
}
