import { PassThrough } from "node:stream";
import type { CliIo } from "../../../src/cli/command.js";
import { main } from "../../../src/cli/main.js";

/** main() over in-memory streams: command routing and usage errors need no server. */
export function runMain(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return runMainWithEnv({}, ...argv);
}

/** runMain with these environment variables (the command sees only them). */
export async function runMainWithEnv(
  env: NodeJS.ProcessEnv,
  ...argv: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on("data", (c: Buffer) => out.push(c));
  stderr.on("data", (c: Buffer) => err.push(c));
  const io: CliIo = {
    stdin: new PassThrough(),
    stdout,
    stderr,
    env,
    interrupted: new AbortController().signal,
  };
  const code = await main(argv, io);
  return { code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
}
