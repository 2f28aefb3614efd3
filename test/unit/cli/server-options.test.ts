import { createServer, type Server } from "node:net";
import { describe, expect, it } from "vitest";
import { OptionReader, parseArgs, UsageError } from "../../../src/cli/args.js";
import { errorLine } from "../../../src/cli/error-line.js";
import { listenerOptions, readListeners, tryHints } from "../../../src/cli/server-options.js";
import { startupError } from "../../../src/cli/startup-error.js";
import { runMain, runMainWithEnv } from "./run-main.js";

function listeners(...argv: string[]) {
  return readListeners(new OptionReader(parseArgs(argv, listenerOptions("127.0.0.1"))), "127.0.0.1");
}

function usageError(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
  throw new Error("expected a UsageError");
}

/** A port something else holds, as a Kafka broker would hold 9092. */
async function takenPort(): Promise<{ port: number; server: Server }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { port: (server.address() as { port: number }).port, server };
}

describe("the listeners of floe dev and floe agent", () => {
  it("serve the HTTP API on 8092 and the Kafka protocol on Kafka's 9092, both on 127.0.0.1, by default", () => {
    expect(listeners()).toEqual({
      port: 8092,
      host: "127.0.0.1",
      kafka: { port: 9092, host: "127.0.0.1", advertisedHost: undefined },
    });
  });

  it("put the Kafka listener on --host unless --kafka-host says otherwise, and advertise --advertised-host", () => {
    expect(listeners("--host", "0.0.0.0", "--kafka-port", "0", "--advertised-host", "agent-1").kafka).toEqual(
      {
        port: 0,
        host: "0.0.0.0",
        advertisedHost: "agent-1",
      },
    );
    expect(listeners("--host", "0.0.0.0", "--kafka-host", "10.0.0.5").kafka?.host).toBe("10.0.0.5");
  });

  it("turn the Kafka protocol off with --no-kafka, which no Kafka flag may accompany", () => {
    expect(listeners("--no-kafka").kafka).toBeUndefined();
    expect(usageError(() => listeners("--no-kafka", "--kafka-port", "9093"))).toBe(
      "--no-kafka cannot be combined with --kafka-port",
    );
    expect(usageError(() => listeners("--no-kafka", "--advertised-host", "h"))).toBe(
      "--no-kafka cannot be combined with --advertised-host",
    );
  });

  it("refuse one port for both protocols, a port past 65535 and an advertised address clients cannot use", () => {
    expect(usageError(() => listeners("--port", "9000", "--kafka-port", "9000"))).toBe(
      "--port and --kafka-port are both 9000: the HTTP API and the Kafka protocol need a port each",
    );
    // Port 0 twice is two free ports.
    expect(listeners("--port", "0", "--kafka-port", "0").kafka?.port).toBe(0);
    expect(usageError(() => listeners("--kafka-port", "70000"))).toBe(
      "--kafka-port must be at most 65535, got 70000",
    );
    expect(usageError(() => listeners("--kafka-port", "-1"))).toBe(
      '--kafka-port must be an integer >= 0, got "-1"',
    );
    expect(usageError(() => listeners("--advertised-host", "0.0.0.0"))).toBe(
      '--advertised-host must be an address Kafka clients can reach, got "0.0.0.0"',
    );
    expect(usageError(() => listeners("--advertised-host", "agent-1:9092"))).toBe(
      '--advertised-host takes a host without a port (clients are told --kafka-port), got "agent-1:9092"',
    );
    expect(listeners("--advertised-host", "::1").kafka?.advertisedHost).toBe("::1");
  });
});

