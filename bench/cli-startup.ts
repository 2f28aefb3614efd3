/**
 * How long the `floe` command takes to start: time to its first byte of output and to its exit.
 *
 *   npx tsx bench/cli-startup.ts [--runs 20] [--npx] [--root <package dir>]…
 *   npm run bench:cli -- --runs 30
 *
 * Runs, round-robin so that every command sees the same load on the machine:
 *   node -e ""                                  Node itself, the floor
 *   node bin/floe.js --help                     no server, no client work
 *   node bin/floe.js topics list --url <url>    one request to a running `floe dev --storage memory`
 *   npx floe --help                             only with --npx: npm's own start-up on top
 *
 * bin/floe.js runs dist/ (npm run build first) when it exists. Give --root several times to compare
 * packages side by side, e.g. a worktree of the previous commit (`git worktree add /tmp/before HEAD`,
 * node_modules symlinked, npm run build there) against this one. Prints medians and 90th
 * percentiles in milliseconds, with the machine's load average: a loaded machine is slower.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

const { values: args } = parseArgs({
  options: {
    runs: { type: "string", default: "20" },
    root: { type: "string", multiple: true },
    npx: { type: "boolean", default: false },
  },
});
const RUNS = Number(args.runs);
const ROOTS = (args.root ?? [REPO]).map((root) => path.resolve(root));

interface Case {
  label: string;
  command: string;
  args: string[];
  cwd: string;
}

interface Timing {
  firstOutputMs: number;
  exitMs: number;
}

/** Spawns one command; resolves when it exits, with the time of its first stdout byte. */
function timeOnce(c: Case): Promise<Timing> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    let firstOutputMs = Number.NaN;
    let stderr = "";
    const child = spawn(c.command, c.args, { cwd: c.cwd, stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.on("data", () => {
      if (Number.isNaN(firstOutputMs)) firstOutputMs = performance.now() - start;
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on("error", reject);
    child.on("close", (code) => {
      const exitMs = performance.now() - start;
      if (code !== 0) reject(new Error(`${c.label} exited ${code}: ${stderr.trim()}`));
      else resolve({ firstOutputMs, exitMs });
    });
  });
}

/** `floe dev --storage memory --port 0` from `root`, and the URL it prints once it listens. */
function startServer(root: string): Promise<{ child: ChildProcess; url: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [path.join(root, "bin/floe.js"), "dev", "--storage", "memory", "--port", "0"],
      { cwd: root, stdio: ["ignore", "pipe", "inherit"] },
    );
    let out = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const url = /listening on (http:\/\/\S+)/.exec(out)?.[1];
      if (url) resolve({ child, url });
    });
    child.on("error", reject);
    child.on("exit", (code) => reject(new Error(`floe dev exited ${code} before listening:\n${out}`)));
  });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function summary(values: number[]): string {
  const sorted = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return "-".padStart(15);
  return `${percentile(sorted, 50).toFixed(0).padStart(6)} ${percentile(sorted, 90).toFixed(0).padStart(8)}`;
}

async function main(): Promise<void> {
  for (const root of ROOTS) {
    if (!existsSync(path.join(root, "dist/cli/main.js"))) {
      console.warn(`note: ${root} has no dist/: bin/floe.js will run the source through tsx (npm run build)`);
    }
  }
  const server = await startServer(ROOTS[0]);
  try {
    const bin = (root: string) => path.join(root, "bin/floe.js");
    // A topic, so that `topics list` has a line to print.
    await timeOnce({
      label: "topics create",
      command: process.execPath,
      args: [
        bin(ROOTS[0]),
        "topics",
        "create",
        "--topic",
        "bench-cli",
        "--partitions",
        "1",
        "--url",
        server.url,
      ],
      cwd: ROOTS[0],
    });
    const tag = (root: string) => (ROOTS.length > 1 ? ` [${root}]` : "");
    const cases: Case[] = [{ label: 'node -e ""', command: process.execPath, args: ["-e", ""], cwd: REPO }];
    for (const root of ROOTS) {
      cases.push(
        {
          label: `floe --help${tag(root)}`,
          command: process.execPath,
          args: [bin(root), "--help"],
          cwd: root,
        },
        {
          label: `floe topics list${tag(root)}`,
          command: process.execPath,
          args: [bin(root), "topics", "list", "--url", server.url],
          cwd: root,
        },
      );
      if (args.npx)
        cases.push({
          label: `npx floe --help${tag(root)}`,
          command: "npx",
          args: ["floe", "--help"],
          cwd: root,
        });
    }
    const load = loadavg();
    const results = new Map<Case, Timing[]>(cases.map((c) => [c, []]));
    for (const c of cases) await timeOnce(c); // warm the file cache
    for (let i = 0; i < RUNS; i++) {
      for (const c of cases) results.get(c)?.push(await timeOnce(c));
    }
    const loadAfter = loadavg();
    console.log(
      `floe CLI start-up, ${RUNS} runs each, round-robin; node ${process.version}, ${cpus().length} CPUs; ` +
        `load average ${load.map((l) => l.toFixed(2)).join(" ")} before, ${loadAfter.map((l) => l.toFixed(2)).join(" ")} after`,
    );
    console.log(`${"command".padEnd(48)} first output ms (p50    p90)   exit ms (p50    p90)`);
    for (const [c, timings] of results) {
      console.log(
        `${c.label.padEnd(48)} ${" ".repeat(16)}${summary(timings.map((t) => t.firstOutputMs))} ${" ".repeat(10)}${summary(timings.map((t) => t.exitMs))}`,
      );
    }
  } finally {
    server.child.removeAllListeners("exit");
    server.child.kill("SIGTERM");
  }
}

await main();
