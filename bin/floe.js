#!/usr/bin/env -S node --initial-heap-size=128
// The `floe` command. Runs the compiled CLI (dist/, built by `npm install` through the `prepare`
// script); in a fresh checkout without dist/ it runs the TypeScript source through tsx instead.
//
// --initial-heap-size=128 (MB): V8 otherwise starts the old generation at a few MB and, under a
// server's load (`floe dev`, `floe agent`), runs a full mark-compact every few MB promoted: 38-39
// of them in 150 MiB produced, a quarter of the server's CPU per MiB (20.5 -> 14.5 ms/MiB with the
// flag, KafkaJS producing, decision 0011). Kafka's start script fixes its heap the same way
// (-Xms1G). It reserves nothing up front; memory is committed as it is used. Node refuses the flag
// in NODE_OPTIONS, hence here, where the OS reads it when `floe` runs as a program.
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