describe("start-up failures", () => {
  const both = { host: "127.0.0.1", port: 8092, kafka: { host: "127.0.0.1", port: 9092 } };
  const inUse = (port: number) =>
    Object.assign(new Error(`listen EADDRINUSE: address already in use 127.0.0.1:${port}`), {
      code: "EADDRINUSE",
      syscall: "listen",
      address: "127.0.0.1",
      port,
    });

  it("name the flag that moves whichever port was taken", () => {
    expect(errorLine("dev", startupError(inUse(9092), both))).toBe(
      "floe dev: Kafka port 9092 on 127.0.0.1 is already in use (a Kafka broker, or another floe dev?); pick one with --kafka-port, or run without the Kafka protocol with --no-kafka (see: floe dev --help)",
    );
    expect(errorLine("dev", startupError(inUse(8092), both))).toBe(
      "floe dev: port 8092 on 127.0.0.1 is already in use (another floe dev?); pick one with --port (see: floe dev --help)",
    );
    const denied = Object.assign(new Error("listen EACCES"), {
      code: "EACCES",
      syscall: "listen",
      address: "127.0.0.1",
      port: 92,
    });
    expect(
      errorLine("agent", startupError(denied, { ...both, kafka: { host: "127.0.0.1", port: 92 } })),
    ).toBe(
      "floe agent: not allowed to listen on 127.0.0.1:92; try a --kafka-port above 1024 (see: floe agent --help)",
    );
  });

  it("a Kafka port already taken is one line naming --kafka-port", async () => {
    const { port, server } = await takenPort();
    try {
      const result = await runMain("dev", "--storage", "memory", "--port", "0", "--kafka-port", String(port));
      expect(result.code).toBe(2);
      expect(result.stdout).toBe("");
      expect(result.stderr).toBe(
        `floe dev: Kafka port ${port} on 127.0.0.1 is already in use (a Kafka broker, or another floe dev?); pick one with --kafka-port, or run without the Kafka protocol with --no-kafka (see: floe dev --help)\n`,
      );
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe("floe agent", () => {
  it("needs an --advertised-host to listen on every address, as Kafka does", async () => {
    const result = await runMainWithEnv({ FLOE_BUCKET: "b", FLOE_TABLE: "t" }, "agent", "--host", "0.0.0.0");
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      "floe agent: --advertised-host is needed when the Kafka protocol listens on 0.0.0.0: it is the address Kafka clients are told to connect to (see: floe agent --help)\n",
    );
  });

  it("names the bucket and table it needs before touching AWS", async () => {
    const result = await runMainWithEnv({ FLOE_TABLE: "t" }, "agent", "--port", "0", "--kafka-port", "0");
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      "floe agent: set FLOE_BUCKET: the S3 bucket and DynamoDB table the agents share (a deployed stack's BucketName and TableName outputs)\n",
    );
  });
});

describe("help and hints", () => {
  it("floe --help lists floe agent; floe dev --help and floe agent --help list the Kafka flags", async () => {
    expect((await runMain("--help")).stdout).toMatch(
      /\n {2}agent +Run a stateless agent: the Kafka protocol/,
    );
    for (const command of ["dev", "agent"]) {
      const help = await runMain(command, "--help");
      expect(help.code).toBe(0);
      for (const flag of [
        "--kafka-port <n>",
        "--kafka-host <address>",
        "--advertised-host <host>",
        "--no-kafka",
      ]) {
        expect(help.stdout).toContain(flag);
      }
    }
    expect((await runMain("dev", "--help")).stdout).toContain(
      "Kafka protocol port, for Kafka's clients and tools (default 9092",
    );
  });

  it("the hint after start-up shows a Kafka tool aimed at the Kafka listener when it is on", () => {
    const server = { url: "http://127.0.0.1:8092", port: 8092 };
    const kafka = { host: "127.0.0.1", port: 9092, bootstrap: "127.0.0.1:9092" };
    expect(tryHints({ ...server, kafka })).toBe(
      "  try: floe topics create --topic quickstart --partitions 1\n" +
        "       kafka-console-producer.sh --bootstrap-server 127.0.0.1:9092 --topic quickstart\n",
    );
    expect(tryHints({ ...server, kafka: { ...kafka, host: "0.0.0.0" } })).toContain(
      "--bootstrap-server 127.0.0.1:9092 ",
    );
    expect(tryHints({ ...server, kafka }, "agent-1.internal")).toContain(
      "--bootstrap-server agent-1.internal:9092 ",
    );
    expect(tryHints({ url: "http://127.0.0.1:9000", port: 9000 })).toBe(
      "  try: floe topics create --topic quickstart --partitions 1 --url http://127.0.0.1:9000\n",
    );
  });
});
