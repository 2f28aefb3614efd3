import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CliProcess,
  type E2eWorld,
  e2eWorld,
  removeWorld,
  runCli,
  STACK_FRAME,
  startDev,
} from "./cli-process.js";

/**
 * kafka-console-producer and kafka-console-consumer habits against a real `floe dev`: --property,
 * --consumer-property, several topics, --include, a consumer started before its topic exists,
 * auto.offset.reset on an out-of-range --offset, Ctrl-C, and a server that goes away and comes back.
 */
let world: E2eWorld;
let bin: string;
let work: string;
let url: string;
let dev: CliProcess | undefined;

const floe = (args: string[], input?: string | Buffer) =>
  runCli(bin, args, { input, cwd: work, env: { FLOE_URL: url } });
const follow = (args: string[]) => new CliProcess(bin, args, { cwd: work, env: { FLOE_URL: url } });

/** Resolves once the process's stderr satisfies `ready`; rejects if it exits first. */
async function waitForStderr(proc: CliProcess, ready: (stderr: string) => boolean, what: string) {
  for (;;) {
    if (ready(proc.stderr)) return;
    if (!proc.running) throw new Error(`process exited before ${what}:\n${proc.stdout}${proc.stderr}`);
    await new Promise<void>((resolve) => {
      const done = () => {
        proc.child.stderr?.off("data", done);
        resolve();
      };
      proc.child.stderr?.on("data", done);
      void proc.exited.then(done);
    });
  }
}

beforeAll(async () => {
  world = await e2eWorld("floe-e2e-console-");
  ({ bin, work, url } = world);
  dev = await startDev(world);
});

afterAll(async () => {
  await dev?.stop();
  removeWorld(world);
});

describe("a consumer started before its topic exists", () => {
  it("waits with one line, then reads what the first producer writes", async () => {
    const consumer = follow(["consume", "--topic", "late", "--max-messages", "2"]);
    try {
      await waitForStderr(consumer, (e) => e.includes("Waiting for topic 'late' to be created…"), "it waits");
      const produced = await floe(["produce", "--topic", "late"], "first\nsecond\n");
      expect(produced.code).toBe(0);
      const exit = await consumer.exited;
      expect(exit.stdout.toString()).toBe("first\nsecond\n");
      expect(exit.stderr).toBe("Waiting for topic 'late' to be created…\nProcessed a total of 2 messages\n");
      expect(exit.code).toBe(0);
    } finally {
      await consumer.stop("SIGKILL");
    }
  });

  it("waits as a group member too", async () => {
    const consumer = follow(["consume", "--topic", "late-group", "--group", "g-late", "--max-messages", "1"]);
    try {
      await waitForStderr(consumer, (e) => e.includes("Waiting for topic 'late-group'"), "it waits");
      expect((await floe(["produce", "--topic", "late-group"], "hello group\n")).code).toBe(0);
      const exit = await consumer.exited;
      expect(exit.stdout.toString()).toBe("hello group\n");
      expect(exit.code).toBe(0);
    } finally {
      await consumer.stop("SIGKILL");
    }
  });

  it("exits 0 on Ctrl-C while waiting, with the count", async () => {
    const consumer = follow(["consume", "--topic", "never-created"]);
    try {
      await waitForStderr(consumer, (e) => e.includes("Waiting for topic"), "it waits");
      const exit = await consumer.stop("SIGINT");
      expect(exit.code).toBe(0);
      expect(exit.stderr).toBe(
        "Waiting for topic 'never-created' to be created…\nProcessed a total of 0 messages\n",
      );
    } finally {
      await consumer.stop("SIGKILL");
    }
  });
});

