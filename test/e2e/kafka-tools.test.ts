import { spawn, spawnSync } from "node:child_process";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DevCliProcess, type E2eWorld, e2eWorld, REPO, removeWorld, startDev } from "./cli-process.js";

/**
 * Apache Kafka's own command-line tools — the Java ones from Maven Central (peers/kafka-tools/pom.xml),
 * run as processes through scripts/kafka-tool.sh — against a real `floe dev`: kafka-topics creates and
 * lists, kafka-console-producer writes keyed lines, kafka-console-consumer reads them in a classic
 * group and in a KIP-848 one (group.protocol=consumer), kafka-consumer-groups describes the lag and
 * resets offsets, kafka-get-offsets reads the end offsets. What README.md shows, done by the tools a
 * Kafka user already has. Needs `java` and `mvn`; the first run downloads the jars.
 */
const SCRIPT = path.join(REPO, "scripts/kafka-tool.sh");
const TOPIC = "words";
const GROUP = "readers";

const missing = ["java", "mvn"].filter(
  (command) => spawnSync(command, ["-version"], { stdio: "ignore" }).status !== 0,
);
if (missing.length > 0) {
  console.warn(
    `kafka-tools.test.ts skipped: ${missing.join(" and ")} not found (Kafka's Java tools need Java 17+ and Maven)`,
  );
}

interface ToolResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** One run of scripts/kafka-tool.sh <tool> args…, fed `input`; killed if it outlives `timeoutMs`. */
function kafkaTool(tool: string, args: string[], input = "", timeoutMs = 45_000): Promise<ToolResult> {
  const child = spawn("bash", [SCRIPT, tool, ...args], { stdio: ["pipe", "pipe", "pipe"] });
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdout.on("data", (c: Buffer) => stdout.push(c));
  child.stderr.on("data", (c: Buffer) => stderr.push(c));
  child.stdin.end(input);
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({
        code,
        stdout: Buffer.concat(stdout).toString("utf8"),
        stderr: Buffer.concat(stderr).toString("utf8"),
      });
    });
  });
}

/** A tool's run that must succeed; its output is in the failure so a protocol error reads plainly. */
async function ok(tool: string, args: string[], input?: string): Promise<string> {
  const result = await kafkaTool(tool, args, input);
  expect(result.code, `kafka-${tool} ${args.join(" ")}\n${result.stdout}${result.stderr}`).toBe(0);
  return result.stdout;
}

/**
 * kafka-console-consumer at `bootstrap` in `group`, from the beginning, until it has read every line
 * produced (keys printed as `key:value`), with `extra` arguments.
 */
function consumeEveryLine(bootstrap: string, group: string, extra: string[] = []) {
  return kafkaTool("console-consumer", [
    "--bootstrap-server",
    bootstrap,
    "--topic",
    TOPIC,
    "--from-beginning",
    "--max-messages",
    String(LINES.length),
    "--group",
    group,
    ...extra,
    "--formatter-property",
    "print.key=true",
    "--formatter-property",
    "key.separator=:",
    "--timeout-ms",
    "30000",
  ]);
}

/** kafka-consumer-groups --describe's table: one row per partition, by its column names. */
function describeRows(table: string): Record<string, string>[] {
  const lines = table.split("\n").filter((line) => line.trim() !== "");
  const header = lines.findIndex((line) => line.startsWith("GROUP"));
  expect(header, table).toBeGreaterThanOrEqual(0);
  const columns = lines[header].trim().split(/\s+/);
  return lines
    .slice(header + 1)
    .filter((line) => !line.startsWith("GROUP"))
    .map((line) =>
      Object.fromEntries(
        line
          .trim()
          .split(/\s+/)
          .map((value, i) => [columns[i], value]),
      ),
    )
    .sort((a, b) => Number(a.PARTITION) - Number(b.PARTITION));
}

const LINES = ["apple:red", "banana:yellow", "cherry:dark red", "lime:green"];

