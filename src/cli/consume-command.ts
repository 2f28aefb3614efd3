import type { OptionReader } from "./args.js";
import { UsageError } from "./args.js";
import type { Command } from "./command.js";
import {
  consumerSettings,
  includePattern,
  isolationNote,
  isolationSetting,
  parsePairs,
  readPropertiesFile,
  recordFormat,
  topicList,
} from "./console-properties.js";
import { consumeAsGroupMember } from "./consume-group.js";
import { consumePlain } from "./consume-plain.js";

const KAFKA_FORMATTERS = [
  "kafka.tools.DefaultMessageFormatter",
  "org.apache.kafka.tools.consumer.DefaultMessageFormatter",
];
const TEXT_DESERIALIZERS = [
  "org.apache.kafka.common.serialization.StringDeserializer",
  "org.apache.kafka.common.serialization.ByteArrayDeserializer",
];

export const consumeCommand: Command = {
  path: ["consume"],
  summary: "Print records to stdout, one value per line",
  kafka: "kafka-console-consumer.sh",
  usage:
    "floe consume (--topic <name>[,<name>…] | --include <regex>) [--group <id>] [--from-beginning | --partition <n> --offset <o>] [--max-messages <n>] [options]",
  connects: true,
  options: {
    topic: {
      kind: "value",
      valueName: "name",
      description: "the topic to read; several separated by commas (waits for one not created yet)",
    },
    include: {
      kind: "value",
      valueName: "regex",
      description: "read every topic whose whole name matches, including ones created later",
    },
    whitelist: { kind: "value", valueName: "regex", description: "Kafka's older name of --include" },
    "from-beginning": {
      kind: "flag",
      description:
        "start at the earliest record (auto.offset.reset=earliest; default latest: only records produced from now on); with --group, only where the group has committed nothing",
    },
    partition: {
      kind: "value",
      valueName: "n",
      description: "read only this partition of the --topic (default: all of them)",
    },
    offset: {
      kind: "value",
      valueName: "o",
      description:
        "start offset in --partition: a number, earliest or latest (default latest); outside the log, auto.offset.reset applies",
    },
    "max-messages": { kind: "value", valueName: "n", description: "exit after printing this many records" },
    "timeout-ms": {
      kind: "value",
      valueName: "ms",
      description: "exit when no record has arrived for this long (default: wait until Ctrl-C)",
    },
    group: {
      kind: "value",
      valueName: "id",
      description: "consume as a member of this group: it is assigned partitions and commits as it goes",
    },
    property: {
      kind: "value",
      valueName: "k=v",
      repeatable: true,
      description:
        "formatter setting, as Kafka's DefaultMessageFormatter: print.key, print.value, print.headers, print.partition, print.offset, print.timestamp, key.separator, line.separator, headers.separator, null.literal",
    },
    "consumer-property": {
      kind: "value",
      valueName: "k=v",
      repeatable: true,
      description:
        "consumer setting: auto.offset.reset (earliest|latest|none), group.id, fetch.max.wait.ms, max.poll.records, fetch.max.bytes, client.id, enable.auto.commit, …",
    },
    "command-config": {
      kind: "value",
      valueName: "file",
      description: "a .properties file of consumer settings (--consumer-property wins)",
    },
    "consumer.config": {
      kind: "value",
      valueName: "file",
      description: "Kafka's older name of --command-config",
    },
    formatter: {
      kind: "value",
      valueName: "class",
      description: "only Kafka's default, org.apache.kafka.tools.consumer.DefaultMessageFormatter",
    },
    "formatter-config": {
      kind: "value",
      valueName: "file",
      description: "a .properties file of formatter settings (--property wins)",
    },
    "isolation-level": {
      kind: "value",
      valueName: "level",
      description: "accepted; every record is committed here (no transactions)",
    },
    "print-key": { kind: "flag", description: "print each record's key before its value (print.key=true)" },
    "print-offset": { kind: "flag", description: "print Offset:<o> before each record (print.offset=true)" },
    "print-partition": {
      kind: "flag",
      description: "print Partition:<p> before each record (print.partition=true)",
    },
    "print-timestamp": {
      kind: "flag",
      description: "print CreateTime:<ms> (or LogAppendTime:<ms>) before each record (print.timestamp=true)",
    },
    "print-headers": {
      kind: "flag",
      description: "print each record's headers as k:v,k:v or NO_HEADERS (print.headers=true)",
    },
    "key-separator": {
      kind: "value",
      valueName: "sep",
      description: "what follows each printed field (default: a tab; key.separator)",
    },
    "key-deserializer": {
      kind: "value",
      valueName: "class",
      description: "accepted; bytes are printed as they are",
    },
    "value-deserializer": {
      kind: "value",
      valueName: "class",
      description: "accepted; bytes are printed as they are",
    },
    "skip-message-on-error": { kind: "flag", description: "accepted; printing bytes cannot fail" },
    "enable-systest-events": { kind: "flag", description: "not supported (Kafka's system tests only)" },
  },
  notes: [
    "Each value's bytes are printed unchanged, followed by a newline; a null value prints as null.",
    "A topic that does not exist yet is waited for; once created it is read from its start.",
    "Without --max-messages it follows until Ctrl-C, then prints the count and exits 0; a lost server",
    "is reported once, retried, and its return reported.",
    "With --group it continues from the group's committed offsets and commits what it printed when it exits,",
    "so the next run with the same group starts after it; other members of the group share the partitions.",
  ],
  examples: [
    "floe consume --topic quickstart --from-beginning --max-messages 2",
    "floe consume --topic quickstart --from-beginning --property print.key=true --property key.separator=:",
    "floe consume --topic quickstart --partition 0 --offset 10 --print-offset --print-key",
    "floe consume --include 'orders.*' --group quickstart-readers --from-beginning",
  ],
  async run(context) {
    const { options, io } = context;
    options.noPositionals();
    const notes: string[] = [];
    const topics = topicList(options.string("topic"));
    const includeText = options.string("include") ?? options.string("whitelist");
    if (topics.length === 0 && includeText === undefined)
      throw new UsageError("--topic is required (or --include)");
    if (topics.length > 0 && includeText !== undefined) {
      throw new UsageError("give either --topic or --include, not both");
    }
    const include = includeText === undefined ? undefined : includePattern(includeText);

    const settings = consumerSettings(consumerProperties(options), notes);
    const level = options.string("isolation-level");
    if (level !== undefined) {
      isolationSetting(level);
      notes.push(isolationNote(level));
    }
    const format = recordFormat(
      formatterProperties(options),
      {
        printKey: options.flag("print-key"),
        printOffset: options.flag("print-offset"),
        printPartition: options.flag("print-partition"),
        printTimestamp: options.flag("print-timestamp"),
        printHeaders: options.flag("print-headers"),
        keySeparator: options.string("key-separator"),
      },
      notes,
    );
    for (const name of ["key-deserializer", "value-deserializer"]) {
      const value = options.string(name);
      if (value !== undefined && !TEXT_DESERIALIZERS.includes(value)) {
        notes.push(`--${name} is ignored: bytes are printed as they are`);
      }
    }
    if (options.flag("skip-message-on-error")) {
      notes.push("--skip-message-on-error has no effect: printing bytes cannot fail");
    }
    if (options.flag("enable-systest-events")) {
      throw new UsageError("--enable-systest-events is not supported: it serves Kafka's own system tests");
    }

    let groupId = options.string("group");
    if (groupId !== undefined && settings.groupId !== undefined && groupId !== settings.groupId) {
      throw new UsageError(`--group ${groupId} and group.id=${settings.groupId} disagree; give one`);
    }
    groupId ??= settings.groupId;
    const onlyPartition = options.integer("partition", 0);
    const offsetText = options.string("offset");
    if (groupId !== undefined && (onlyPartition !== undefined || offsetText !== undefined)) {
      throw new UsageError(
        "--group cannot be combined with --partition or --offset: the group assigns partitions",
      );
    }
    if (offsetText !== undefined && onlyPartition === undefined)
      throw new UsageError("--offset needs --partition");
    if (onlyPartition !== undefined && topics.length !== 1) {
      throw new UsageError("--partition needs exactly one --topic");
    }
    const fromBeginning = options.flag("from-beginning");
    if (offsetText !== undefined && fromBeginning) {
      throw new UsageError("give either --from-beginning or --offset, not both");
    }
    if (fromBeginning && settings.autoOffsetReset !== undefined && settings.autoOffsetReset !== "earliest") {
      throw new UsageError(
        `--from-beginning cannot be combined with auto.offset.reset=${settings.autoOffsetReset}`,
      );
    }
    const offset = parseOffset(offsetText);
    const reset = fromBeginning ? "earliest" : (settings.autoOffsetReset ?? "latest");
    const maxMessages = options.integer("max-messages", 1);
    const timeoutMs = options.integer("timeout-ms", 0);
    for (const note of notes) io.stderr.write(`floe consume: note: ${note}\n`);

    if (groupId !== undefined) {
      if (reset === "none") {
        throw new UsageError(
          "auto.offset.reset=none is not supported with --group: a partition the group has not committed starts at earliest or latest",
        );
      }
      return consumeAsGroupMember(context, {
        topics,
        include,
        groupId,
        reset,
        maxMessages,
        timeoutMs,
        format,
        settings,
      });
    }
    if (reset === "none" && offset === undefined) {
      throw new UsageError(
        "auto.offset.reset=none needs --partition and --offset: without --group there is no committed offset to start from",
      );
    }
    return consumePlain(context, {
      topics,
      include,
      partition: onlyPartition,
      offset,
      reset,
      maxMessages,
      timeoutMs,
      format,
      maxWaitMs: settings.maxWaitMs,
      maxRecords: settings.maxRecords,
      maxBytes: settings.maxBytes,
    });
  },
};

