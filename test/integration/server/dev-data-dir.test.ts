/**
 * `floe dev --data-dir` that cannot be created, through the real CLI: it once spun forever at full
 * CPU in Node 20's recursive mkdir (under /proc, mkdir answers ENOENT although the parent exists).
 * It must fail at once with one line and a non-zero exit.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { afterEach, describe, expect, it } from "vitest";
import { REPO, STACK_FRAME } from "../../e2e/cli-process.js";

/** Processes still running when a test ends (one that spins) are killed, so none outlives the run. */
const running = new Set<ChildProcess>();

function floeDev(dataDir: string): Promise<{ code: number | null; output: string }> {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", "src/cli/main.ts", "dev", "--port", "0", "--no-kafka", "--data-dir", dataDir],
    { cwd: REPO, env: { ...process.env, FLOE_DEBUG: undefined }, stdio: ["ignore", "pipe", "pipe"] },
  );
  running.add(child);
  child.on("close", () => running.delete(child));
  let output = "";
  child.stdout.on("data", (c: Buffer) => (output += c.toString()));
  child.stderr.on("data", (c: Buffer) => (output += c.toString()));
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, output }));
  });
}

describe("floe dev with a data dir that cannot be created", () => {
  afterEach(() => {
    for (const child of running) child.kill("SIGKILL");
  });

  it.skipIf(process.platform !== "linux")(
    "--data-dir /proc/nope exits non-zero with one line naming the directory",
    async () => {
      const { code, output } = await floeDev("/proc/nope/data");
      expect(code).not.toBe(0);
      expect(output).not.toContain("listening on");
      expect(output).not.toMatch(STACK_FRAME);
      expect(output.trim().split("\n")).toHaveLength(1);
      expect(output).toContain("/proc/nope");
    },
  );
});
