import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CliProcess,
  consumeFromBeginning,
  type E2eWorld,
  e2eWorld,
  freePort,
  removeWorld,
  runCli,
  STACK_FRAME,
  startDev,
} from "./cli-process.js";

/**
 * The README quickstart, typed as a user types it: the compiled `floe` CLI against a real
 * `floe dev` process on the embedded backend, restarted halfway on the same data directory.
 */
let world: E2eWorld;
let bin: string;
let work: string;
let port: number;
let url: string;
let dev: CliProcess | undefined;

const floe = (args: string[], input?: string | Buffer) =>
  runCli(bin, args, { input, cwd: work, env: { FLOE_URL: url } });

beforeAll(async () => {
  world = await e2eWorld("floe-e2e-work-");
  ({ bin, work, port, url } = world);
  dev = await startDev(world);
});

afterAll(async () => {
  await dev?.stop();
  removeWorld(world);
});

/** Lines a user would pipe in: UTF-8 beyond ASCII, an empty line, tabs, JSON that must not be re-encoded. */
const LINES = [
  "hello, floe",
  "héllo wörld — ünïcödé ✓ 日本語 😀",
  "",
  "\tindented\twith tabs  ",
  '{"json": "sent as its bytes", "n": 1}',
  "null",
];
const INPUT = `${LINES.join("\n")}\n`;

