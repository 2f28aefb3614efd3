import type { OptionReader, OptionSpecs } from "./args.js";
import { UsageError } from "./args.js";
import type { Command } from "./command.js";
import {
  ackSetting,
  acksNote,
  compressionSetting,
  LineFormatError,
  lineFormat,
  parseLine,
  parsePairs,
  producerSettings,
  readPropertiesFile,
} from "./console-properties.js";
import { errorLine } from "./error-line.js";
import { prompted, splitLines } from "./line-splitter.js";
import { FloeClientError } from "../client/client-error.js";

/** Kafka's max.request.size: about 1 MiB per request, base64 included, so a batch stays under max.message.bytes. */
const REQUEST_BYTES = 1024 * 1024;
/** How far reading stdin may run ahead of acknowledgements before it waits. */
const MAX_UNACKED_BYTES = 8 * REQUEST_BYTES;

/** kafka-console-producer's flags that map onto a producer property. */
const PROPERTY_FLAGS: Record<string, string> = {
  "batch-size": "batch.size",
  timeout: "linger.ms",
  "message-send-max-retries": "retries",
  "retry-backoff-ms": "retry.backoff.ms",
  "metadata-expiry-ms": "metadata.max.age.ms",
};

/** kafka-console-producer's flags that mean nothing over HTTP: accepted, with a note. */
const NO_EFFECT_FLAGS = [
  "request-timeout-ms",
  "max-block-ms",
  "max-memory-bytes",
  "max-partition-memory-bytes",
  "socket-buffer-size",
];

const KAFKA_LINE_READERS = ["kafka.tools.LineMessageReader", "org.apache.kafka.tools.LineMessageReader"];

const kafkaOptions: OptionSpecs = {
  property: {
    kind: "value",
    valueName: "k=v",
    repeatable: true,
    description:
      "line reader setting, as Kafka's: parse.key, key.separator (tab), parse.headers, headers.delimiter (tab), headers.separator (,), headers.key.separator (:), null.marker, ignore.error",
  },
  "producer-property": {
    kind: "value",
    valueName: "k=v",
    repeatable: true,
    description:
      "producer setting: linger.ms, batch.size, enable.idempotence, acks, max.in.flight.requests.per.connection, retries, retry.backoff.ms, metadata.max.age.ms",
  },
  "command-config": {
    kind: "value",
    valueName: "file",
    description: "a .properties file of producer settings (--producer-property wins)",
  },
  "producer.config": {
    kind: "value",
    valueName: "file",
    description: "Kafka's older name of --command-config",
  },
  "reader-config": {
    kind: "value",
    valueName: "file",
    description: "a .properties file of line reader settings (--property wins)",
  },
  "line-reader": {
    kind: "value",
    valueName: "class",
    description: "only Kafka's default, org.apache.kafka.tools.LineMessageReader",
  },
  "request-required-acks": {
    kind: "value",
    valueName: "acks",
    description: "accepted; every record is acknowledged once durably committed (acks=all)",
  },
  "compression-codec": {
    kind: "value",
    valueName: "codec",
    description: "only none: floe produce sends uncompressed batches",
  },
  sync: { kind: "flag", description: "wait for each record's acknowledgement before reading the next line" },
  "batch-size": { kind: "value", valueName: "bytes", description: "batch.size" },
  timeout: { kind: "value", valueName: "ms", description: "linger.ms" },
  "message-send-max-retries": { kind: "value", valueName: "n", description: "retries" },
  "retry-backoff-ms": { kind: "value", valueName: "ms", description: "retry.backoff.ms" },
  "metadata-expiry-ms": { kind: "value", valueName: "ms", description: "metadata.max.age.ms" },
  ...Object.fromEntries(
    NO_EFFECT_FLAGS.map((name) => [
      name,
      { kind: "value", valueName: "n", description: "accepted for Kafka scripts; no effect over HTTP" },
    ]),
  ),
};

