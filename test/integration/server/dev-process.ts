/**
 * `floe dev` as a child process (the CLI under tsx), as a user runs it: for the crash and shutdown
 * tests, which need a process they can kill. Resolves once the whole banner is out, so a test can
 * read any line of it (the durability mode, say).
 */
import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

export interface DevProcess {
  child: ChildProcess;
  url: string;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export async function spawnFloeDev(dataDir: string, extraArgs: string[] = []): Promise<DevProcess> {
  const child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      "src/cli/main.ts",
      "dev",
      "--port",
      "0",
      "--no-kafka",
      "--storage",
      "embedded",
      "--data-dir",
      dataDir,
      ...extraArgs,
    ],
    { cwd: ROOT, env: { ...process.env, POWERTOOLS_LOG_LEVEL: "ERROR" }, stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  child.stdout?.on("data", (c: Buffer) => (output += c.toString()));
  child.stderr?.on("data", (c: Buffer) => (output += c.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  const url = await new Promise<string>((resolve, reject) => {
    const onData = () => {
      const match = /listening on (http:\/\/\S+)[\s\S]*Press Ctrl-C/.exec(output);
      if (match) {
        child.stdout?.off("data", onData);
        resolve(match[1]);
      }
    };
    child.stdout?.on("data", onData);
    exited.then(({ code, signal }) =>
      reject(new Error(`floe dev exited (${code ?? signal}) before listening:\n${output}`)),
    );
  });
  return { child, url, output: () => output, exited };
}

/** Ends a child this test started, if it still runs. */
export async function stopProcess(p: DevProcess | undefined): Promise<void> {
  if (!p || p.child.exitCode !== null || p.child.signalCode !== null) return;
  p.child.kill("SIGKILL");
  await p.exited;
}
