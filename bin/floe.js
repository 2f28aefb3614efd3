#!/usr/bin/env node
// The `floe` command. Runs the compiled CLI (dist/, built by `npm install` through the `prepare`
// script); in a fresh checkout without dist/ it runs the TypeScript source through tsx instead.
import { existsSync } from "node:fs";

const compiled = new URL("../dist/cli/main.js", import.meta.url);
const source = new URL("../src/cli/main.ts", import.meta.url);
const argv = process.argv.slice(2);

async function load() {
  if (existsSync(compiled)) return import(compiled.href);
  if (existsSync(source)) {
    let tsx;
    try {
      tsx = await import("tsx/esm/api");
    } catch {
      return undefined;
    }
    tsx.register();
    return import(source.href);
  }
  return undefined;
}

const cli = await load();
if (!cli) {
  process.stderr.write("floe: dist/cli/main.js is missing: run npm install first (it builds the CLI)\n");
  process.exit(1);
}
await cli.runAsProcess(argv);