export const produceCommand: Command = {
  path: ["produce"],
  summary: "Send each line of stdin as one record",
  kafka: "kafka-console-producer.sh",
  usage:
    "floe produce --topic <name> [--property parse.key=true --property key.separator=<sep>] [--partition <n>] [options] < lines",
  connects: true,
  options: {
    topic: {
      kind: "value",
      valueName: "name",
      description: "the topic to write to (created on first write by `floe dev`)",
    },
    "key-separator": {
      kind: "value",
      valueName: "sep",
      description:
        "split each line at the first <sep>: key before, value after (--property parse.key=true --property key.separator=<sep>)",
    },
    partition: {
      kind: "value",
      valueName: "n",
      description: "write every record to this partition (default: by key, or spread when keyless)",
    },
    ...kafkaOptions,
  },
  notes: [
    "Each line's bytes are sent unchanged (no JSON re-encoding); the newline ending it is dropped.",
    "With parse.headers=true a line is h1:v1,h2:v2<TAB>key<TAB>value (with parse.key) as in Kafka.",
    "In a terminal it prompts with > for each line; Ctrl-D ends the input.",
    "Waits for every record to be acknowledged before exiting; exits 1 if any was refused.",
  ],
  examples: [
    "printf 'hello\\nworld\\n' | floe produce --topic quickstart",
    "printf 'user-1:signed up\\n' | floe produce --topic quickstart --property parse.key=true --property key.separator=:",
    "printf 'trace:42\\tuser-1\\tsigned up\\n' | floe produce --topic quickstart --property parse.headers=true --property parse.key=true",
  ],
  async run(context) {
    const { options, io } = context;
    options.noPositionals();
    const topic = options.requiredString("topic");
    const partition = options.integer("partition", 0);
    const notes: string[] = [];
    const format = lineFormat(readerProperties(options), notes);
    const producerOptions = producerSettings(producerProperties(options, notes), notes);
    const sync = options.flag("sync");
    for (const note of notes) io.stderr.write(`floe produce: note: ${note}\n`);

    const producer = context.client().producer({ batchBytes: REQUEST_BYTES, ...producerOptions });
    const pending = new Set<Promise<void>>();
    let unackedBytes = 0;
    let lineNumber = 0;
    let acknowledged = 0;
    let failure: { error: unknown; line: number } | undefined;
    const onInterrupt = () => io.stdin.destroy();
    io.interrupted.addEventListener("abort", onInterrupt, { once: true });
    // Kafka prompts when System.console() exists: stdin and stdout both a terminal.
    const interactive = isTty(io.stdin) && isTty(io.stdout);
    const lines = interactive
      ? prompted(splitLines(io.stdin), () => io.stdout.write(">"))
      : splitLines(io.stdin);

    try {
      for await (const line of lines) {
        const at = ++lineNumber;
        let parsed: ReturnType<typeof parseLine>;
        try {
          parsed = parseLine(line, format, at);
        } catch (error) {
          if (!(error instanceof LineFormatError)) throw error;
          failure = { error: new FloeClientError("INVALID_RECORD", error.message), line: at };
          break;
        }
        const size = line.length;
        const message = {
          key: parsed.key,
          value: parsed.value,
          ...(parsed.headers ? { headers: parsed.headers } : {}),
          ...(partition !== undefined ? { partition } : {}),
        };
        const sent: Promise<void> = producer
          .send({ topic, messages: [message] })
          .then(
            () => {
              acknowledged++;
            },
            (error: unknown) => {
              if (!failure || at < failure.line) failure = { error, line: at };
            },
          )
          .finally(() => {
            pending.delete(sent);
            unackedBytes -= size;
          });
        pending.add(sent);
        unackedBytes += size;
        if (sync) await sent;
        while (unackedBytes > MAX_UNACKED_BYTES && !failure) await Promise.race(pending);
        if (failure) break;
      }
    } catch (error) {
      // Ctrl-C destroys stdin mid-read; what was read is still delivered below.
      if (!io.interrupted.aborted) throw error;
    } finally {
      io.interrupted.removeEventListener("abort", onInterrupt);
    }
    if (interactive) io.stdout.write("\n");
    await Promise.all(pending);
    await producer.disconnect();
    if (failure) {
      io.stderr.write(
        `${errorLine("produce", failure.error)} (line ${failure.line}; ${acknowledged} ${acknowledged === 1 ? "record" : "records"} acknowledged)\n`,
      );
      return 1;
    }
    return 0;
  },
};

function isTty(stream: unknown): boolean {
  return (stream as { isTTY?: boolean }).isTTY === true;
}

/** --reader-config, then --property, then --key-separator (which also turns parse.key on). */
function readerProperties(options: OptionReader): Map<string, string> {
  const reader = options.string("line-reader");
  if (reader !== undefined && !KAFKA_LINE_READERS.includes(reader)) {
    throw new UsageError(
      `--line-reader ${reader} is not supported: floe produce reads lines with Kafka's LineMessageReader rules (set them with --property)`,
    );
  }
  const file = options.string("reader-config");
  const props = new Map([
    ...(file === undefined ? [] : readPropertiesFile(file, "reader-config")),
    ...parsePairs(options.list("property"), "property"),
  ]);
  const separator = options.string("key-separator");
  if (separator !== undefined) {
    if (separator === "") throw new UsageError("--key-separator cannot be empty");
    props.set("parse.key", "true");
    props.set("key.separator", separator);
  }
  return props;
}

/** --command-config (or --producer.config), then --producer-property, then Kafka's dedicated flags. */
function producerProperties(options: OptionReader, notes: string[]): Map<string, string> {
  const props = new Map<string, string>();
  for (const name of ["producer.config", "command-config"]) {
    const file = options.string(name);
    if (file !== undefined) for (const [k, v] of readPropertiesFile(file, name)) props.set(k, v);
  }
  for (const [k, v] of parsePairs(options.list("producer-property"), "producer-property")) props.set(k, v);
  for (const [flag, key] of Object.entries(PROPERTY_FLAGS)) {
    const value = options.string(flag);
    if (value !== undefined) props.set(key, value);
  }
  const acks = options.string("request-required-acks");
  if (acks !== undefined) {
    if (ackSetting(acks, "--request-required-acks") !== "all") {
      notes.push(acksNote(`--request-required-acks ${acks}`));
    }
  }
  const codec = options.string("compression-codec");
  if (codec !== undefined) compressionSetting(codec, "--compression-codec");
  for (const flag of NO_EFFECT_FLAGS) {
    if (options.has(flag)) notes.push(`--${flag} has no effect on floe produce`);
  }
  return props;
}