function parseOffset(text: string | undefined): "earliest" | "latest" | number | undefined {
  if (text === undefined || text === "earliest" || text === "latest") return text;
  if (!/^\d+$/.test(text))
    throw new UsageError(`--offset must be a number >= 0, earliest or latest, got "${text}"`);
  return Number(text);
}

/** --command-config (or --consumer.config), then --consumer-property. */
function consumerProperties(options: OptionReader): Map<string, string> {
  const props = new Map<string, string>();
  for (const name of ["consumer.config", "command-config"]) {
    const file = options.string(name);
    if (file !== undefined) for (const [k, v] of readPropertiesFile(file, name)) props.set(k, v);
  }
  for (const [k, v] of parsePairs(options.list("consumer-property"), "consumer-property")) props.set(k, v);
  return props;
}

/** --formatter (only the default), --formatter-config, then --property. */
function formatterProperties(options: OptionReader): Map<string, string> {
  const formatter = options.string("formatter");
  if (formatter !== undefined && !KAFKA_FORMATTERS.includes(formatter)) {
    throw new UsageError(
      `--formatter ${formatter} is not supported: floe consume prints as Kafka's DefaultMessageFormatter (set it up with --property)`,
    );
  }
  const file = options.string("formatter-config");
  return new Map([
    ...(file === undefined ? [] : readPropertiesFile(file, "formatter-config")),
    ...parsePairs(options.list("property"), "property"),
  ]);
}
