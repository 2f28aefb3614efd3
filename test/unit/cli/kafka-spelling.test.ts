import { runMain } from "./run-main.js";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseArgs, UsageError } from "../../../src/cli/args.js";
import { dataDirProblem } from "../../../src/cli/dev-command.js";
import { CliError, errorLine } from "../../../src/cli/error-line.js";
import { startupError } from "../../../src/cli/startup-error.js";
import { parseIsoDuration } from "../../../src/cli/groups-command.js";
import { kafkaStyleArgv } from "../../../src/cli/kafka-actions.js";
import { addConfigs, formatDescription } from "../../../src/cli/topics-commands.js";
import { FloeClientError } from "../../../src/client/client-error.js";

/** Nothing listens on port 9: a command that gets as far as the network fails there. */
const NOBODY = ["--bootstrap-server", "127.0.0.1:9"];

const run = runMain;

describe("Kafka's action flags", () => {
  it("turn into Floe's command words wherever they stand", () => {
    expect(kafkaStyleArgv(["topics", "--create", "--topic", "t", "--partitions", "1"])).toEqual([
      "topics",
      "create",
      "--topic",
      "t",
      "--partitions",
      "1",
    ]);
    expect(kafkaStyleArgv(["topics", "--bootstrap-server", "localhost:8092", "--list"])).toEqual([
      "topics",
      "list",
      "--bootstrap-server",
      "localhost:8092",
    ]);
    expect(kafkaStyleArgv(["groups", "--reset-offsets", "--group", "g"])).toEqual([
      "groups",
      "reset-offsets",
      "--group",
      "g",
    ]);
    // Only exact action flags: --delete-config is an option of alter, not the --delete action.
    expect(kafkaStyleArgv(["topics", "--alter", "--delete-config", "x"])).toEqual([
      "topics",
      "alter",
      "--delete-config",
      "x",
    ]);
    expect(kafkaStyleArgv(["topics", "list"])).toEqual(["topics", "list"]);
    expect(kafkaStyleArgv(["produce", "--list"])).toEqual(["produce", "--list"]);
  });

  it("run the same command as the word, errors named after it", async () => {
    const create = await run("topics", "--create", "--partitions", "1", ...NOBODY);
    expect(create).toEqual({
      code: 2,
      stdout: "",
      stderr: "floe topics create: --topic is required (see: floe topics create --help)\n",
    });
    const list = await run("topics", ...NOBODY, "--list");
    expect(list.code).toBe(1);
    expect(list.stderr).toMatch(/^floe topics list: NETWORK_EXCEPTION: /);
    const groups = await run("groups", "--describe", ...NOBODY);
    expect(groups.stderr).toBe(
      "floe groups describe: --group or --all-groups is required (see: floe groups describe --help)\n",
    );
    const help = await run("topics", "--alter", "--help");
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: floe topics alter /);
  });

  it("are named in the group's help", async () => {
    expect((await run("topics", "--help")).stdout).toContain(
      "Kafka's spelling works too: floe topics --create, --list, --describe, --alter, --delete (e.g. floe topics --list).",
    );
    expect((await run("groups", "--help")).stdout).toContain(
      "Kafka's spelling works too: floe groups --list, --describe, --reset-offsets, --delete",
    );
  });

  it("refuse a wrong word in one line that names it, never the usage", async () => {
    const cases: [string[], string][] = [
      [
        ["topics", "--create", "--topic", "t", "--foo"],
        "floe topics create: unknown option --foo (see: floe topics create --help)\n",
      ],
      [
        ["topics", "--list", "--descrbe"],
        "floe topics list: unknown option --descrbe (see: floe topics list --help)\n",
      ],
      [
        ["topics", "--create", "--list"],
        "floe topics: give one action, not --create and --list (see: floe topics --help)\n",
      ],
      [
        ["topics", "--topic", "t"],
        "floe topics: --topic is not a topics action; give one of create, list, describe, alter, delete (or Kafka's --create, --list, --describe, --alter, --delete) (see: floe topics --help)\n",
      ],
      [
        ["groups", "--lst"],
        "floe groups: --lst is not a groups action; give one of list, describe, reset-offsets, delete (or Kafka's --list, --describe, --reset-offsets, --delete) (see: floe groups --help)\n",
      ],
    ];
    for (const [argv, stderr] of cases) {
      const result = await run(...argv);
      expect(result).toEqual({ code: 2, stdout: "", stderr });
    }
  });

  it("refuse Kafka options Floe cannot honour with the reason", async () => {
    const config = await run("topics", "--list", "--command-config", "admin.properties");
    expect(config.code).toBe(2);
    expect(config.stderr).toBe(
      "floe topics list: --command-config is not supported: Floe takes no client properties file; give the server with --url (or FLOE_URL) and sign with --aws-sigv4 (see: floe topics list --help)\n",
    );
    const offsets = await run("groups", "--delete-offsets", "--group", "g", "--topic", "t");
    expect(offsets.code).toBe(2);
    expect(offsets.stderr).toMatch(/^floe groups: --delete-offsets is not supported: .*\n$/);
    const assign = await run("topics", "--create", "--topic", "t", "--replica-assignment", "0:1");
    expect(assign.stderr).toMatch(/^floe topics create: --replica-assignment is not supported: /);
    const exported = await run("groups", "--reset-offsets", "--group", "g", "--export");
    expect(exported.stderr).toMatch(/^floe groups reset-offsets: --export is not supported: /);
  });

  it("accept Kafka options that mean nothing here, with a one-line note each", async () => {
    const create = await run("topics", "--create", "--topic", "t", "--replication-factor", "3", ...NOBODY);
    const [note, error] = create.stderr.trimEnd().split("\n");
    expect(note).toBe(
      "floe topics create: note: --replication-factor is ignored: object storage keeps the replicas",
    );
    expect(error).toMatch(/^floe topics create: NETWORK_EXCEPTION/);
    const list = await run("topics", "--list", "--exclude-internal", ...NOBODY);
    expect(list.stderr.split("\n")[0]).toBe(
      "floe topics list: note: --exclude-internal is ignored: Floe has no internal topics",
    );
    const describe = await run("groups", "--describe", "--group", "g", "--verbose", ...NOBODY);
    expect(describe.stderr.split("\n")[0]).toBe(
      "floe groups describe: note: --verbose is ignored: every column is always shown",
    );
    const views = await run("groups", "--describe", "--group", "g", "--offsets", "--members", ...NOBODY);
    expect(views.code).toBe(2);
    expect(views.stderr).toContain(
      "give one of --offsets, --members or --state, not --offsets and --members",
    );
    const replicas = await run("topics", "--describe", "--under-replicated-partitions", ...NOBODY);
    expect(replicas.code).toBe(0);
    expect(replicas.stdout).toBe("");
  });

  it("check reset-offsets' scope and target before contacting any server", async () => {
    const reset = (...more: string[]) => run("groups", "--reset-offsets", ...more, ...NOBODY);
    expect((await reset("--group", "g", "--to-current")).stderr).toContain(
      "--topic or --all-topics is required",
    );
    expect((await reset("--group", "g", "--all-topics", "--topic", "t", "--to-latest")).stderr).toContain(
      "give --topic or --all-topics, not both",
    );
    expect((await reset("--all-topics", "--to-latest")).stderr).toContain(
      "--group or --all-groups is required",
    );
    const duration = await reset("--group", "g", "--all-topics", "--by-duration", "10m");
    expect(duration.code).toBe(2);
    expect(duration.stderr).toContain(
      '--by-duration must be an ISO-8601 duration such as PT10M, PT1H30M or P1DT12H, got "10m"',
    );
  });
});

