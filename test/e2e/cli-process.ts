import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/**
 * The package laid out as `npm install` leaves it: bin/floe.js next to a freshly compiled dist/
 * (tsc -p tsconfig.build.json, what `prepare` runs), with the repo's node_modules. Built into a
 * temporary directory so the test never races another build of the repo's own dist/.
 */
export function buildPackage(): string {
  const root = mkdtempSync(path.join(tmpdir(), "floe-e2e-pkg-"));
  const tsc = path.join(REPO, "node_modules/typescript/bin/tsc");
  const build = spawnSync(
    process.execPath,
    [tsc, "-p", "tsconfig.build.json", "--outDir", path.join(root, "dist")],
    {
      cwd: REPO,
      encoding: "utf8",
    },
  );
  if (!existsSync(path.join(root, "dist/cli/main.js"))) {
    throw new Error(
      `tsc did not produce dist/cli/main.js (exit ${build.status}):\n${build.stdout}${build.stderr}`,
    );
  }
  mkdirSync(path.join(root, "bin"));
  cpSync(path.join(REPO, "bin/floe.js"), path.join(root, "bin/floe.js"));
  cpSync(path.join(REPO, "package.json"), path.join(root, "package.json"));
  symlinkSync(path.join(REPO, "node_modules"), path.join(root, "node_modules"), "dir");
  return root;
}

export function removeDir(dir: string | undefined): void {
  if (dir) rmSync(dir, { recursive: true, force: true });
}

/** One e2e file's world: the built package, a scratch directory, and a free port for `floe dev`. */
export interface E2eWorld {
  pkg: string;
  bin: string;
  work: string;
  port: number;
  url: string;
}

export async function e2eWorld(prefix: string): Promise<E2eWorld> {
  const pkg = buildPackage();
  const port = await freePort();
  return {
    pkg,
    bin: path.join(pkg, "bin/floe.js"),
    work: mkdtempSync(path.join(tmpdir(), prefix)),
    port,
    url: `http://127.0.0.1:${port}`,
  };
}

/** Flags that choose the Kafka listener's port: given either, startDev leaves it to the caller. */
const KAFKA_FLAGS = ["--kafka-port", "--no-kafka"];

/** A running `floe dev` and, unless it was started with --no-kafka, where its Kafka listener is. */
export type DevCliProcess = CliProcess & {
  kafka: { host: string; port: number; bootstrap: string } | undefined;
};

/**
 * `floe dev` on the world's port and data directory (the same one across restarts), once ready. Its
 * Kafka listener takes a free port (--kafka-port 0) unless `extra` says otherwise, so e2e files
 * running side by side never fight over 9092; the port it got is read from the banner.
 */
export async function startDev(world: E2eWorld, extra: string[] = []): Promise<DevCliProcess> {
  const kafkaChosen = extra.some((arg) =>
    KAFKA_FLAGS.some((flag) => arg === flag || arg.startsWith(`${flag}=`)),
  );
  const server = new CliProcess(
    world.bin,
    [
      "dev",
      "--port",
      String(world.port),
      "--data-dir",
      "data",
      ...(kafkaChosen ? [] : ["--kafka-port", "0"]),
      ...extra,
    ],
    { cwd: world.work },
  );
  await server.waitForOutput((out) => out.includes("Press Ctrl-C to stop."), "the dev server was ready");
  return Object.assign(server, { kafka: kafkaAddressOf(server.stdout.toString("utf8")) });
}

/** The Kafka listener's address from the banner line `  Kafka protocol: host:port (…)`; undefined when off. */
export function kafkaAddressOf(
  banner: string,
): { host: string; port: number; bootstrap: string } | undefined {
  const match = /Kafka protocol: (\[[^\]]+\]|[^\s:]+):(\d+)/.exec(banner);
  if (!match) return undefined;
  return {
    host: match[1].replace(/^\[|\]$/g, ""),
    port: Number(match[2]),
    bootstrap: `${match[1]}:${match[2]}`,
  };
}

