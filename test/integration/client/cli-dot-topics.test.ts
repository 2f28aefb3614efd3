/**
 * Topic names "." and ".." through the real CLI: `new URL` resolves them as path steps, so the client
 * once asked for the topic list instead (`floe produce --topic .` crashed reading its partitions).
 * They must be refused before any request, in one line, as Kafka refuses them.
 */
import { spawn } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DevServer, startDevServer } from "../../../src/server/dev-server.js";
import { REPO, STACK_FRAME } from "../../e2e/cli-process.js";

function floe(
  args: string[],
  input: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ["--import", "tsx", "src/cli/main.ts", ...args], {
    cwd: REPO,
    env: { ...process.env, FLOE_URL: undefined, FLOE_DEBUG: undefined },
    stdio: ["pipe", "pipe", "pipe"],
  });
  child.stdin.end(input);
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("topic names . and .. in the CLI", () => {
  let server: DevServer;
  beforeAll(async () => {
    server = await startDevServer({ port: 0, storage: "memory", log: () => {}, maintenanceIntervalMs: 0 });
  });
  afterAll(async () => {
    await server?.close();
  });

  it.each([
    ["produce", "."],
    ["produce", ".."],
    ["topics describe", "."],
    ["topics delete", ".."],
  ])("floe %s --topic %s fails at once with one INVALID_TOPIC_EXCEPTION line", async (command, topic) => {
    const result = await floe([...command.split(" "), "--topic", topic, "--url", server.url], '{"a":1}\n');
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain("INVALID_TOPIC_EXCEPTION");
    expect(result.stderr).not.toContain("Cannot read properties");
    expect(result.stderr).not.toMatch(STACK_FRAME);
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
    const topics = (await (await fetch(`${server.url}/v1/topics`)).json()) as { topics: string[] };
    expect(topics.topics).toEqual([]);
  });
});