describe("Kafka's option values", () => {
  it("reads ISO-8601 durations as Java's Duration.parse does", () => {
    expect(parseIsoDuration("PT10M")).toBe(600_000);
    expect(parseIsoDuration("pt1h30m")).toBe(5_400_000);
    expect(parseIsoDuration("P1DT12H")).toBe(129_600_000);
    expect(parseIsoDuration("P2D")).toBe(172_800_000);
    expect(parseIsoDuration("PT0.5S")).toBe(500);
    for (const bad of ["P", "PT", "10M", "PT10", "P1M", "", "PT-1M"])
      expect(parseIsoDuration(bad)).toBeUndefined();
  });

  it("reads kafka-configs' --add-config lists, brackets and all", () => {
    expect(addConfigs(["retention.ms=1000,cleanup.policy=[compact,delete]", "segment.bytes=10"])).toEqual({
      "retention.ms": "1000",
      "cleanup.policy": "compact,delete",
      "segment.bytes": "10",
    });
    expect(() => addConfigs(["retention.ms"])).toThrow(UsageError);
  });

  it("parses refused options into a one-line reason, whatever their value", () => {
    expect(() => parseArgs(["--x"], { x: { kind: "value", description: "", refusedBecause: "no" } })).toThrow(
      "--x is not supported: no",
    );
  });
});

