import type { CommandContext } from "./command.js";
import { ConsoleOutput } from "./console-output.js";
import { formatRecord, type RecordFormat } from "./record-format.js";
import type { Admin } from "../client/admin.js";
import { FloeClientError } from "../client/client-error.js";
import type { PartitionReader } from "../client/partition-reader.js";
import { abortableSleep, isRetriable } from "../client/retry.js";
import type { PartitionDescription, PartitionFetch } from "../client/types.js";

/** How long one fetch waits at the end of the log; Ctrl-C cuts it short. */
const LONG_POLL_MS = 5_000;
const MAX_RECORDS_PER_FETCH = 500;
/** How often a topic not created yet is looked for. */
const WAITING_REFRESH_MS = 1_000;
/** How often --include looks for new matching topics. */
const PATTERN_REFRESH_MS = 5_000;
/** How often known topics are described again, for partitions added since (Kafka's metadata refresh). */
const METADATA_REFRESH_MS = 30_000;
/** Backoff while the server is away: doubling to this. */
const MAX_RECONNECT_BACKOFF_MS = 2_000;

export interface PlainConsumeOptions {
  topics: string[];
  include: { source: string; regex: RegExp } | undefined;
  partition: number | undefined;
  /** --offset: where to start in --partition. */
  offset: "earliest" | "latest" | number | undefined;
  /** Where to start without --offset, and where an out-of-range position goes ("none": fail). */
  reset: "earliest" | "latest" | "none";
  maxMessages: number | undefined;
  timeoutMs: number | undefined;
  format: Omit<RecordFormat, "timestampType">;
  maxWaitMs: number | undefined;
  maxRecords: number | undefined;
  maxBytes: number | undefined;
}

interface Position {
  topic: string;
  partition: number;
  offset: number;
}

type FetchOutcome = PartitionFetch | { topic: string; partition: number; error: FloeClientError };

const key = (topic: string, partition: number) => `${topic}\u0000${partition}`;

/**
 * kafka-console-consumer without a group: it reads the partitions of one or more topics (named, or
 * matching --include), starting at auto.offset.reset (latest unless --from-beginning) or --offset.
 * Like Kafka's it waits for a topic that does not exist yet (one line on stderr), and everything in
 * a topic or partition that appears after it started is "produced from now on", so that is read
 * from its beginning. It rides out a lost server, saying so once, and once more when it is back.
 */