// A JVM per tool: a test of two tools takes seconds, more on a busy machine; the bound only stops a hang.
describe.skipIf(missing.length > 0)("Kafka's own Java tools against floe dev", { timeout: 120_000 }, () => {
  let world: E2eWorld;
  let dev: DevCliProcess | undefined;
  let bootstrap: string;

  beforeAll(async () => {
    // Maven resolves the tools' classpath once (a download on a fresh machine), before any tool runs.
    const resolved = await kafkaTool("classpath", [], "", 240_000);
    expect(resolved.code, resolved.stderr).toBe(0);
    world = await e2eWorld("floe-e2e-kafka-tools-");
    dev = await startDev(world);
    if (!dev.kafka) throw new Error(`floe dev announced no Kafka listener:\n${dev.stdout}`);
    bootstrap = dev.kafka.bootstrap;
  }, 300_000);

  afterAll(async () => {
    await dev?.stop();
    removeWorld(world);
  });

  it("kafka-topics --create makes a topic with the partitions asked for", async () => {
    const out = await ok("topics", [
      "--bootstrap-server",
      bootstrap,
      "--create",
      "--topic",
      TOPIC,
      "--partitions",
      "2",
    ]);
    expect(out).toBe(`Created topic ${TOPIC}.\n`);
  });

  it("kafka-console-producer writes keyed lines (parse.key) that the console consumer prints with their keys", async () => {
    await ok(
      "console-producer",
      [
        "--bootstrap-server",
        bootstrap,
        "--topic",
        TOPIC,
        "--reader-property",
        "parse.key=true",
        "--reader-property",
        "key.separator=:",
      ],
      `${LINES.join("\n")}\n`,
    );
    const consumed = await consumeEveryLine(bootstrap, GROUP);
    expect(consumed.code, consumed.stderr).toBe(0);
    // Two partitions: each key's order holds, the interleaving between partitions does not.
    expect(consumed.stdout.split("\n").filter(Boolean).sort()).toEqual([...LINES].sort());
    expect(consumed.stderr).toContain(`Processed a total of ${LINES.length} messages`);
  });

  it("kafka-consumer-groups --describe shows the group's committed offsets at the end, no lag", async () => {
    const rows = describeRows(
      await ok("consumer-groups", ["--bootstrap-server", bootstrap, "--describe", "--group", GROUP]),
    );
    expect(rows.map((row) => [row.TOPIC, row.PARTITION])).toEqual([
      [TOPIC, "0"],
      [TOPIC, "1"],
    ]);
    for (const row of rows) {
      expect(row.GROUP).toBe(GROUP);
      expect(row["CURRENT-OFFSET"]).toBe(row["LOG-END-OFFSET"]);
      expect(row.LAG).toBe("0");
    }
    expect(rows.reduce((sum, row) => sum + Number(row["LOG-END-OFFSET"]), 0)).toBe(LINES.length);
  });

  it("kafka-consumer-groups --reset-offsets --to-earliest --execute moves the group back to 0", async () => {
    const table = await ok("consumer-groups", [
      "--bootstrap-server",
      bootstrap,
      "--reset-offsets",
      "--to-earliest",
      "--execute",
      "--group",
      GROUP,
      "--topic",
      TOPIC,
    ]);
    const rows = describeRows(table);
    expect(rows.map((row) => [row.PARTITION, row["NEW-OFFSET"]])).toEqual([
      ["0", "0"],
      ["1", "0"],
    ]);
    const after = describeRows(
      await ok("consumer-groups", ["--bootstrap-server", bootstrap, "--describe", "--group", GROUP]),
    );
    for (const row of after) {
      expect(row["CURRENT-OFFSET"]).toBe("0");
      expect(row.LAG).toBe(row["LOG-END-OFFSET"]);
    }
  });

  it("kafka-console-consumer with group.protocol=consumer (KIP-848) reads everything in its own group", async () => {
    const consumed = await consumeEveryLine(bootstrap, `${GROUP}-848`, [
      "--command-property",
      "group.protocol=consumer",
    ]);
    expect(consumed.code, consumed.stderr).toBe(0);
    expect(consumed.stdout.split("\n").filter(Boolean).sort()).toEqual([...LINES].sort());
    // It committed what it read before leaving, as the classic member did.
    const rows = describeRows(
      await ok("consumer-groups", ["--bootstrap-server", bootstrap, "--describe", "--group", `${GROUP}-848`]),
    );
    expect(rows.map((row) => [row.PARTITION, row.LAG])).toEqual([
      ["0", "0"],
      ["1", "0"],
    ]);
  });

  it("kafka-get-offsets and kafka-topics --list see the topic and its end offsets", async () => {
    const offsets = await ok("get-offsets", ["--bootstrap-server", bootstrap, "--topic", TOPIC]);
    const ends = offsets
      .split("\n")
      .filter(Boolean)
      .map((line) => line.split(":"));
    expect(ends.map(([topic, partition]) => `${topic}:${partition}`).sort()).toEqual([
      `${TOPIC}:0`,
      `${TOPIC}:1`,
    ]);
    expect(ends.reduce((sum, [, , end]) => sum + Number(end), 0)).toBe(LINES.length);
    const listed = await ok("topics", ["--bootstrap-server", bootstrap, "--list"]);
    expect(listed.split("\n")).toContain(TOPIC);
  });
});
