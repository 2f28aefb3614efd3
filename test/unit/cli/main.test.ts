import { globalOptionsAfterCommand } from "../../../src/cli/main.js";
import { runMain, runMainWithEnv } from "./run-main.js";
import { describe, expect, it } from "vitest";

const run = runMain;

describe("floe command routing", () => {
  it("prints the command list with no arguments, --help or help", async () => {
    for (const argv of [[], ["--help"], ["-h"], ["help"]]) {
      const result = await run(...argv);
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/^Usage: floe <command> \[options\]/);
      expect(result.stdout).toContain("topics create");
    }
  });

  it("prints a command's help through `floe help <command>` too", async () => {
    const result = await run("help", "topics", "create");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Usage: floe topics create --topic <name>/);
  });

  it("lists a group's subcommands on stderr with exit 2 when the subcommand is missing", async () => {
    const result = await run("topics");
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(/^Usage: floe topics <command>/);
  });

  it("rejects an unknown command in one line", async () => {
    const result = await run("topcis", "list");
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      'floe topcis list: unknown command "topcis list"; run floe --help for the list (see: floe topcis list --help)\n',
    );
  });

  it("rejects an unexpected positional argument", async () => {
    const result = await run("topics", "list", "extra");
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      'floe topics list: unexpected argument "extra" (see: floe topics list --help)\n',
    );
  });

  it("asks for a command's own options after the command", async () => {
    const result = await run("--topic", "t", "topics", "create");
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      "floe: --topic goes after the command (only --url, --bootstrap-server, --aws-sigv4 may come before it), e.g. floe topics list --topic … (see: floe --help)\n",
    );
  });

  it("validates --url typed before the command as it does after it (issue 13)", async () => {
    for (const argv of [
      ["--url", "", "topics", "list"],
      ["topics", "list", "--url", ""],
      ["--url=", "topics", "list"],
      ["topics", "list", "--url=  "],
    ]) {
      const result = await run(...argv);
      expect(result.code, argv.join(" ")).toBe(2);
      expect(result.stdout).toBe("");
      expect(result.stderr).toBe(
        "floe topics list: --url is empty: give the server's URL (e.g. http://127.0.0.1:8092), or leave --url out for that default (see: floe topics list --help)\n",
      );
    }
    for (const argv of [
      ["--url", "ftp://x", "topics", "list"],
      ["topics", "list", "--url", "ftp://x"],
    ]) {
      const result = await run(...argv);
      expect(result.code, argv.join(" ")).toBe(2);
      expect(result.stderr).toBe(
        'floe topics list: --url "ftp://x" is not an http:// or https:// URL (see: floe topics list --help)\n',
      );
    }
  });

  it("refuses an empty FLOE_URL and an empty --bootstrap-server before any command runs (issue 13)", async () => {
    const empty = await runMainWithEnv({ FLOE_URL: "" }, "topics", "list");
    expect(empty.code).toBe(2);
    expect(empty.stderr).toBe(
      "floe topics list: FLOE_URL is set but empty: set it to the server's URL (e.g. http://127.0.0.1:8092) or unset it (see: floe topics list --help)\n",
    );
    // produce reads stdin only after the check: it fails at once, with nothing read or sent.
    const produce = await runMainWithEnv({ FLOE_URL: " " }, "produce", "--topic", "t");
    expect(produce.code).toBe(2);
    expect(produce.stderr).toContain("FLOE_URL is set but empty");
    const bootstrap = await run("--bootstrap-server", "", "topics", "--list");
    expect(bootstrap.code).toBe(2);
    expect(bootstrap.stderr).toContain("floe topics list: --bootstrap-server is empty");
  });

  it("takes --url, --bootstrap-server and --aws-sigv4 before the command, Kafka's action flags included", () => {
    expect(globalOptionsAfterCommand(["--url", "http://x", "topics", "list"])).toEqual([
      "topics",
      "list",
      "--url",
      "http://x",
    ]);
    expect(
      globalOptionsAfterCommand([
        "--aws-sigv4",
        "--url=http://x",
        "produce",
        "--topic",
        "t",
        "--url",
        "http://y",
      ]),
    ).toEqual(["produce", "--aws-sigv4", "--url=http://x", "--topic", "t", "--url", "http://y"]);
    expect(globalOptionsAfterCommand(["--bootstrap-server", "h:1", "topics", "--list"])).toEqual([
      "topics",
      "--bootstrap-server",
      "h:1",
      "--list",
    ]);
    expect(globalOptionsAfterCommand(["topics", "list", "--url", "http://x"])).toEqual([
      "topics",
      "list",
      "--url",
      "http://x",
    ]);
    expect(globalOptionsAfterCommand(["--url", "http://x", "--help"])).toEqual([
      "--help",
      "--url",
      "http://x",
    ]);
  });

  it("needs a command after the connection options, and keeps --help working after them", async () => {
    const lone = await run("--url", "http://x");
    expect(lone.code).toBe(2);
    expect(lone.stderr).toBe(
      "floe: --url needs a command, e.g. floe --url … topics list (see: floe --help)\n",
    );
    const help = await run("--url", "http://x", "topics", "list", "--help");
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: floe topics list/);
    expect((await run("--url", "http://x", "--help")).stdout).toMatch(/^Usage: floe <command>/);
  });

  it("refuses --url before a command that takes none, as it does after", async () => {
    const before = await run("--url", "http://x", "dev");
    const after = await run("dev", "--url", "http://x");
    expect(before.code).toBe(2);
    expect(before.stderr).toBe(after.stderr);
    expect(before.stderr).toContain("unknown option --url");
  });

  it("prints the package version", async () => {
    const result = await run("--version");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^\d+\.\d+\.\d+/);
  });

  it("refuses group commands missing their group or reset target before contacting any server", async () => {
    const url = ["--url", "http://127.0.0.1:9"];
    expect((await run("groups", "describe", ...url)).stderr).toBe(
      "floe groups describe: --group or --all-groups is required (see: floe groups describe --help)\n",
    );
    const reset = await run("groups", "reset-offsets", "--group", "g", "--topic", "t", ...url);
    expect(reset.code).toBe(2);
    expect(reset.stderr).toContain("give exactly one of --to-earliest, --to-latest");
    const both = await run("consume", "--topic", "t", "--group", "g", "--partition", "0", ...url);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain("--group cannot be combined with --partition or --offset");
  });

  it("refuses --offset without --partition before contacting any server", async () => {
    const result = await run("consume", "--topic", "t", "--offset", "3", "--url", "http://127.0.0.1:9");
    expect(result.code).toBe(2);
    expect(result.stderr).toBe("floe consume: --offset needs --partition (see: floe consume --help)\n");
  });
});
