import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { createConnection } from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type CliProcess,
  type E2eWorld,
  e2eWorld,
  removeWorld,
  runCli,
  STACK_FRAME,
  startDev,
} from "./cli-process.js";

/**
 * Kafka's quickstart and admin commands typed as Kafka spells them, with `floe` for the script
 * name: the compiled CLI against a real `floe dev` on the embedded backend.
 */
let world: E2eWorld;
let bin: string;
let work: string;
let port: number;
let server: string;
let dev: CliProcess | undefined;

/** `floe …` with no FLOE_URL: every command names its server with --bootstrap-server, as Kafka's do. */
const floe = (args: string[], input?: string) => runCli(bin, args, { input, cwd: work });

beforeAll(async () => {
  world = await e2eWorld("floe-e2e-kafka-");
  ({ bin, work, port } = world);
  server = `localhost:${port}`;
  dev = await startDev(world);
});

afterAll(async () => {
  await dev?.stop();
  removeWorld(world);
});

function expectOneLine(result: { stderr: string }): void {
  expect(result.stderr).not.toMatch(STACK_FRAME);
  expect(result.stderr.trimEnd().split("\n")).toHaveLength(1);
}

describe("Kafka's quickstart, as Kafka spells it", () => {
  it("creates a topic: floe topics --create --topic quickstart-events --bootstrap-server localhost:PORT", async () => {
    const result = await floe([
      "topics",
      "--create",
      "--topic",
      "quickstart-events",
      "--bootstrap-server",
      server,
    ]);
    expect(result.stderr).toBe("");
    expect(result.stdout.toString()).toBe("Created topic quickstart-events.\n");
    expect(result.code).toBe(0);
  });

  it("describes it: floe topics --describe --topic quickstart-events --bootstrap-server …", async () => {
    const result = await floe([
      "topics",
      "--describe",
      "--topic",
      "quickstart-events",
      "--bootstrap-server",
      server,
    ]);
    expect(result.code).toBe(0);
    const lines = result.stdout.toString().split("\n");
    expect(lines[0]).toMatch(
      /^Topic: quickstart-events\tTopicId: [0-9a-f-]{36}\tPartitionCount: 1\tConfigs:$/,
    );
    expect(lines[1]).toBe(
      "\tTopic: quickstart-events\tPartition: 0\tLogStartOffset: 0\tHighWatermark: 0\tSize: 0\tLeaderEpoch: 0",
    );
  });

  it("lists it: floe topics --bootstrap-server … --list", async () => {
    const result = await floe(["topics", "--bootstrap-server", server, "--list"]);
    expect(result.code).toBe(0);
    expect(result.stdout.toString()).toBe("quickstart-events\n");
  });

  it("writes events: floe produce --topic quickstart-events --bootstrap-server …", async () => {
    const result = await floe(
      ["produce", "--topic", "quickstart-events", "--bootstrap-server", server],
      "This is my first event\nThis is my second event\n",
    );
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
  });

  it("reads them: floe consume --topic quickstart-events --from-beginning --bootstrap-server … --max-messages 2", async () => {
    const result = await floe([
      "consume",
      "--topic",
      "quickstart-events",
      "--from-beginning",
      "--bootstrap-server",
      server,
      "--max-messages",
      "2",
    ]);
    expect(result.code).toBe(0);
    expect(result.stdout.toString()).toBe("This is my first event\nThis is my second event\n");
    expect(result.stderr).toBe("Processed a total of 2 messages\n");
  });

  it("creates with Kafka's older quickstart line: --partitions 1 --replication-factor 1, with a note", async () => {
    const result = await floe([
      "topics",
      "--create",
      "--bootstrap-server",
      server,
      "--replication-factor",
      "1",
      "--partitions",
      "1",
      "--topic",
      "test",
    ]);
    expect(result.code).toBe(0);
    expect(result.stdout.toString()).toBe("Created topic test.\n");
    expect(result.stderr).toBe(
      "floe topics create: note: --replication-factor is ignored: object storage keeps the replicas\n",
    );
  });
});

