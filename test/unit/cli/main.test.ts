import { runMain } from "./run-main.js";
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

  it("asks for options after the command", async () => {
    const result = await run("--url", "http://x", "topics", "list");
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("options go after the command");
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
