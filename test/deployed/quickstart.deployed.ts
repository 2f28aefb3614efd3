import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildPackage, consumeFromBeginning, removeDir, runCli } from "../e2e/cli-process.js";
import { localstackEnv } from "./aws.js";
import { deployedStack } from "./stack.js";

/**
 * The README quickstart, typed as a user types it, through real `floe` processes against the
 * deployed stack's REST API on LocalStack: API Gateway, the Lambda functions, S3 and DynamoDB.
 * Requests are signed (--aws-sigv4) as the stack's IAM authorisation requires in AWS.
 */
const stack = deployedStack();
let pkg: string;
let bin: string;

const floe = (args: string[], input?: string | Buffer) =>
  runCli(bin, args, { input, env: { ...localstackEnv() } });

beforeAll(() => {
  pkg = buildPackage();
  bin = `${pkg}/bin/floe.js`;
});
afterAll(() => removeDir(pkg));

describe("the README quickstart against the deployed stack", () => {
  it("creates a topic (--url before the command, as users type it)", async () => {
    const result = await floe([
      "--url",
      stack.apiUrl,
      "--aws-sigv4",
      "topics",
      "create",
      "--topic",
      "quickstart",
      "--partitions",
      "1",
    ]);
    expect(result.stderr).toBe("");
    expect(result.stdout.toString()).toBe("Created topic quickstart.\n");
    expect(result.code).toBe(0);
  });

  it("lists and describes topics (--url after the command)", async () => {
    const list = await floe(["topics", "list", "--url", stack.apiUrl, "--aws-sigv4"]);
    expect(list.code).toBe(0);
    expect(list.stdout.toString().split("\n")).toContain("quickstart");
    const describe = await floe([
      "topics",
      "describe",
      "--topic",
      "quickstart",
      "--url",
      stack.apiUrl,
      "--aws-sigv4",
    ]);
    expect(describe.code).toBe(0);
    const lines = describe.stdout.toString().split("\n");
    expect(lines[0]).toMatch(/^Topic: quickstart\tTopicId: \S+\tPartitionCount: 1\tConfigs:/);
    expect(lines[1]).toBe(
      "\tTopic: quickstart\tPartition: 0\tLogStartOffset: 0\tHighWatermark: 0\tSize: 0\tLeaderEpoch: 0",
    );
  });

  it("produces lines from stdin, plain and keyed, and reads them back with keys and offsets", async () => {
    const plain = await floe(
      ["produce", "--topic", "quickstart", "--url", stack.apiUrl, "--aws-sigv4"],
      "This is my first event\nThis is my second event\n",
    );
    expect(plain.stderr).toBe("");
    expect(plain.code).toBe(0);
    const keyed = await floe(
      ["produce", "--topic", "quickstart", "--key-separator", ":", "--url", stack.apiUrl, "--aws-sigv4"],
      "user-1:signed up\nuser-2:signed up\n",
    );
    expect(keyed.code).toBe(0);

    const read = await floe(consumeFromBeginning("quickstart", 4, "--url", stack.apiUrl, "--aws-sigv4"));
    expect(read.code).toBe(0);
    expect(read.stdout.toString()).toBe(
      "This is my first event\nThis is my second event\nsigned up\nsigned up\n",
    );
    expect(read.stderr).toContain("Processed a total of 4 messages");

    const detailed = await floe(
      consumeFromBeginning(
        "quickstart",
        4,
        "--print-offset",
        "--print-key",
        "--url",
        stack.apiUrl,
        "--aws-sigv4",
      ),
    );
    expect(detailed.stdout.toString()).toBe(
      "Offset:0\tnull\tThis is my first event\n" +
        "Offset:1\tnull\tThis is my second event\n" +
        "Offset:2\tuser-1\tsigned up\n" +
        "Offset:3\tuser-2\tsigned up\n",
    );
  });

  it("carries UTF-8 beyond ASCII, tabs and JSON text as their bytes through API Gateway", async () => {
    const lines = [
      "héllo wörld — ✓ 日本語 😀",
      "\tindented\twith tabs  ",
      '{"json": "as its bytes", "n": 1}',
      "null",
    ];
    const create = await floe(["topics", "create", "--topic", "bytes", "--url", stack.apiUrl, "--aws-sigv4"]);
    expect(create.code).toBe(0);
    const sent = await floe(
      ["produce", "--topic", "bytes", "--url", stack.apiUrl, "--aws-sigv4"],
      `${lines.join("\n")}\n`,
    );
    expect(sent.code).toBe(0);
    const read = await floe(
      consumeFromBeginning("bytes", lines.length, "--url", stack.apiUrl, "--aws-sigv4"),
    );
    expect(read.code).toBe(0);
    expect(read.stdout.toString("utf8")).toBe(`${lines.join("\n")}\n`);
  });

  it("refuses an unknown topic with Kafka's error name, not a 5xx", async () => {
    const result = await floe([
      "topics",
      "describe",
      "--topic",
      "no-such-topic",
      "--url",
      stack.apiUrl,
      "--aws-sigv4",
    ]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain("UNKNOWN_TOPIC_OR_PARTITION");
  });
});
