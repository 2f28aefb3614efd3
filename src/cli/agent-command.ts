import { UsageError } from "./args.js";
import type { Command } from "./command.js";
import { CliError } from "./error-line.js";
import {
  bindsEveryAddress,
  listenerOptions,
  readListeners,
  readSubscriptionTargets,
  readTuning,
  TUNING_OPTIONS,
  tryHints,
} from "./server-options.js";
import { startupError } from "./startup-error.js";
// The server (broker, AWS storage, HTTP API, Kafka listener) is imported in run(), as in floe dev.

/**
 * `floe agent`: `floe dev`'s server (the Kafka protocol and the HTTP API, one process) over S3 and
 * DynamoDB, the bus a deployed stack uses. Agents hold no state of their own: each answers
 * Metadata as the leader of every partition (as WarpStream's agents do) and every append commits
 * through DynamoDB, so any number run side by side over one bucket and table (architecture §12).
 *
 * It listens on 127.0.0.1 unless told otherwise: neither listener authenticates its clients (Kafka's
 * PLAINTEXT, no SigV4), so being reachable from the network must be a choice, made together with
 * the address Kafka clients are told to use.
 */
export const agentCommand: Command = {
  path: ["agent"],
  summary: "Run a stateless agent: the Kafka protocol and the HTTP API over S3 and DynamoDB",
  kafka: "kafka-server-start.sh",
  usage: "floe agent [--host <address> --advertised-host <host>] [--kafka-port <n>] [--port <n>] [options]",
  connects: false,
  options: {
    ...listenerOptions("127.0.0.1", "required"),
    "auto-create-topics": {
      kind: "flag",
      description:
        "create a topic on its first produce or metadata request (Kafka's auto.create.topics.enable; default off, as in a deployed stack; env FLOE_AUTO_CREATE_TOPICS=true)",
    },
    ...TUNING_OPTIONS,
  },
  notes: [
    "Storage is S3 and DynamoDB: FLOE_BUCKET and FLOE_TABLE name them (a deployed stack's BucketName and TableName outputs), AWS_REGION and the default AWS credential chain reach them, and AWS_ENDPOINT_URL (or AWS_ENDPOINT_URL_S3 and AWS_ENDPOINT_URL_DYNAMODB) points at an emulator instead, where a missing bucket or table is created.",
    "Agents keep no state: run any number side by side over one bucket and table. Each tells Kafka clients it leads every partition, so a client needs any one of them (--bootstrap-server agent-1:9092,agent-2:9092).",
    "It listens on 127.0.0.1 unless --host says otherwise: neither protocol authenticates clients. To serve the network, give the address clients reach it at: --host 0.0.0.0 --advertised-host <that address>.",
    "Maintenance runs under leases, so several agents may run it at once; --maintenance-interval-ms 0 leaves it to a deployed stack's scheduled function.",
  ],
  examples: [
    "FLOE_BUCKET=my-bucket FLOE_TABLE=my-table floe agent",
    "floe agent --host 0.0.0.0 --advertised-host agent-1.internal",
    "floe agent --port 18092 --kafka-port 19092",
  ],
  async run(context) {
    const { options, io } = context;
    options.noPositionals();
    const listeners = readListeners(options, "127.0.0.1");
    if (listeners.kafka && bindsEveryAddress(listeners.kafka.host) && !listeners.kafka.advertisedHost) {
      // Kafka refuses to advertise 0.0.0.0 too: clients would be told to connect to themselves.
      throw new UsageError(
        `--advertised-host is needed when the Kafka protocol listens on ${listeners.kafka.host}: it is the address Kafka clients are told to connect to`,
      );
    }
    const missing = ["FLOE_BUCKET", "FLOE_TABLE"].filter((name) => !io.env[name]?.trim());
    if (missing.length > 0) {
      throw new CliError(
        `set ${missing.join(" and ")}: the S3 bucket and DynamoDB table the agents share (a deployed stack's BucketName and TableName outputs)`,
      );
    }
    const tuning = readTuning(options);
    const targets = await readSubscriptionTargets(options);
    const autoCreateTopics =
      options.flag("auto-create-topics") ||
      /^(?:1|true|yes|on)$/i.test(io.env.FLOE_AUTO_CREATE_TOPICS?.trim() ?? "");
    const [{ startDevServer }, { installSignalHandlers }] = await Promise.all([
      import("../server/dev-server.js"),
      import("../server/signal-handlers.js"),
    ]);
    // The server names itself for floe dev; an agent's operator reads "agent".
    const log = (line: string) => io.stdout.write(`${line.replace(/^Floe dev server/, "Floe agent")}\n`);
    const server = await startDevServer({
      ...listeners,
      storage: "aws",
      autoCreateTopics,
      ...tuning,
      ...targets,
      log,
    }).catch((error: unknown) => {
      throw startupError(error, listeners);
    });
    const advertised = listeners.kafka?.advertisedHost;
    if (server.kafka && advertised)
      log(`  advertised to Kafka clients as ${advertised}:${server.kafka.port}`);
    io.stdout.write(`${tryHints(server, advertised)}Press Ctrl-C to stop.\n`);
    return new Promise<number>((resolve) => {
      installSignalHandlers(server, { log, exit: resolve });
    });
  },
};
