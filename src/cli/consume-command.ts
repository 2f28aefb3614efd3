import { UsageError } from "./args.js";
import type { Command } from "./command.js";
import { ConsoleOutput } from "./console-output.js";
import { consumeAsGroupMember } from "./consume-group.js";
import { formatRecord, type RecordFormat } from "./record-format.js";
import { FloeClientError } from "../client/client-error.js";
import type { PartitionReader } from "../client/partition-reader.js";
import type { PartitionFetch } from "../client/types.js";

/** How long one fetch waits at the end of the log; Ctrl-C cuts it short. */
const LONG_POLL_MS = 5_000;
const MAX_RECORDS_PER_FETCH = 500;

export const consumeCommand: Command = {
  path: ["consume"],
  summary: "Print records to stdout, one value per line",
  kafka: "kafka-console-consumer.sh",
  usage:
    "floe consume --topic <name> [--group <id>] [--from-beginning | --partition <n> --offset <o>] [--max-messages <n>] [options]",
  connects: true,
  options: {
    topic: { kind: "value", valueName: "name", description: "the topic to read" },
    "from-beginning": {
      kind: "flag",
      description:
        "start at the earliest record (default: only records produced from now on); with --group, only where the group has committed nothing",
    },
    partition: {
      kind: "value",
      valueName: "n",
      description: "read only this partition (default: all of them)",
    },
    offset: {
      kind: "value",
      valueName: "o",
      description: "start offset in --partition: a number, earliest or latest (default latest)",
    },
    "max-messages": { kind: "value", valueName: "n", description: "exit after printing this many records" },
    "timeout-ms": {
      kind: "value",
      valueName: "ms",
      description: "exit when no record has arrived for this long (default: wait until Ctrl-C)",
    },
    "print-key": { kind: "flag", description: "print each record's key before its value" },
    "print-offset": { kind: "flag", description: "print Offset:<o> before each record" },
    "print-partition": { kind: "flag", description: "print Partition:<p> before each record" },
    "print-timestamp": {
      kind: "flag",
      description: "print CreateTime:<ms> (or LogAppendTime:<ms>) before each record",
    },
    "key-separator": {
      kind: "value",
      valueName: "sep",
      description: "what follows each printed field (default: a tab, as Kafka's key.separator)",
    },
    group: {
      kind: "value",
      valueName: "id",
      description: "consume as a member of this group: it is assigned partitions and commits as it goes",
    },
  },
  notes: [
    "Each value's bytes are printed unchanged, followed by a newline; a null value prints as null.",
    "Without --max-messages it follows the topic until Ctrl-C, then exits 0.",
    "With --group it continues from the group's committed offsets and commits what it printed when it exits,",
    "so the next run with the same group starts after it; other members of the group share the partitions.",
  ],
  examples: [
    "floe consume --topic quickstart --from-beginning --max-messages 2",
    "floe consume --topic quickstart --partition 0 --offset 10 --print-offset --print-key",
    "floe consume --topic quickstart --group quickstart-readers --from-beginning",
  ],
  async run(context) {
    const { options, io } = context;
    options.noPositionals();
    const topic = options.requiredString("topic");
    const onlyPartition = options.integer("partition", 0);
    const offsetText = options.string("offset");
    const groupId = options.string("group");
    if (groupId !== undefined && (onlyPartition !== undefined || offsetText !== undefined)) {
      throw new UsageError(
        "--group cannot be combined with --partition or --offset: the group assigns partitions",
      );
    }
    if (offsetText !== undefined && onlyPartition === undefined)
      throw new UsageError("--offset needs --partition");
    if (offsetText !== undefined && options.flag("from-beginning")) {
      throw new UsageError("give either --from-beginning or --offset, not both");
    }
    const offsetSpec = parseOffset(offsetText);
    const maxMessages = options.integer("max-messages", 1);
    const timeoutMs = options.integer("timeout-ms", 0);
    const fromBeginning = options.flag("from-beginning");

    const description = await context.client().admin().describeTopic(topic);
    const format: RecordFormat = {
      printKey: options.flag("print-key"),
      printOffset: options.flag("print-offset"),
      printPartition: options.flag("print-partition"),
      printTimestamp: options.flag("print-timestamp"),
      timestampType: String(description.config?.["message.timestamp.type"] ?? "CreateTime"),
      separator: Buffer.from(options.string("key-separator") ?? "\t", "utf8"),
    };
    if (groupId !== undefined) {
      return consumeAsGroupMember(context, { topic, groupId, fromBeginning, maxMessages, timeoutMs, format });
    }
    // Once reading, it rides out a `floe dev` restart as Kafka's console consumer would, retrying
    // until Ctrl-C; only a read bounded in time (--timeout-ms) gives up after the usual retries.
    const following = timeoutMs === undefined;
    const reader = context
      .client(following ? { retry: { retries: Number.MAX_SAFE_INTEGER } } : undefined)
      .reader();
    const partitions =
      onlyPartition === undefined
        ? description.partitions
        : description.partitions.filter((p) => p.partition === onlyPartition);
    if (partitions.length === 0) {
      throw new FloeClientError(
        "UNKNOWN_TOPIC_OR_PARTITION",
        `topic "${topic}" has no partition ${onlyPartition} (it has ${description.partitions.length})`,
      );
    }
    const positions = new Map<number, number>();
    for (const p of partitions) {
      const start =
        typeof offsetSpec === "number"
          ? offsetSpec
          : (offsetSpec ?? (fromBeginning ? "earliest" : "latest")) === "earliest"
            ? p.logStartOffset
            : p.highWatermark;
      positions.set(p.partition, start);
    }

    const out = new ConsoleOutput(io.stdout);
    const signal = io.interrupted;
    let printed = 0;
    let lastRecordAt = Date.now();

    try {
      while (!signal.aborted && !out.closed && (maxMessages === undefined || printed < maxMessages)) {
        let waitMs = LONG_POLL_MS;
        if (timeoutMs !== undefined) {
          const left = lastRecordAt + timeoutMs - Date.now();
          if (left <= 0) break;
          waitMs = Math.min(waitMs, left);
        }
        const results = await fetchAll(reader, topic, positions, waitMs, signal);
        for (const result of results) {
          if ("error" in result) {
            if (result.error.code !== "OFFSET_OUT_OF_RANGE" || typeof offsetSpec === "number")
              throw result.error;
            // The log moved past us (retention): restart where Kafka's auto.offset.reset would.
            const reset = await reader.listOffsets({
              topic,
              partition: result.partition,
              at: fromBeginning ? "earliest" : "latest",
            });
            io.stderr.write(
              `floe consume: partition ${result.partition} offset out of range; resetting to ${reset.offset}\n`,
            );
            positions.set(result.partition, reset.offset);
            continue;
          }
          let printedAll = true;
          for (const record of result.records) {
            if (maxMessages !== undefined && printed >= maxMessages) {
              printedAll = false;
              break;
            }
            await out.write(formatRecord(record, result.partition, format));
            positions.set(result.partition, record.offset + 1);
            printed++;
          }
          if (printedAll) positions.set(result.partition, result.nextOffset);
          if (result.records.length > 0) lastRecordAt = Date.now();
        }
      }
    } catch (error) {
      if (!signal.aborted && !out.closed) throw error;
    }
    if (!out.closed) io.stderr.write(`Processed a total of ${printed} messages\n`);
    return 0;
  },
};

