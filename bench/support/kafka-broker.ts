/**
 * A real Apache Kafka broker for bench/peer-kafka.ts: one KRaft node (broker and controller in one
 * process, as Kafka's config/server.properties sets it up) from the jars pinned in
 * peers/kafka-broker/pom.xml, on free ports of 127.0.0.1, its log directory in a temp dir formatted
 * first as `kafka-storage.sh format --standalone` does. The JVM gets what kafka-server-start.sh and
 * kafka-run-class.sh give it: a 1 GiB heap (-Xmx1G -Xms1G) and KAFKA_JVM_PERFORMANCE_OPTS (G1 with
 * 20 ms pauses). Everything else is Kafka's default, flushing included (log.flush.interval.messages
 * and log.flush.interval.ms unset: the OS page cache decides when bytes reach the disk), unless
 * `flushEveryMessage` asks for log.flush.interval.messages=1 (an fsync per append).
 *
 * The first start asks Maven for the classpath (~10 s when the jars are not yet in ~/.m2) and keeps
 * it in peers/kafka-broker/target/classpath.txt, resolved again when pom.xml is newer or a jar is
 * gone, as scripts/kafka-tool.sh does for the tools.
 */
import { execFile, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs, promisify } from "node:util";
import { ChildServer, cleanUpNow, freePort, type PeerServer, trackForCleanup } from "./peer-server.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const PEER = path.join(ROOT, "peers/kafka-broker");
const CLASSPATH_FILE = path.join(PEER, "target/classpath.txt");
const run = promisify(execFile);

/** The release in peers/kafka-broker/pom.xml, for the report. */
export const KAFKA_VERSION = "4.4.0";
const MIN_JAVA = 17;
const START_TIMEOUT_MS = 120_000;
/** Kafka's controlled shutdown of a single node takes a second or two; a stuck one is killed. */
const STOP_GRACE_MS = 30_000;

/** kafka-server-start.sh's heap and kafka-run-class.sh's KAFKA_JVM_PERFORMANCE_OPTS. */
const JVM_OPTIONS = [
  "-Xmx1G",
  "-Xms1G",
  "-server",
  "-XX:+UseG1GC",
  "-XX:MaxGCPauseMillis=20",
  "-XX:InitiatingHeapOccupancyPercent=35",
  "-XX:+ExplicitGCInvokesConcurrent",
  "-Djava.awt.headless=true",
];

/**
 * Why the broker cannot run here (no java, a Java older than 17, no mvn), or undefined when it can.
 * The version string is returned too, for the report.
 */
export async function kafkaPrerequisites(): Promise<{ missing?: string; java?: string }> {
  let java: string;
  try {
    const { stdout, stderr } = await run("java", ["-version"]);
    java = `${stderr}${stdout}`.split("\n")[0].trim();
  } catch (e) {
    return {
      missing: `no working \`java\` on PATH (${(e as Error).message.split("\n")[0]}); Kafka needs Java ${MIN_JAVA}+`,
    };
  }
  const match = /version "(\d+)(?:\.(\d+))?/.exec(java);
  const major = match ? (match[1] === "1" ? Number(match[2]) : Number(match[1])) : Number.NaN;
  if (!(major >= MIN_JAVA))
    return { missing: `found ${java}; Kafka ${KAFKA_VERSION} needs Java ${MIN_JAVA}+`, java };
  if (!existsSync(CLASSPATH_FILE)) {
    try {
      await run("mvn", ["-v"]);
    } catch {
      return { missing: "no `mvn` (Apache Maven) on PATH to fetch Kafka's jars from Maven Central", java };
    }
  }
  return { java };
}