describe("kafka-topics.sh's other actions and options", () => {
  it("alters partitions and configs: --alter --partitions, --add-config, --delete-config", async () => {
    const grow = await floe([
      "topics",
      "--alter",
      "--topic",
      "test",
      "--partitions",
      "3",
      "--bootstrap-server",
      server,
    ]);
    expect(grow.stdout.toString()).toBe("Altered topic test.\n");
    expect(grow.code).toBe(0);
    const set = await floe([
      "topics",
      "--alter",
      "--topic",
      "test",
      "--add-config",
      "retention.ms=86400000,max.message.bytes=100000",
      "--bootstrap-server",
      server,
    ]);
    expect(set.code).toBe(0);
    const overrides = await floe([
      "topics",
      "--describe",
      "--topics-with-overrides",
      "--bootstrap-server",
      server,
    ]);
    expect(overrides.stdout.toString()).toMatch(
      /^Topic: test\tTopicId: \S+\tPartitionCount: 3\tConfigs: (max\.message\.bytes=100000,retention\.ms=86400000|retention\.ms=86400000,max\.message\.bytes=100000)\n$/,
    );
    const unset = await floe([
      "topics",
      "--alter",
      "--topic",
      "test",
      "--delete-config",
      "retention.ms,max.message.bytes",
      "--bootstrap-server",
      server,
    ]);
    expect(unset.code).toBe(0);
    const none = await floe([
      "topics",
      "--describe",
      "--topics-with-overrides",
      "--bootstrap-server",
      server,
    ]);
    expect(none.stdout.toString()).toBe("");
  });

  it("honours --if-exists and --if-not-exists", async () => {
    for (const args of [
      ["--delete", "--topic", "no-such-topic", "--if-exists"],
      ["--alter", "--topic", "no-such-topic", "--partitions", "2", "--if-exists"],
      ["--describe", "--topic", "no-such-topic", "--if-exists"],
      ["--create", "--topic", "test", "--if-not-exists"],
    ]) {
      const result = await floe(["topics", ...args, "--bootstrap-server", server]);
      expect({ args, code: result.code, stdout: result.stdout.toString(), stderr: result.stderr }).toEqual({
        args,
        code: 0,
        stdout: "",
        stderr: "",
      });
    }
    const without = await floe([
      "topics",
      "--delete",
      "--topic",
      "no-such-topic",
      "--bootstrap-server",
      server,
    ]);
    expect(without.code).toBe(1);
    expect(without.stderr).toBe(
      "floe topics delete: UNKNOWN_TOPIC_OR_PARTITION: Topic 'no-such-topic' does not exist.\n",
    );
  });

  it("deletes: floe topics --delete --topic …", async () => {
    await floe(["topics", "--create", "--topic", "doomed", "--bootstrap-server", server]);
    const result = await floe(["topics", "--delete", "--topic", "doomed", "--bootstrap-server", server]);
    expect(result.stdout.toString()).toBe("Deleted topic doomed.\n");
    expect(result.code).toBe(0);
  });

  it("lists with --exclude-internal and a note that there are none", async () => {
    const result = await floe(["topics", "--list", "--exclude-internal", "--bootstrap-server", server]);
    expect(result.code).toBe(0);
    expect(result.stdout.toString()).toBe("quickstart-events\ntest\n");
    expect(result.stderr).toBe(
      "floe topics list: note: --exclude-internal is ignored: Floe has no internal topics\n",
    );
  });

  it("refuses a wrong word in one line that names it", async () => {
    const result = await floe([
      "topics",
      "--create",
      "--topic",
      "t",
      "--partitons",
      "2",
      "--bootstrap-server",
      server,
    ]);
    expect(result.code).toBe(2);
    expectOneLine(result);
    expect(result.stderr).toBe(
      "floe topics create: unknown option --partitons (did you mean --partitions?) (see: floe topics create --help)\n",
    );
  });
});