function parseOffset(text: string | undefined): "earliest" | "latest" | number | undefined {
  if (text === undefined || text === "earliest" || text === "latest") return text;
  if (!/^\d+$/.test(text))
    throw new UsageError(`--offset must be a number >= 0, earliest or latest, got "${text}"`);
  return Number(text);
}

/** One partition: a plain fetch; several: one multi-partition long-poll that answers when any has records. */
async function fetchAll(
  reader: PartitionReader,
  topic: string,
  positions: Map<number, number>,
  maxWaitMs: number,
  signal: AbortSignal,
): Promise<(PartitionFetch | { partition: number; error: FloeClientError })[]> {
  if (positions.size === 1) {
    const [[partition, offset]] = positions;
    try {
      return [
        await reader.fetch({
          topic,
          partition,
          offset,
          maxWaitMs,
          maxRecords: MAX_RECORDS_PER_FETCH,
          signal,
        }),
      ];
    } catch (error) {
      if (error instanceof FloeClientError && error.code === "OFFSET_OUT_OF_RANGE")
        return [{ partition, error }];
      throw error;
    }
  }
  return reader.fetchMany({
    partitions: [...positions].map(([partition, offset]) => ({ topic, partition, offset })),
    maxWaitMs,
    maxRecords: MAX_RECORDS_PER_FETCH,
    signal,
  });
}
