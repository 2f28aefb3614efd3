/**
 * `floe dev` for bench/peer-kafka.ts: the real CLI in a process of its own with the embedded
 * backend in a temp data dir, HTTP API and Kafka listener on free ports. It runs from source
 * (`node --import tsx src/cli/main.ts dev …`), not through bin/floe.js, which prefers dist/ and
 * would measure whatever was last built rather than this checkout. Extra arguments (such as
 * `--log-flush-interval-messages 1`) are passed on unchanged; a server that refuses them at start
 * rejects with a StartRefused carrying its message, so the caller can report the mode as skipped.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ChildServer, type PeerServer, trackForCleanup } from "./peer-server.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const START_TIMEOUT_MS = 60_000;
/** `floe dev` answers in-flight requests and flushes its group commit on SIGTERM; a stuck one is killed. */
const STOP_GRACE_MS = 20_000;

/** `floe dev` exited at start with a usage error (exit code 2), e.g. an option it does not know yet. */
export class StartRefused extends Error {}

export interface FloeDevOptions {
  id: string;
  label: string;
  /** Arguments after `floe dev --storage embedded --data-dir … --port 0 --kafka-port 0`. */
  extraArgs?: string[];
}

/**
 * The Node options bin/floe.js's `#!/usr/bin/env -S node …` line gives every `floe` a user runs, so
 * the server measured here runs as theirs does although it starts from source.
 */
function launcherNodeFlags(): string[] {
  const shebang = readFileSync(path.join(ROOT, "bin/floe.js"), "utf8").split("\n", 1)[0];
  const match = /^#!\/usr\/bin\/env -S node(.*)$/.exec(shebang);
  return match ? match[1].trim().split(/\s+/).filter(Boolean) : [];
}

export class FloeDevProcess extends ChildServer implements PeerServer {
  readonly id: string;
  readonly label: string;
  private ports: { http?: number; kafka?: number } = {};

  private constructor(
    dataDir: string,
    private readonly options: FloeDevOptions,
  ) {
    super(dataDir, STOP_GRACE_MS);
    this.id = options.id;
    this.label = options.label;
  }

  static async start(options: FloeDevOptions): Promise<FloeDevProcess> {
    const server = new FloeDevProcess(mkdtempSync(path.join(tmpdir(), "floe-peer-floe-")), options);
    try {
      await server.launch();
    } catch (e) {
      await server.stop();
      throw e;
    }
    return server;
  }

  get bootstrap(): string {
    return `127.0.0.1:${this.ports.kafka}`;
  }

  get httpUrl(): string {
    return `http://127.0.0.1:${this.ports.http}`;
  }

  get pid(): number {
    if (!this.child?.pid) throw new Error("floe dev is not running");
    return this.child.pid;
  }

  /** Starts the process; on a restart, on the same ports, so clients' bootstrap stays valid. */
  protected async launch(): Promise<void> {
    const child = spawn(
      process.execPath,
      [
        ...launcherNodeFlags(),
        "--import",
        "tsx",
        path.join(ROOT, "src/cli/main.ts"),
        "dev",
        "--storage",
        "embedded",
        "--data-dir",
        this.dir,
        "--port",
        String(this.ports.http ?? 0),
        "--kafka-port",
        String(this.ports.kafka ?? 0),
        ...(this.options.extraArgs ?? []),
      ],
      { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] },
    );
    this.child = child;
    const untrackChild = trackForCleanup({ child });
    child.once("exit", () => untrackChild());
    let out = "";
    let err = "";
    let up = false;
    child.stderr?.on("data", (chunk: Buffer) => {
      err = (err + chunk.toString()).slice(-4000);
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        reject(new Error(`floe dev did not start within ${START_TIMEOUT_MS / 1000} s:\n${out}${err}`));
      }, START_TIMEOUT_MS);
      const onExit = (code: number | null, signal: string | null) => {
        clearTimeout(timer);
        const message = `floe dev ${this.options.extraArgs?.join(" ") ?? ""} exited at start (code ${code}, signal ${signal}): ${err.trim() || out.trim()}`;
        reject(code === 2 ? new StartRefused(message) : new Error(message));
      };
      child.once("exit", onExit);
      child.stdout?.on("data", (chunk: Buffer) => {
        // Read only until it is up: the banner names the ports. Later output is drained and dropped.
        if (up) return;
        out += chunk.toString();
        const http = /listening on http:\/\/[^:\s]+:(\d+)/.exec(out)?.[1];
        const kafka = /Kafka protocol: [^:\s]+:(\d+)/.exec(out)?.[1];
        if (http && kafka && out.includes("Press Ctrl-C")) {
          this.ports = { http: Number(http), kafka: Number(kafka) };
          clearTimeout(timer);
          child.off("exit", onExit);
          up = true;
          resolve();
        }
      });
    });
  }
}
