/**
 * Produce throughput and ack latency of `floe dev` over HTTP, with group commit:
 *
 *   npx tsx bench/dev-produce.ts [--seconds 10] [--clients 16] [--records 10] [--bytes 1024]
 *     [--partitions 8] [--linger-ms 5]
 *
 * Starts floe dev as a child process (embedded backend, temp data dir), runs N concurrent HTTP
 * clients each sending requests of R records of B bytes back to back, then stops the server with
 * SIGTERM and reads the group committer's closing note for the objects and commits it made.
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const { values: args } = parseArgs({
  options: {
    seconds: { type: "string", default: "10" },
    clients: { type: "string", default: "16" },
    records: { type: "string", default: "10" },
    bytes: { type: "string", default: "1024" },
    partitions: { type: "string", default: "8" },
    "linger-ms": { type: "string", default: "5" },
  },
});
const SECONDS = Number(args.seconds);
const CLIENTS = Number(args.clients);
const RECORDS = Number(args.records);
const BYTES = Number(args.bytes);
const PARTITIONS = Number(args.partitions);
const LINGER_MS = Number(args["linger-ms"]);

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function randomText(n: number): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  let s = "";
  for (let i = 0; i < n; i++) s += alphabet[Math.floor(Math.random() * alphabet.length)];
  return s;
}

async function main(): Promise<void> {
  const dataDir = await mkdtemp(path.join(tmpdir(), "floe-bench-"));
  const child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      "src/server/main.ts",
      "--port",
      "0",
      "--storage",
      "embedded",
      "--data-dir",
      dataDir,
      "--linger-ms",
      String(LINGER_MS),
    ],
    { cwd: ROOT, env: { ...process.env, POWERTOOLS_LOG_LEVEL: "ERROR" }, stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  child.stdout.on("data", (c: Buffer) => (output += c.toString()));
  child.stderr.on("data", (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const poll = setInterval(() => {
        const m = /listening on (http:\/\/\S+)/.exec(output);
        if (m) {
          clearInterval(poll);
          resolve(m[1]);
        }
      }, 20);
      exited.then(() => {
        clearInterval(poll);
        reject(new Error(`floe dev exited early:\n${output}`));
      });
    });

    const topic = "bench";
    const created = await fetch(`${url}/v1/topics`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: topic, partitions: PARTITIONS }),
    });
    if (created.status !== 201) throw new Error(`create topic: ${created.status} ${await created.text()}`);

    // Distinct payloads per client, built once: the clients measure the server, not JSON.stringify.
    const bodies = Array.from({ length: CLIENTS }, () =>
      JSON.stringify({ records: Array.from({ length: RECORDS }, () => ({ value: randomText(BYTES) })) }),
    );
    const latencies: number[] = [];
    let failures = 0;
    const started = performance.now();
    const deadline = started + SECONDS * 1000;
    await Promise.all(
      bodies.map(async (body) => {
        while (performance.now() < deadline) {
          const t0 = performance.now();
          const res = await fetch(`${url}/v1/topics/${topic}/records?encoding=string`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body,
          });
          await res.arrayBuffer();
          if (res.status === 200) latencies.push(performance.now() - t0);
          else failures++;
        }
      }),
    );
    const elapsed = (performance.now() - started) / 1000;

    child.kill("SIGTERM");
    const code = await exited;
    const note = /(\d+) produce requests group-committed as (\d+) commits, (\d+) objects/.exec(output);
    latencies.sort((a, b) => a - b);
    const requests = latencies.length;
    const records = requests * RECORDS;
    const result = {
      setup: {
        clients: CLIENTS,
        recordsPerRequest: RECORDS,
        recordBytes: BYTES,
        partitions: PARTITIONS,
        lingerMs: LINGER_MS,
        seconds: Number(elapsed.toFixed(2)),
      },
      acknowledged: { requests, records, failures },
      recordsPerSecond: Math.round(records / elapsed),
      megabytesPerSecond: Number(((records * BYTES) / elapsed / 1e6).toFixed(2)),
      ackLatencyMs: {
        p50: Number(percentile(latencies, 50).toFixed(1)),
        p99: Number(percentile(latencies, 99).toFixed(1)),
        max: Number((latencies.at(-1) ?? Number.NaN).toFixed(1)),
      },
      groupCommit: note
        ? {
            requests: Number(note[1]),
            commits: Number(note[2]),
            objects: Number(note[3]),
            requestsPerCommit: Number((Number(note[1]) / Number(note[2])).toFixed(1)),
          }
        : "closing note not found",
      serverExit: code,
    };
    console.log(JSON.stringify(result, null, 2));
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await exited;
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