describe("small outputs", () => {
  it("prints no trailing space after Configs: when there are no overrides", () => {
    const text = formatDescription({
      name: "t",
      topicId: "id",
      partitions: [],
      configOverrides: {},
    } as unknown as Parameters<typeof formatDescription>[0]);
    expect(text).toBe("Topic: t\tTopicId: id\tPartitionCount: 0\tConfigs:\n");
  });

  it("says floe's commands want the HTTP API on 8092 when Kafka's 9092 cannot be reached", () => {
    const refused = new FloeClientError(
      "NETWORK_EXCEPTION",
      "cannot reach Floe at http://localhost:9092: connection refused",
    );
    expect(errorLine("topics list", refused)).toBe(
      "floe topics list: NETWORK_EXCEPTION: cannot reach Floe at http://localhost:9092: connection refused — floe's commands talk to Floe's HTTP API, on 8092 by default; 9092 is the Kafka protocol, for Kafka's own clients and tools",
    );
    const other = new FloeClientError(
      "NETWORK_EXCEPTION",
      "cannot reach Floe at http://h:8092: connection refused",
    );
    expect(errorLine("topics list", other)).toContain("is `floe dev` running?");
  });

  it("says a data dir cannot be written instead of SQLite's words", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "floe-datadir-"));
    try {
      expect(dataDirProblem(path.join(dir, "new/deeper"))).toBeUndefined();
      writeFileSync(path.join(dir, "file"), "");
      expect(dataDirProblem(path.join(dir, "file/data"))).toBe(
        `cannot use the data dir ${path.join(dir, "file/data")}: ${path.join(dir, "file")} is not a directory`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const sqlite = Object.assign(new Error("sqlite open /x/meta.db: unable to open database file"), {
      cause: new Error("unable to open database file"),
    });
    const http = { host: "127.0.0.1", port: 8092, kafka: undefined };
    const translated = startupError(sqlite, http, "/x");
    expect(translated).toBeInstanceOf(CliError);
    expect(errorLine("dev", translated)).toBe("floe dev: cannot write the data dir /x: permission denied");
    const mkdir = Object.assign(new Error("EACCES: permission denied, mkdir '/x'"), {
      code: "EACCES",
      syscall: "mkdir",
    });
    expect(errorLine("dev", startupError(mkdir, http, "/x"))).toBe(
      "floe dev: cannot write the data dir /x: permission denied",
    );
    const listen = Object.assign(new Error("listen EACCES"), { code: "EACCES", syscall: "listen" });
    expect(errorLine("dev", startupError(listen, { ...http, port: 80 }, "/x"))).toContain(
      "not allowed to listen on 127.0.0.1:80",
    );
  });
});