describe("--property", () => {
  it("parse.key, key.separator and parse.headers round-trip to print.key and print.headers", async () => {
    const produced = await floe(
      [
        "produce",
        "--topic",
        "props",
        "--property",
        "parse.key=true",
        "--property",
        "key.separator=:",
        "--property",
        "parse.headers=true",
        "--property",
        "null.marker=NULL",
      ],
      "trace:1,src:cli\tuser-1:signed up\ntrace:2\tuser-2:a:b\ntrace:3\tNULL:NULL\n",
    );
    expect(produced.stderr).toBe("");
    expect(produced.code).toBe(0);
    const consumed = await floe([
      "consume",
      "--topic",
      "props",
      "--from-beginning",
      "--max-messages",
      "3",
      "--property",
      "print.key=true",
      "--property",
      "print.headers=true",
      "--property",
      "key.separator=|",
      "--property",
      "null.literal=<null>",
    ]);
    expect(consumed.code).toBe(0);
    expect(consumed.stdout.toString()).toBe(
      "trace:1,src:cli|user-1|signed up\ntrace:2|user-2|a:b\ntrace:3|<null>|<null>\n",
    );
  });

  it("refuses a line without its key separator in Kafka's words", async () => {
    const result = await floe(
      ["produce", "--topic", "props", "--property", "parse.key=true"],
      "no tab here\n",
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      "floe produce: INVALID_RECORD: No key separator found on line number 1: 'no tab here' (line 1; 0 records acknowledged)\n",
    );
  });

  it("notes Kafka flags that mean nothing here and refuses the ones it cannot honour, in one line", async () => {
    const acks = await floe(["produce", "--topic", "props", "--request-required-acks", "1"], "");
    expect(acks.code).toBe(0);
    expect(acks.stderr).toMatch(
      /^floe produce: note: --request-required-acks 1 has no effect: .*acks=all\n$/,
    );

    const gzip = await floe(["produce", "--topic", "props", "--compression-codec", "gzip"], "");
    expect(gzip.code).toBe(2);
    expect(gzip.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(gzip.stderr).toContain("uncompressed");

    const isolation = await floe([
      "consume",
      "--topic",
      "props",
      "--from-beginning",
      "--max-messages",
      "1",
      "--isolation-level",
      "read_committed",
    ]);
    expect(isolation.code).toBe(0);
    expect(isolation.stderr).toMatch(/^floe consume: note: isolation.level=read_committed has no effect/);
    expect(isolation.stderr).not.toMatch(STACK_FRAME);
  });
});

describe("several topics", () => {
  it("--topic a,b reads both", async () => {
    expect((await floe(["produce", "--topic", "multi-a"], "a1\na2\n")).code).toBe(0);
    expect((await floe(["produce", "--topic", "multi-b"], "b1\n")).code).toBe(0);
    const result = await floe([
      "consume",
      "--topic",
      "multi-a,multi-b",
      "--from-beginning",
      "--max-messages",
      "3",
    ]);
    expect(result.code).toBe(0);
    expect(result.stdout.toString().trimEnd().split("\n").sort()).toEqual(["a1", "a2", "b1"]);
  });

  it("--include reads every matching topic, and one created later from its start", async () => {
    expect((await floe(["produce", "--topic", "inc-1"], "one\n")).code).toBe(0);
    expect((await floe(["produce", "--topic", "not-inc"], "other\n")).code).toBe(0);
    const consumer = follow(["consume", "--include", "inc-.*", "--from-beginning", "--max-messages", "2"]);
    try {
      await consumer.waitForOutput((out) => out === "one\n", "the existing topic was read");
      expect((await floe(["produce", "--topic", "inc-2"], "two\n")).code).toBe(0);
      const exit = await consumer.exited;
      expect(exit.code).toBe(0);
      expect(exit.stdout.toString()).toBe("one\ntwo\n");
    } finally {
      await consumer.stop("SIGKILL");
    }
  });

  it("--include with --group reads matching topics as a group member", async () => {
    const result = await floe([
      "consume",
      "--include",
      "multi-.*",
      "--group",
      "g-include",
      "--from-beginning",
      "--max-messages",
      "3",
    ]);
    expect(result.code).toBe(0);
    expect(result.stdout.toString().trimEnd().split("\n").sort()).toEqual(["a1", "a2", "b1"]);
  });
});

describe("auto.offset.reset on an out-of-range --offset", () => {
  it("earliest moves it to the start of the log", async () => {
    expect((await floe(["produce", "--topic", "range"], "r0\nr1\n")).code).toBe(0);
    const result = await floe([
      "consume",
      "--topic",
      "range",
      "--partition",
      "0",
      "--offset",
      "100",
      "--max-messages",
      "1",
      "--consumer-property",
      "auto.offset.reset=earliest",
    ]);
    expect(result.code).toBe(0);
    expect(result.stdout.toString()).toBe("r0\n");
    expect(result.stderr).toContain("auto.offset.reset=earliest moves it to 0");
  });

  it("latest (the default) moves it to the end, and it follows from there", async () => {
    const consumer = follow(["consume", "--topic", "range", "--partition", "0", "--offset", "100"]);
    try {
      await waitForStderr(consumer, (e) => e.includes("moves it to 2"), "it reset to the end");
      expect((await floe(["produce", "--topic", "range"], "r2\n")).code).toBe(0);
      await consumer.waitForOutput((out) => out === "r2\n", "the new record was printed");
      const exit = await consumer.stop("SIGINT");
      expect(exit.code).toBe(0);
      expect(exit.stderr).toContain("Processed a total of 1 messages\n");
    } finally {
      await consumer.stop("SIGKILL");
    }
  });

  it("none fails with OFFSET_OUT_OF_RANGE", async () => {
    const result = await floe([
      "consume",
      "--topic",
      "range",
      "--partition",
      "0",
      "--offset",
      "100",
      "--consumer-property",
      "auto.offset.reset=none",
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^floe consume: OFFSET_OUT_OF_RANGE: .*\n$/);
  });
});

describe("a lost server", () => {
  it("is reported once, and so is its return; the follower then carries on", async () => {
    expect((await floe(["produce", "--topic", "outage"], "before\n")).code).toBe(0);
    const consumer = follow(["consume", "--topic", "outage", "--partition", "0", "--offset", "1"]);
    try {
      expect((await floe(["produce", "--topic", "outage"], "live\n")).code).toBe(0);
      await consumer.waitForOutput((out) => out === "live\n", "the follower was following");
      const stopped = await dev!.stop("SIGTERM");
      expect(stopped.code).toBe(0);
      await waitForStderr(consumer, (e) => e.includes("Lost the server"), "the loss was reported");
      dev = await startDev(world);
      await waitForStderr(consumer, (e) => e.includes("Reconnected"), "the return was reported");
      expect((await floe(["produce", "--topic", "outage"], "after\n")).code).toBe(0);
      await consumer.waitForOutput((out) => out === "live\nafter\n", "the follower printed the new record");
      const exit = await consumer.stop("SIGINT");
      expect(exit.code).toBe(0);
      const lines = exit.stderr.trimEnd().split("\n");
      expect(lines.filter((l) => l.startsWith("Lost the server at "))).toHaveLength(1);
      expect(lines.filter((l) => l === `Reconnected to ${url}`)).toHaveLength(1);
      expect(lines[lines.length - 1]).toBe("Processed a total of 2 messages");
    } finally {
      await consumer.stop("SIGKILL");
    }
  });
});