describe("floe quickstart", () => {
  it("prints the dev server banner with its URL", () => {
    expect(dev!.stdout.toString()).toContain(`Floe dev server listening on ${url}`);
  });

  it("creates a topic", async () => {
    const result = await floe([
      "topics",
      "create",
      "--topic",
      "quickstart",
      "--partitions",
      "1",
      "--replication-factor",
      "1",
    ]);
    expect(result.stderr).toBe(
      "floe topics create: note: --replication-factor is ignored: object storage keeps the replicas\n",
    );
    expect(result.stdout.toString()).toBe("Created topic quickstart.\n");
    expect(result.code).toBe(0);
  });

  it("lists topics, one name per line", async () => {
    await floe(["topics", "create", "--topic", "keyed", "--partitions", "3"]);
    const result = await floe(["topics", "list"]);
    expect(result.code).toBe(0);
    expect(result.stdout.toString()).toBe("keyed\nquickstart\n");
  });

  it("describes an empty topic", async () => {
    const result = await floe(["topics", "describe", "--topic", "keyed"]);
    expect(result.code).toBe(0);
    const lines = result.stdout.toString().trimEnd().split("\n");
    expect(lines[0]).toMatch(/^Topic: keyed\tTopicId: [0-9a-f-]{36}\tPartitionCount: 3\tConfigs:$/);
    expect(lines.slice(1)).toEqual(
      [0, 1, 2].map(
        (p) =>
          `\tTopic: keyed\tPartition: ${p}\tLogStartOffset: 0\tHighWatermark: 0\tSize: 0\tLeaderEpoch: 0`,
      ),
    );
  });

  it("produces each stdin line as one record, bytes unchanged", async () => {
    const result = await floe(["produce", "--topic", "quickstart"], INPUT);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
  });

  it("consumes from the beginning: the output bytes are the input lines", async () => {
    const result = await floe(consumeFromBeginning("quickstart", LINES.length));
    expect(result.code).toBe(0);
    expect(result.stdout.equals(Buffer.from(INPUT, "utf8"))).toBe(true);
    expect(result.stderr).toBe(`Processed a total of ${LINES.length} messages\n`);
  });

  it("produces keyed lines with --key-separator: equal keys share a partition, in order", async () => {
    const keyed = "user-1:signed up\nuser-2:logged in\nuser-1:logged out\nuser-3:a:b:c\n";
    const produced = await floe(["produce", "--topic", "keyed", "--key-separator", ":"], keyed);
    expect(produced.stderr).toBe("");
    expect(produced.code).toBe(0);

    const consumed = await floe(
      consumeFromBeginning("keyed", 4, "--print-key", "--print-partition", "--key-separator", ":"),
    );
    expect(consumed.code).toBe(0);
    const rows = consumed.stdout.toString().trimEnd().split("\n");
    expect(rows.map((r) => r.replace(/^Partition:\d+:/, "")).sort()).toEqual(
      ["user-1:signed up", "user-2:logged in", "user-1:logged out", "user-3:a:b:c"].sort(),
    );
    const user1 = rows.filter((r) => r.includes(":user-1:"));
    expect(user1.map((r) => r.replace(/^Partition:\d+:user-1:/, ""))).toEqual(["signed up", "logged out"]);
    expect(new Set(user1.map((r) => r.split(":")[1])).size).toBe(1);
  });

  it("describes the topic with its high-water mark and size", async () => {
    const result = await floe([
      "topics",
      "describe",
      "--topic",
      "quickstart",
      "--bootstrap-server",
      `127.0.0.1:${port}`,
    ]);
    expect(result.code).toBe(0);
    expect(result.stdout.toString()).toMatch(
      new RegExp(`\\tPartition: 0\\tLogStartOffset: 0\\tHighWatermark: ${LINES.length}\\tSize: [1-9]\\d*\\t`),
    );
  });

  it("keeps everything across a restart on the same data dir", async () => {
    const stopped = await dev!.stop("SIGTERM");
    expect(stopped.code).toBe(0);
    expect(stopped.stderr).not.toMatch(STACK_FRAME);
    dev = await startDev(world);

    const list = await floe(["topics", "list"]);
    expect(list.stdout.toString()).toBe("keyed\nquickstart\n");
    const result = await floe(consumeFromBeginning("quickstart", LINES.length));
    expect(result.code).toBe(0);
    expect(result.stdout.equals(Buffer.from(INPUT, "utf8"))).toBe(true);

    const more = await floe(["produce", "--topic", "quickstart"], "after restart\n");
    expect(more.code).toBe(0);
    const tail = await floe([
      "consume",
      "--topic",
      "quickstart",
      "--partition",
      "0",
      "--offset",
      String(LINES.length),
      "--max-messages",
      "1",
      "--print-offset",
    ]);
    expect(tail.stdout.toString()).toBe(`Offset:${LINES.length}\tafter restart\n`);
  });

  it("follows a topic until Ctrl-C, then exits 0", async () => {
    const describe = await floe(["topics", "describe", "--topic", "quickstart"]);
    const hwm = /HighWatermark: (\d+)/.exec(describe.stdout.toString())![1];
    const follower = new CliProcess(
      bin,
      ["consume", "--topic", "quickstart", "--partition", "0", "--offset", hwm],
      {
        cwd: work,
        env: { FLOE_URL: url },
      },
    );
    try {
      await floe(["produce", "--topic", "quickstart"], "live one\nlive two\n");
      await follower.waitForOutput(
        (out) => out === "live one\nlive two\n",
        "the follower printed both records",
      );
      const exit = await follower.stop("SIGINT");
      expect(exit.code).toBe(0);
      expect(exit.stderr).toBe("Processed a total of 2 messages\n");
    } finally {
      await follower.stop("SIGKILL");
    }
  });
});

