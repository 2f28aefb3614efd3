import type { CommandContext } from "./command.js";
import { ConsoleOutput } from "./console-output.js";
import { errorLine } from "./error-line.js";
import { formatRecord, type RecordFormat } from "./record-format.js";

/** How long one fetch waits at the end of the log. */
const LONG_POLL_MS = 5_000;

export interface GroupConsumeOptions {
  topic: string;
  groupId: string;
  /** auto.offset.reset=earliest: only where the group has no committed offset, as in Kafka. */
  fromBeginning: boolean;
  maxMessages: number | undefined;
  timeoutMs: number | undefined;
  format: RecordFormat;
}

/**
 * `floe consume --group`: kafka-console-consumer with a group. It joins, prints what the group
 * assigns it, and on its way out (--max-messages reached, --timeout-ms, Ctrl-C) commits exactly
 * what it printed and leaves, so the next member of the group continues after the last line.
 */
export async function consumeAsGroupMember(context: CommandContext, o: GroupConsumeOptions): Promise<number> {
  const { io } = context;
  const signal = io.interrupted;
  const out = new ConsoleOutput(io.stdout);
  const consumer = context.client().consumer({
    groupId: o.groupId,
    clientId: "floe-console-consumer",
    fromBeginning: o.fromBeginning,
    maxWaitTimeInMs: LONG_POLL_MS,
  });

  let printed = 0;
  let lastRecordAt = Date.now();
  let failure: unknown;
  let finished = false;
  let finish!: () => void;
  const done = new Promise<void>((resolve) => {
    finish = () => {
      finished = true;
      resolve();
    };
  });
  signal.addEventListener("abort", () => finish(), { once: true });
  if (signal.aborted) finish();
  consumer.on("consumer.crash", ({ payload }) => {
    if (payload.restart) {
      io.stderr.write(`${errorLine("consume", payload.error)} (retrying)\n`);
      return;
    }
    failure = payload.error;
    finish();
  });

  await consumer.subscribe({ topic: o.topic });
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      await out.write(formatRecord(message, partition, o.format));
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
  if (!out.closed) io.stderr.write(`Processed a total of ${printed} messages\n`);
  return 0;
}