describe("kafka-consumer-groups.sh's actions and options", () => {
  beforeAll(async () => {
    const consumed = await floe([
      "consume",
      "--topic",
      "quickstart-events",
      "--group",
      "readers",
      "--from-beginning",
      "--max-messages",
      "2",
      "--bootstrap-server",
      server,
    ]);
    expect(consumed.code).toBe(0);
  });

  it("lists and describes: floe groups --list, floe groups --describe --group … --offsets", async () => {
    const list = await floe(["groups", "--list", "--bootstrap-server", server]);
    expect(list.stdout.toString()).toBe("readers\n");
    const described = await floe([
      "groups",
      "--describe",
      "--group",
      "readers",
      "--offsets",
      "--bootstrap-server",
      server,
    ]);
    expect(described.code).toBe(0);
    expect(described.stdout.toString()).toMatch(/readers\s+quickstart-events\s+0\s+2\s+2\s+0/);
    const verbose = await floe([
      "groups",
      "--describe",
      "--group",
      "readers",
      "--state",
      "--verbose",
      "--bootstrap-server",
      server,
    ]);
    expect(verbose.code).toBe(0);
    expect(verbose.stdout.toString()).toMatch(/GROUP\s+STATE/);
    expect(verbose.stderr).toBe(
      "floe groups describe: note: --verbose is ignored: every column is always shown\n",
    );
  });

  /** The NEW-OFFSET column of a reset plan, by partition. */
  function newOffsets(stdout: Buffer): string[] {
    return stdout
      .toString()
      .trim()
      .split("\n")
      .slice(1)
      .map((row) => row.split(/\s+/).slice(2).join(":"));
  }

  it("resets offsets: --all-topics, --to-current, --by-duration, --dry-run and --execute", async () => {
    const base = ["groups", "--reset-offsets", "--group", "readers", "--bootstrap-server", server];
    const current = await floe([...base, "--all-topics", "--to-current", "--dry-run"]);
    expect(current.code).toBe(0);
    expect(newOffsets(current.stdout)).toEqual(["0:2"]);
    expect(current.stderr).toBe("Dry run: nothing was changed. Add --execute to apply these offsets.\n");

    // Both records were written moments ago: ten minutes back is the start of the log.
    const back = await floe([...base, "--topic", "quickstart-events", "--by-duration", "PT10M", "--execute"]);
    expect(back.code).toBe(0);
    expect(back.stderr).toBe("");
    expect(newOffsets(back.stdout)).toEqual(["0:0"]);
    const after = await floe(["groups", "--describe", "--group", "readers", "--bootstrap-server", server]);
    expect(after.stdout.toString()).toMatch(/readers\s+quickstart-events\s+0\s+0\s+2\s+2/);

    const now = await floe([...base, "--all-topics", "--by-duration", "PT0S"]);
    expect(newOffsets(now.stdout)).toEqual(["0:2"]);

    const bad = await floe([...base, "--all-topics", "--by-duration", "10 minutes"]);
    expect(bad.code).toBe(2);
    expectOneLine(bad);
  });

  it("deletes several groups, naming each one that could not be", async () => {
    const result = await floe([
      "groups",
      "--delete",
      "--group",
      "readers",
      "--group",
      "nosuch",
      "--bootstrap-server",
      server,
    ]);
    expect(result.code).toBe(1);
    expect(result.stdout.toString()).toBe("These consumer groups were deleted successfully: 'readers'\n");
    expect(result.stderr).toBe(
      "floe groups delete: GROUP_ID_NOT_FOUND: Consumer group 'nosuch' does not exist.\n",
    );
    const list = await floe(["groups", "--list", "--bootstrap-server", server]);
    expect(list.stdout.toString()).toBe("");
  });
});

describe("small outputs, said plainly", () => {
  it("names a missing partition the way it names a missing topic", async () => {
    const result = await floe(
      ["produce", "--topic", "quickstart-events", "--partition", "3", "--bootstrap-server", server],
      "nowhere\n",
    );
    expect(result.code).toBe(1);
    expectOneLine(result);
    expect(result.stderr).toContain(
      "UNKNOWN_TOPIC_OR_PARTITION: Partition 3 of topic 'quickstart-events' does not exist (it has 1 partition).",
    );
  });

  it("says a topic name is too long in words, not the validator's", async () => {
    const result = await floe([
      "topics",
      "--describe",
      "--topic",
      "t".repeat(250),
      "--bootstrap-server",
      server,
    ]);
    expect(result.code).toBe(1);
    expectOneLine(result);
    expect(result.stderr).toMatch(/: Topic name is longer than 249 characters\n$/);
  });

  it("says floe's commands want the HTTP API on 8092 when Kafka's 9092 is not answering", async () => {
    const taken = await new Promise<boolean>((resolve) => {
      const socket = createConnection(9092, "127.0.0.1");
      socket.on("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.on("error", () => resolve(false));
    });
    if (taken) return; // something (a real Kafka?) listens there: not this test's business
    const result = await floe(["topics", "--list", "--bootstrap-server", "127.0.0.1:9092"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      "floe topics list: NETWORK_EXCEPTION: cannot reach Floe at http://127.0.0.1:9092: connection refused — floe's commands talk to Floe's HTTP API, on 8092 by default; 9092 is the Kafka protocol, for Kafka's own clients and tools\n",
    );
  });

  it("says a data dir that cannot be written cannot be written", async () => {
    writeFileSync(path.join(work, "a-file"), "");
    const notDir = await floe(["dev", "--port", "0", "--data-dir", "a-file/data"]);
    expect(notDir.code).toBe(1);
    expect(notDir.stderr).toBe(
      `floe dev: cannot use the data dir ${path.join(work, "a-file/data")}: ${path.join(work, "a-file")} is not a directory\n`,
    );
    if (process.getuid?.() === 0) return; // root writes anywhere: the mode check below cannot fail
    const locked = path.join(work, "locked");
    mkdirSync(locked);
    chmodSync(locked, 0o500);
    const denied = await floe(["dev", "--port", "0", "--data-dir", "locked/data"]);
    expect(denied.code).toBe(1);
    expect(denied.stderr).toBe(
      `floe dev: cannot write the data dir ${path.join(locked, "data")}: permission denied\n`,
    );
  });
});