/** The broker's classpath: the cached one while it is valid, else resolved by Maven (and cached). */
export async function kafkaClasspath(): Promise<string> {
  if (
    existsSync(CLASSPATH_FILE) &&
    statSync(CLASSPATH_FILE).mtimeMs >= statSync(path.join(PEER, "pom.xml")).mtimeMs
  ) {
    const cached = (await readFile(CLASSPATH_FILE, "utf8")).trim();
    if (cached !== "" && cached.split(":").every((jar) => existsSync(jar))) return cached;
  }
  await mkdir(path.dirname(CLASSPATH_FILE), { recursive: true });
  // A file of its own per run, moved into place whole, so two first runs at once never read half a file.
  const tmp = `${CLASSPATH_FILE}.${process.pid}`;
  try {
    await run(
      "mvn",
      ["-q", "-B", "-Dstyle.color=never", "dependency:build-classpath", `-Dmdep.outputFile=${tmp}`],
      { cwd: PEER, maxBuffer: 16 * 1024 * 1024 },
    );
  } catch (e) {
    await rm(tmp, { force: true });
    const out = e as { stdout?: string; stderr?: string; message: string };
    throw new Error(
      `mvn could not resolve peers/kafka-broker/pom.xml:\n${out.stdout ?? ""}${out.stderr ?? out.message}`,
    );
  }
  await rename(tmp, CLASSPATH_FILE);
  return (await readFile(CLASSPATH_FILE, "utf8")).trim();
}

export interface KafkaBrokerOptions {
  /** log.flush.interval.messages=1: fsync the log after every append (Kafka's default: never forced). */
  flushEveryMessage?: boolean;
  /** num.partitions for auto-created topics (the bench creates its topics with their count). */
  partitions?: number;
  id?: string;
}

/**
 * Kafka's config/server.properties for a combined KRaft node, with this run's ports and log dir:
 * replication factors 1 for the internal topics (one broker) and no initial rebalance delay, so a
 * consumer group starts reading at once, as Kafka's sample config does for a single node.
 */
function serverProperties(
  dir: string,
  port: number,
  controllerPort: number,
  options: KafkaBrokerOptions,
): string {
  const props: Record<string, string | number> = {
    "process.roles": "broker,controller",
    "node.id": 1,
    "controller.quorum.bootstrap.servers": `127.0.0.1:${controllerPort}`,
    listeners: `PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    "advertised.listeners": `PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    "inter.broker.listener.name": "PLAINTEXT",
    "controller.listener.names": "CONTROLLER",
    "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
    "log.dirs": path.join(dir, "kraft-combined-logs"),
    "num.partitions": options.partitions ?? 1,
    "offsets.topic.replication.factor": 1,
    "share.coordinator.state.topic.replication.factor": 1,
    "share.coordinator.state.topic.min.isr": 1,
    "transaction.state.log.replication.factor": 1,
    "transaction.state.log.min.isr": 1,
    "group.initial.rebalance.delay.ms": 0,
  };
  if (options.flushEveryMessage) props["log.flush.interval.messages"] = 1;
  return `${Object.entries(props)
    .map(([k, v]) => `${k}=${v}`)
    .join("\n")}\n`;
}

export class KafkaBroker extends ChildServer implements PeerServer {
  readonly id: string;
  readonly label: string;

  private constructor(
    private readonly classpath: string,
    dir: string,
    private readonly port: number,
    options: KafkaBrokerOptions,
  ) {
    super(dir, STOP_GRACE_MS);
    this.id = options.id ?? (options.flushEveryMessage ? "kafka-fsync" : "kafka");
    this.label = `Apache Kafka ${KAFKA_VERSION} (KRaft, 1 node)${options.flushEveryMessage ? ", log.flush.interval.messages=1" : ", default flushing (page cache)"}`;
  }