describe("floe errors", () => {
  /** One line on stderr, no stack frames, a non-zero exit. */
  function expectOneLineError(result: { code: number | null; stderr: string }) {
    expect(result.code).not.toBe(0);
    expect(result.code).not.toBeNull();
    expect(result.stderr).not.toMatch(STACK_FRAME);
    expect(result.stderr.trimEnd().split("\n")).toHaveLength(1);
  }

  it("says the server is unreachable in one line", async () => {
    const nobody = await freePort();
    const result = await runCli(bin, ["topics", "list", "--url", `http://127.0.0.1:${nobody}`], {
      cwd: work,
    });
    expectOneLineError(result);
    expect(result.stderr).toBe(
      `floe topics list: NETWORK_EXCEPTION: cannot reach Floe at http://127.0.0.1:${nobody}: connection refused — is \`floe dev\` running?\n`,
    );
    expect(result.stdout.length).toBe(0);
  });

  it("takes --url before the command as after it (issue 13)", async () => {
    const before = await runCli(bin, ["--url", url, "topics", "list"], { cwd: work });
    const after = await runCli(bin, ["topics", "list", "--url", url], { cwd: work });
    expect(before.stderr).toBe("");
    expect(before.code).toBe(0);
    expect(before.stdout.toString("utf8")).toContain("quickstart");
    expect(after).toEqual(before);
  });

  it("refuses an empty --url or FLOE_URL in one line instead of talking to 127.0.0.1:8092 (issue 13)", async () => {
    for (const [args, env, message] of [
      [["topics", "list", "--url", ""], {}, "floe topics list: --url is empty"],
      [["--url", "", "topics", "list"], {}, "floe topics list: --url is empty"],
      [["topics", "list"], { FLOE_URL: "" }, "floe topics list: FLOE_URL is set but empty"],
    ] as const) {
      const result = await runCli(bin, [...args], { cwd: work, env });
      expectOneLineError(result);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(new RegExp(`^${message}`));
      expect(result.stdout.length).toBe(0);
    }
  });

  it("names UNKNOWN_TOPIC_OR_PARTITION for a topic that does not exist", async () => {
    for (const args of [
      ["topics", "describe", "--topic", "no-such-topic"],
      ["topics", "delete", "--topic", "no-such-topic"],
    ]) {
      const result = await floe(args);
      expectOneLineError(result);
      expect(result.stderr).toContain("UNKNOWN_TOPIC_OR_PARTITION");
      expect(result.stderr).toContain("no-such-topic");
    }
  });

  it("a consumer of a topic that does not exist yet waits for it, as Kafka's does", async () => {
    const result = await floe([
      "consume",
      "--topic",
      "no-such-topic",
      "--max-messages",
      "1",
      "--timeout-ms",
      "1000",
    ]);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain("Waiting for topic 'no-such-topic' to be created");
    expect(result.stderr).toContain("Processed a total of 0 messages");
  });

  it("exits non-zero when the server refuses a record", async () => {
    const result = await floe(["produce", "--topic", "quickstart", "--partition", "7"], "nowhere to go\n");
    expectOneLineError(result);
    expect(result.stderr).toMatch(/^floe produce: [A-Z_]+: .*\(line 1; 0 records acknowledged\)\n$/);
  });

  it("refuses a topic that already exists with Kafka's code", async () => {
    const result = await floe(["topics", "create", "--topic", "quickstart"]);
    expectOneLineError(result);
    expect(result.stderr).toContain("TOPIC_ALREADY_EXISTS");
    const quiet = await floe(["topics", "create", "--topic", "quickstart", "--if-not-exists"]);
    expect(quiet.code).toBe(0);
  });

  it("explains a mistyped command line with exit code 2", async () => {
    const missing = await floe(["topics", "create", "--partitions", "3"]);
    expectOneLineError(missing);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe("floe topics create: --topic is required (see: floe topics create --help)\n");

    const typo = await floe(["consume", "--topic", "t", "--from-begining"]);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain("did you mean --from-beginning?");

    const group = await floe(["consume", "--topic", "t", "--group", "g", "--offset", "0"]);
    expectOneLineError(group);
    expect(group.code).toBe(2);
    expect(group.stderr).toContain("--group cannot be combined");
  });
});

describe("floe --help", () => {
  const commands = [
    [],
    ["dev"],
    ["topics"],
    ["topics", "create"],
    ["topics", "list"],
    ["topics", "describe"],
    ["topics", "alter"],
    ["topics", "delete"],
    ["produce"],
    ["consume"],
    ["groups"],
  ];

  it.each(commands.map((c) => [c.join(" ") || "(none)", c]))("works for %s", async (_, command) => {
    const result = await runCli(bin, [...(command as string[]), "--help"], { cwd: work });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const text = result.stdout.toString();
    expect(text).toMatch(new RegExp(`^Usage: floe ${(command as string[]).join(" ")}`.replace(/ +$/, "")));
    if ((command as string[]).length > 0 && (command as string[])[0] !== "topics")
      expect(text).toContain("--help");
  });
});