export async function consumePlain(context: CommandContext, o: PlainConsumeOptions): Promise<number> {
  const { io } = context;
  const signal = io.interrupted;
  const following = o.timeoutMs === undefined;
  // Our own loop reports and retries a lost server; the transport only smooths over a blip.
  const client = context.client({ retry: { retries: 1 } });
  const admin = client.admin();
  const reader = client.reader();
  const out = new ConsoleOutput(io.stdout);
  const say = (line: string) => {
    io.stderr.write(`${line}\n`);
  };

  const positions = new Map<string, Position>();
  const formats = new Map<string, RecordFormat>();
  const missing = new Set<string>();
  let waitingForPattern = false;
  let resolvedOnce = false;
  let nextRefresh = 0;

  const startOf = (p: PartitionDescription, initial: boolean): number => {
    if (typeof o.offset === "number") return o.offset;
    if (!initial) return p.logStartOffset;
    const at = o.offset ?? o.reset;
    return at === "earliest" ? p.logStartOffset : p.highWatermark;
  };

  const forget = (topic: string) => {
    formats.delete(topic);
    for (const [k, p] of positions) if (p.topic === topic) positions.delete(k);
  };

  /** Finds the topics to read and their partitions; new ones get a start position. */
  const resolve = async () => {
    const names = [...o.topics];
    if (o.include) {
      const matching = (await admin.listTopics()).filter((t) => o.include!.regex.test(t));
      for (const t of matching) if (!names.includes(t)) names.push(t);
      if (matching.length === 0 && !waitingForPattern && formats.size === 0) {
        say(`Waiting for a topic matching '${o.include.source}' to be created…`);
      }
      waitingForPattern = matching.length === 0;
      for (const t of formats.keys()) if (!matching.includes(t) && !o.topics.includes(t)) forget(t);
    }
    for (const topic of names) {
      let description: Awaited<ReturnType<Admin["describeTopic"]>>;
      try {
        description = await admin.describeTopic(topic);
      } catch (error) {
        if (!(error instanceof FloeClientError) || error.code !== "UNKNOWN_TOPIC_OR_PARTITION") throw error;
        forget(topic);
        if (o.topics.includes(topic) && !missing.has(topic)) {
          say(`Waiting for topic '${topic}' to be created…`);
          missing.add(topic);
        }
        continue;
      }
      // A topic already there when we started begins where asked; one created since, at its start.
      const initial = !resolvedOnce;
      missing.delete(topic);
      formats.set(topic, {
        ...o.format,
        timestampType: String(description.config?.["message.timestamp.type"] ?? "CreateTime"),
      });
      const partitions =
        o.partition === undefined
          ? description.partitions
          : description.partitions.filter((p) => p.partition === o.partition);
      if (partitions.length === 0) {
        throw new FloeClientError(
          "UNKNOWN_TOPIC_OR_PARTITION",
          `Partition ${o.partition} of topic '${topic}' does not exist (it has ${description.partitions.length} partition${description.partitions.length === 1 ? "" : "s"}).`,
        );
      }
      for (const p of partitions) {
        if (!positions.has(key(topic, p.partition))) {
          positions.set(key(topic, p.partition), {
            topic,
            partition: p.partition,
            offset: startOf(p, initial),
          });
        }
      }
    }
    resolvedOnce = true;
    const every =
      missing.size > 0 || (o.include && formats.size === 0)
        ? WAITING_REFRESH_MS
        : o.include
          ? PATTERN_REFRESH_MS
          : METADATA_REFRESH_MS;
    nextRefresh = Date.now() + every;
  };

  /** auto.offset.reset for a position outside the log, as Kafka's consumer applies it. */
  const reset = async (position: Position, error: FloeClientError) => {
    if (o.reset === "none") throw error;
    const moved = await reader.listOffsets({
      topic: position.topic,
      partition: position.partition,
      at: o.reset,
    });
    say(
      `floe consume: offset ${position.offset} is out of range for ${position.topic}-${position.partition}; auto.offset.reset=${o.reset} moves it to ${moved.offset}`,
    );
    position.offset = moved.offset;
  };

  // The first look fails fast (a wrong URL, no server): there is nothing to ride out yet.
  await resolve();

  let printed = 0;
  let lastRecordAt = Date.now();
  let lost: unknown;
  let failures = 0;
  try {
    while (!signal.aborted && !out.closed && (o.maxMessages === undefined || printed < o.maxMessages)) {
      let waitMs = o.maxWaitMs ?? LONG_POLL_MS;
      if (o.timeoutMs !== undefined) {
        const left = lastRecordAt + o.timeoutMs - Date.now();
        if (left <= 0) {
          if (lost !== undefined) throw lost;
          break;
        }
        waitMs = Math.min(waitMs, left);
      }
      try {
        if (Date.now() >= nextRefresh) await resolve();
        waitMs = Math.max(0, Math.min(waitMs, nextRefresh - Date.now()));
        // Back from an outage: answer at once, so the return is reported at once.
        if (lost !== undefined) waitMs = 0;
        if (positions.size === 0) {
          if (lost !== undefined) {
            say(`Reconnected to ${client.url}`);
            lost = undefined;
            failures = 0;
          }
          await abortableSleep(waitMs, signal).catch(() => {});
          continue;
        }
        const asked = [...positions.values()].map((p) => ({ ...p }));
        const results = await fetchAll(reader, asked, { ...o, maxWaitMs: waitMs }, signal);
        if (lost !== undefined) {
          say(`Reconnected to ${client.url}`);
          lost = undefined;
          failures = 0;
        }
        for (const result of results) {
          const position = positions.get(key(result.topic, result.partition));
          // Forgotten meanwhile (a deleted topic), or moved since it was asked for.
          const sent = asked.find((a) => a.topic === result.topic && a.partition === result.partition);
          if (!position || !sent || position.offset !== sent.offset) continue;
          if ("error" in result) {
            if (result.error.code === "OFFSET_OUT_OF_RANGE") await reset(position, result.error);
            else if (result.error.code === "UNKNOWN_TOPIC_OR_PARTITION") nextRefresh = 0;
            else throw result.error;
            continue;
          }
          const format = formats.get(result.topic)!;
          let printedAll = true;
          for (const record of result.records) {
            if (o.maxMessages !== undefined && printed >= o.maxMessages) {
              printedAll = false;
              break;
            }
            await out.write(formatRecord(record, result.partition, format));
            position.offset = record.offset + 1;
            printed++;
          }
          if (printedAll) position.offset = Math.max(position.offset, result.nextOffset);
          if (result.records.length > 0) lastRecordAt = Date.now();
        }
      } catch (error) {
        if (signal.aborted || out.closed) break;
        if (!isRetriable(error)) throw error;
        if (lost === undefined) {
          const e = error as FloeClientError;
          say(`Lost the server at ${client.url} (${e.code}: ${reason(e)}); retrying`);
        }
        lost = error;
        if (!following && lastRecordAt + o.timeoutMs! <= Date.now()) throw error;
        const backoff = Math.min(MAX_RECONNECT_BACKOFF_MS, 100 * 2 ** failures++);
        await abortableSleep(backoff, signal).catch(() => {});
      }
    }
  } catch (error) {
    if (!signal.aborted && !out.closed) throw error;
  }
  if (!out.closed) say(`Processed a total of ${printed} messages`);
  return 0;
}

/** The cause without the "cannot reach Floe at <url>: " the line already says. */
function reason(error: FloeClientError): string {
  return error.message.replace(/^cannot reach Floe at \S+: /, "");
}

/** One partition: a plain (binary) fetch; several: one multi-partition long-poll that answers when any has records. */
async function fetchAll(
  reader: PartitionReader,
  positions: Position[],
  o: { maxWaitMs: number; maxRecords: number | undefined; maxBytes: number | undefined },
  signal: AbortSignal,
): Promise<FetchOutcome[]> {
  const maxRecords = o.maxRecords ?? MAX_RECORDS_PER_FETCH;
  if (positions.length === 1) {
    const [{ topic, partition, offset }] = positions;
    try {
      return [
        await reader.fetch({
          topic,
          partition,
          offset,
          maxWaitMs: o.maxWaitMs,
          maxRecords,
          maxBytes: o.maxBytes,
          signal,
        }),
      ];
    } catch (error) {
      if (
        error instanceof FloeClientError &&
        (error.code === "OFFSET_OUT_OF_RANGE" || error.code === "UNKNOWN_TOPIC_OR_PARTITION")
      ) {
        return [{ topic, partition, error }];
      }
      throw error;
    }
  }
  return reader.fetchMany({
    partitions: positions.map(({ topic, partition, offset }) => ({ topic, partition, offset })),
    maxWaitMs: o.maxWaitMs,
    maxRecords,
    maxBytes: o.maxBytes,
    signal,
  });
}