  /** Formats a fresh log directory and starts the broker on it; resolves once it serves clients. */
  static async start(options: KafkaBrokerOptions = {}): Promise<KafkaBroker> {
    const classpath = await kafkaClasspath();
    const dir = mkdtempSync(path.join(tmpdir(), "floe-peer-kafka-"));
    const untrackDir = trackForCleanup({ dir });
    try {
      const [port, controllerPort] = [await freePort(), await freePort()];
      const config = path.join(dir, "server.properties");
      await writeFile(config, serverProperties(dir, port, controllerPort, options));
      const clusterId = (await java(classpath, "kafka.tools.StorageTool", ["random-uuid"])).trim();
      await java(classpath, "kafka.tools.StorageTool", [
        "format",
        "--config",
        config,
        "--cluster-id",
        clusterId,
        "--standalone",
      ]);
      const broker = new KafkaBroker(classpath, dir, port, options);
      untrackDir();
      await broker.launch();
      return broker;
    } catch (e) {
      rmSync(dir, { recursive: true, force: true });
      untrackDir();
      throw e;
    }
  }

  get bootstrap(): string {
    return `127.0.0.1:${this.port}`;
  }

  get pid(): number {
    if (!this.child?.pid) throw new Error("the Kafka broker is not running");
    return this.child.pid;
  }

  protected async launch(): Promise<void> {
    const child = spawn(
      "java",
      [
        ...JVM_OPTIONS,
        `-Dlog4j2.configurationFile=${path.join(PEER, "log4j2.properties")}`,
        "-cp",
        this.classpath,
        "kafka.Kafka",
        path.join(this.dir, "server.properties"),
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    this.child = child;
    const untrackChild = trackForCleanup({ child });
    child.once("exit", () => untrackChild());
    let output = "";
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-8000);
    };
    child.stderr?.on("data", keep);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        reject(new Error(`Kafka did not start within ${START_TIMEOUT_MS / 1000} s:\n${output}`));
      }, START_TIMEOUT_MS);
      const onExit = (code: number | null, signal: string | null) => {
        clearTimeout(timer);
        reject(new Error(`Kafka exited while starting (code ${code}, signal ${signal}):\n${output}`));
      };
      child.once("error", (e) => {
        clearTimeout(timer);
        reject(new Error(`java did not start: ${e.message}`));
      });
      child.once("exit", onExit);
      child.stdout?.on("data", (chunk: Buffer) => {
        keep(chunk);
        // The INFO line peers/kafka-broker/log4j2.properties lets through: KafkaRaftServer is up.
        if (output.includes("Kafka Server started")) {
          clearTimeout(timer);
          child.off("exit", onExit);
          resolve();
        }
      });
    });
  }
}

/** Runs a main class of the broker's jars to completion; its stdout. */
async function java(classpath: string, main: string, args: string[]): Promise<string> {
  const { stdout } = await run(
    "java",
    [
      "-Xmx256M",
      `-Dlog4j2.configurationFile=${path.join(PEER, "log4j2.properties")}`,
      "-cp",
      classpath,
      main,
      ...args,
    ],
    { maxBuffer: 16 * 1024 * 1024 },
  );
  return stdout;
}

/**
 * `scripts/kafka-broker.sh [--partitions <n>] [--flush-every-message]`: one broker in
 * the foreground, for trying a client or a tool against real Kafka by hand; Ctrl-C stops it and
 * removes its files.
 */
async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      partitions: { type: "string", default: "1" },
      "flush-every-message": { type: "boolean", default: false },
    },
    strict: true,
  });
  const prerequisites = await kafkaPrerequisites();
  if (prerequisites.missing) {
    console.error(`kafka-broker: ${prerequisites.missing}`);
    process.exit(1);
  }
  // The last resort if this process dies another way: no JVM or temp dir left behind.
  process.once("exit", cleanUpNow);
  const broker = await KafkaBroker.start({
    partitions: Number(values.partitions),
    flushEveryMessage: values["flush-every-message"],
  });
  console.log(
    `${broker.label}: --bootstrap-server ${broker.bootstrap} (pid ${broker.pid}). Ctrl-C stops it.`,
  );
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  await broker.stop();
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main(process.argv.slice(2));
}
