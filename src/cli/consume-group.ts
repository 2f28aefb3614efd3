import type { CommandContext } from "./command.js";
import { ConsoleOutput } from "./console-output.js";
import type { ConsumerSettings } from "./console-properties.js";
import { errorLine } from "./error-line.js";
import { formatRecord, type RecordFormat } from "./record-format.js";
import { FloeClientError } from "../client/client-error.js";
import { isRetriable } from "../client/retry.js";

/** How long one fetch waits at the end of the log. */
const LONG_POLL_MS = 5_000;

export interface GroupConsumeOptions {
  /** Named topics (--topic a,b). */
  topics: string[];
  /** --include: topics matching it, now and later. */
  include: { source: string; regex: RegExp } | undefined;
  groupId: string;
  /** auto.offset.reset: only where the group has no committed offset, as in Kafka. */
  reset: "earliest" | "latest";
  maxMessages: number | undefined;
  timeoutMs: number | undefined;
  format: Omit<RecordFormat, "timestampType">;
  settings: ConsumerSettings;
}

/**
 * `floe consume --group`: kafka-console-consumer with a group. It joins, prints what the group
 * assigns it, and on its way out (--max-messages reached, --timeout-ms, Ctrl-C) commits exactly
 * what it printed and leaves, so the next member of the group continues after the last line.
 * A topic that does not exist yet is waited for (the group assigns it once it is created), and
 * read from its start then: all of it was produced after this consumer started.
 */
export async function consumeAsGroupMember(context: CommandContext, o: GroupConsumeOptions): Promise<number> {
  const { io } = context;
  const signal = io.interrupted;
  const out = new ConsoleOutput(io.stdout);
  const say = (line: string) => {
    io.stderr.write(`${line}\n`);
  };
  const client = context.client();
  const admin = client.admin();

  // Which topics exist now: they start at auto.offset.reset; the others, once created, at their start.
  const timestampTypes = new Map<string, string>();
  const existing: string[] = [];
  const missing: string[] = [];
  const describe = async (topic: string) => {
    try {
      const d = await admin.describeTopic(topic);
      timestampTypes.set(topic, String(d.config?.["message.timestamp.type"] ?? "CreateTime"));
      return true;
    } catch (error) {
      if (error instanceof FloeClientError && error.code === "UNKNOWN_TOPIC_OR_PARTITION") return false;
      throw error;
    }
  };
  for (const topic of o.topics) ((await describe(topic)) ? existing : missing).push(topic);
  if (o.include) {
    const matching = (await admin.listTopics()).filter((t) => o.include!.regex.test(t));
    if (matching.length === 0 && o.topics.length === 0) {
      say(`Waiting for a topic matching '${o.include.source}' to be created…`);
    }
    for (const t of matching) if (!existing.includes(t)) existing.push(t);
  }
  for (const topic of missing) say(`Waiting for topic '${topic}' to be created…`);

  const s = o.settings;
  const consumer = client.consumer({
    groupId: o.groupId,
    clientId: s.clientId ?? "floe-console-consumer",
    fromBeginning: o.reset === "earliest",
    maxWaitTimeInMs: s.maxWaitMs ?? LONG_POLL_MS,
    ...(s.maxBytes !== undefined ? { maxBytes: s.maxBytes } : {}),
    ...(s.maxRecords !== undefined ? { maxRecords: s.maxRecords } : {}),
    ...(s.sessionTimeout !== undefined ? { sessionTimeout: s.sessionTimeout } : {}),
    ...(s.heartbeatInterval !== undefined ? { heartbeatInterval: s.heartbeatInterval } : {}),
    ...(s.rebalanceTimeout !== undefined ? { rebalanceTimeout: s.rebalanceTimeout } : {}),
  });

  let printed = 0;
  let lastRecordAt = Date.now();
  let failure: unknown;
  let finished = false;
  let lost = false;
  let finish!: () => void;
  const done = new Promise<void>((resolve) => {
    finish = () => {
      finished = true;
      resolve();
    };
  });
  signal.addEventListener("abort", () => finish(), { once: true });
  if (signal.aborted) finish();
  const back = () => {
    if (!lost) return;
    lost = false;
    say(`Reconnected to ${client.url}`);
  };
  consumer.on("consumer.crash", ({ payload }) => {
    if (payload.restart) {
      if (isRetriable(payload.error)) {
        if (!lost) {
          const e = payload.error as FloeClientError;
          say(
            `Lost the server at ${client.url} (${e.code}: ${e.message.replace(/^cannot reach Floe at \S+: /, "")}); retrying`,
          );
        }
        lost = true;
        return;
      }
      say(`${errorLine("consume", payload.error)} (retrying)`);
      return;
    }
    failure = payload.error;
    finish();
  });
  consumer.on("consumer.heartbeat", back);

  // Later subscriptions take precedence for auto.offset.reset: existing topics over the pattern.
  if (o.include) await consumer.subscribe({ topics: [new RegExp(o.include.source)], fromBeginning: true });
  if (missing.length > 0) await consumer.subscribe({ topics: missing, fromBeginning: true });
  if (existing.length > 0) {
    await consumer.subscribe({ topics: existing, fromBeginning: o.reset === "earliest" });
  }
  await consumer.run({
    autoCommit: s.autoCommit ?? true,
    ...(s.autoCommitInterval !== undefined ? { autoCommitInterval: s.autoCommitInterval } : {}),
    eachMessage: async ({ topic, partition, message }) => {
      back();
      if (o.format.printTimestamp && !timestampTypes.has(topic)) {
        await describe(topic).catch(() => false);
      }
      const format = { ...o.format, timestampType: timestampTypes.get(topic) ?? "CreateTime" };
      await out.write(formatRecord(message, partition, format));
      printed++;
      lastRecordAt = Date.now();
      if (out.closed || (o.maxMessages !== undefined && printed >= o.maxMessages)) {
        // Not awaited: stop() waits for this call to return. It takes effect at once, so this
        // record is the last one handed over, and the last one committed.
        void consumer.stop();
        finish();
      }
    },
  });

  while (!finished && o.timeoutMs !== undefined) {
    const left = lastRecordAt + o.timeoutMs - Date.now();
    if (left <= 0) break;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([done, new Promise((resolve) => (timer = setTimeout(resolve, left)))]);
    clearTimeout(timer);
  }
  if (o.timeoutMs === undefined) await done;
  await consumer.stop();
  if (failure !== undefined) throw failure;
  if (!out.closed) say(`Processed a total of ${printed} messages`);
  return 0;
}
