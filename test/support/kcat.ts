import { spawn } from "node:child_process";

export interface KcatResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** kcat (librdkafka's command-line client; .ci/run installs it) with these arguments, `input` on stdin. */
export function kcat(args: string[], input = ""): Promise<KcatResult> {
  return new Promise((resolve, reject) => {
    const child = spawn("kcat", args, { stdio: ["pipe", "pipe", "pipe"] });
    child.stdin.end(input);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on("data", (c: Buffer) => {
      stderr += c.toString();
    });
    child.on("error", (e: NodeJS.ErrnoException) =>
      reject(e.code === "ENOENT" ? new Error("kcat is not installed: apt-get install kcat") : e),
    );
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}