export function removeWorld(world: E2eWorld | undefined): void {
  removeDir(world?.work);
  removeDir(world?.pkg);
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
}

/** Runs `node <bin> args…` to completion, feeding `input` on stdin. */
export function runCli(
  bin: string,
  args: string[],
  options: { input?: string | Buffer; env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<CliResult> {
  const child = spawn(process.execPath, [bin, ...args], {
    cwd: options.cwd,
    env: { ...process.env, FLOE_URL: undefined, FLOE_DEBUG: undefined, ...options.env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  child.stdin.end(options.input ?? "");
  return collect(child);
}

function collect(child: ChildProcess): Promise<CliResult> {
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdout?.on("data", (c: Buffer) => stdout.push(c));
  child.stderr?.on("data", (c: Buffer) => stderr.push(c));
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) =>
      resolve({
        code,
        signal,
        stdout: Buffer.concat(stdout),
        stderr: Buffer.concat(stderr).toString("utf8"),
      }),
    );
  });
}

/**
 * The arguments of the quickstart's read-back: `floe consume` on `topic` from its first offset,
 * stopping after `maxMessages` records; `more` (printing flags, --url) follow them.
 */
export function consumeFromBeginning(topic: string, maxMessages: number, ...more: string[]): string[] {
  return ["consume", "--topic", topic, "--from-beginning", "--max-messages", String(maxMessages), ...more];
}

/** A long-running CLI process (floe dev, a following consumer) whose output can be waited on. */
export class CliProcess {
  readonly child: ChildProcess;
  private stdoutChunks: Buffer[] = [];
  private stderrText = "";
  private readonly waiters = new Set<() => void>();
  readonly exited: Promise<CliResult>;

  /** `nodeArgs` go before `bin`: ["--import", "tsx"] runs src/cli/main.ts from source. */
  constructor(
    bin: string,
    args: string[],
    options: { env?: NodeJS.ProcessEnv; cwd?: string; nodeArgs?: string[] } = {},
  ) {
    this.child = spawn(process.execPath, [...(options.nodeArgs ?? []), bin, ...args], {
      cwd: options.cwd,
      env: { ...process.env, FLOE_URL: undefined, FLOE_DEBUG: undefined, ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child.stdout?.on("data", (c: Buffer) => {
      this.stdoutChunks.push(c);
      this.wake();
    });
    this.child.stderr?.on("data", (c: Buffer) => {
      this.stderrText += c.toString("utf8");
      this.wake();
    });
    this.exited = new Promise((resolve, reject) => {
      this.child.on("error", reject);
      this.child.on("close", (code, signal) => {
        resolve({ code, signal, stdout: this.stdout, stderr: this.stderrText });
        this.wake();
      });
    });
  }

  get stdout(): Buffer {
    return Buffer.concat(this.stdoutChunks);
  }

  get stderr(): string {
    return this.stderrText;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Resolves once stdout satisfies `ready`; rejects if the process exits first. */
  async waitForOutput(ready: (stdout: string) => boolean, what: string): Promise<void> {
    for (;;) {
      if (ready(this.stdout.toString("utf8"))) return;
      if (!this.running) {
        throw new Error(
          `process exited (${this.child.exitCode ?? this.child.signalCode}) before ${what}:\n${this.stdout}${this.stderr}`,
        );
      }
      await new Promise<void>((resolve) => this.waiters.add(resolve));
    }
  }

  private wake(): void {
    for (const resolve of this.waiters) resolve();
    this.waiters.clear();
  }

  /** Sends `signal` and waits for exit; a process that ignores it is killed so no test leaks one. */
  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<CliResult> {
    if (this.running) this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 30_000);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** What a user must never see: a line of a JavaScript stack trace. */
export const STACK_FRAME = /^\s+at .+/m;
