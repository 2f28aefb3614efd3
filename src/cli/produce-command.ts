import type { Command } from "./command.js";
import { errorLine } from "./error-line.js";
import { splitLines } from "./line-splitter.js";
import { FloeClientError } from "../client/client-error.js";

/** Kafka's max.request.size: about 1 MiB per request, base64 included, so a batch stays under max.message.bytes. */
const REQUEST_BYTES = 1024 * 1024;
/** How far reading stdin may run ahead of acknowledgements before it waits. */
const MAX_UNACKED_BYTES = 8 * REQUEST_BYTES;

export const produceCommand: Command = {
  path: ["produce"],
  summary: "Send each line of stdin as one record",
  kafka: "kafka-console-producer.sh",
  usage: "floe produce --topic <name> [--key-separator <sep>] [--partition <n>] [options] < lines",
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
      description: "split each line at the first <sep>: key before, value after (Kafka's parse.key=true)",
    },
    partition: {
      kind: "value",
      valueName: "n",
      description: "write every record to this partition (default: by key, or spread when keyless)",
    },
  },
  notes: [
    "Each line's bytes are sent unchanged (no JSON re-encoding); the newline ending it is dropped.",
    "Waits for every record to be acknowledged before exiting; exits 1 if any was refused.",
  ],
  examples: [
    "printf 'hello\\nworld\\n' | floe produce --topic quickstart",
    "printf 'user-1:signed up\\n' | floe produce --topic quickstart --key-separator :",
  ],
  async run(context) {
    const { options, io } = context;
    options.noPositionals();
    const topic = options.requiredString("topic");
    const partition = options.integer("partition", 0);
    const separatorText = options.string("key-separator");
    const separator = separatorText === undefined ? undefined : Buffer.from(separatorText, "utf8");
    if (separator?.length === 0)
      throw new FloeClientError("INVALID_REQUEST", "--key-separator cannot be empty");

    const producer = context.client().producer({ batchBytes: REQUEST_BYTES });
    const pending = new Set<Promise<void>>();
    let unackedBytes = 0;
    let lineNumber = 0;
    let acknowledged = 0;
    let failure: { error: unknown; line: number } | undefined;
    const onInterrupt = () => io.stdin.destroy();
    io.interrupted.addEventListener("abort", onInterrupt, { once: true });

    try {
      for await (const line of splitLines(io.stdin)) {
        const at = ++lineNumber;
        let key: Buffer | null = null;
        let value = line;
        if (separator) {
          const cut = line.indexOf(separator);
          if (cut === -1) {
            failure = {
              error: new FloeClientError("INVALID_RECORD", `no key separator "${separatorText}" found`),
              line: at,
            };
            break;
          }
          key = line.subarray(0, cut);
          value = line.subarray(cut + separator.length);
        }
        const size = line.length;
        const sent: Promise<void> = producer
          .send({ topic, messages: [{ key, value, ...(partition !== undefined ? { partition } : {}) }] })
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
        while (unackedBytes > MAX_UNACKED_BYTES && !failure) await Promise.race(pending);
        if (failure) break;
      }
    } catch (error) {
      // Ctrl-C destroys stdin mid-read; what was read is still delivered below.
      if (!io.interrupted.aborted) throw error;
    } finally {
      io.interrupted.removeEventListener("abort", onInterrupt);
    }
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
