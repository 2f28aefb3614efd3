import { cpSync, mkdirSync, mkdtempSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { REPO, removeDir, runCli, STACK_FRAME } from "./cli-process.js";

/** bin/floe.js in a checkout where `npm install` has not built dist/ (or has not run at all). */
describe("bin/floe.js without dist/", () => {
  let root: string | undefined;
  afterEach(() => removeDir(root));

  function checkout(withNodeModules: boolean): string {
    root = mkdtempSync(path.join(tmpdir(), "floe-e2e-shim-"));
    mkdirSync(path.join(root, "bin"));
    cpSync(path.join(REPO, "bin/floe.js"), path.join(root, "bin/floe.js"));
    cpSync(path.join(REPO, "package.json"), path.join(root, "package.json"));
    symlinkSync(path.join(REPO, "src"), path.join(root, "src"), "dir");
    if (withNodeModules) symlinkSync(path.join(REPO, "node_modules"), path.join(root, "node_modules"), "dir");
    return path.join(root, "bin/floe.js");
  }

  it("runs the TypeScript source through tsx when it is installed", async () => {
    const result = await runCli(checkout(true), ["topics", "--help"]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout.toString()).toMatch(/^Usage: floe topics <command>/);
  });

  it("says to run npm install, in one line, when nothing is installed", async () => {
    const result = await runCli(checkout(false), ["topics", "list"]);
    expect(result.code).toBe(1);
    expect(result.stderr).not.toMatch(STACK_FRAME);
    expect(result.stderr).toBe(
      "floe: dist/cli/main.js is missing: run npm install first (it builds the CLI)\n",
    );
  });
});
