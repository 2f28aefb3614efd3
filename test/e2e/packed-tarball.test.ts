import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildPackage, CliProcess, freePort, REPO, removeDir, runCli } from "./cli-process.js";

/**
 * The package as another project gets it: `npm pack`, then `npm ci` of the tarball into a
 * throwaway project, offline, then `import { Floe } from "floe/client"` in plain Node against the
 * installed package's own `floe dev --storage memory`.
 *
 * The tarball is packed from a copy laid out as the repository (package.json, README.md, bin/, and
 * a dist/ compiled into a temporary directory, what `prepare` builds), so the test never races
 * another build of the repository's dist/. `npm pack` picks the files by package.json's "files",
 * as it does in the repository.
 *
 * Offline: npm's cache holds the dependency tarballs `npm ci` fetched for this repository, but not
 * the registry's metadata documents, so `npm install <tgz> --offline` cannot resolve version ranges.
 * The throwaway project therefore gets a lockfile naming the tarball and, for its dependencies,
 * the very entries of this repository's package-lock.json; `npm ci --offline` then installs from
 * the cache alone. `--ignore-scripts` skips better-sqlite3's native build (a prebuilt binary
 * download, or two minutes of compiling when offline): only `floe dev`'s embedded backend uses it.
 */
let pkg: string;
let work: string;
let tarball: string;
let files: string[];
let app: string;
let dev: CliProcess | undefined;
let url: string;

const NPM_ENV = { ...process.env, npm_config_update_notifier: "false", npm_config_fund: "false" };

function npm(args: string[], cwd: string): string {
  const run = spawnSync("npm", args, { cwd, encoding: "utf8", env: NPM_ENV });
  if (run.status !== 0) {
    throw new Error(`npm ${args.join(" ")} failed (exit ${run.status}):\n${run.stdout}${run.stderr}`);
  }
  return run.stdout;
}

/** A project depending on `file:<tarball>`, locked to the repository's dependency versions. */
function throwawayProject(dir: string, tgz: string): void {
  const manifest = JSON.parse(readFileSync(path.join(REPO, "package.json"), "utf8"));
  const repoLock = JSON.parse(readFileSync(path.join(REPO, "package-lock.json"), "utf8"));
  const spec = `file:${path.relative(dir, tgz)}`;
  const integrity = `sha512-${createHash("sha512").update(readFileSync(tgz)).digest("base64")}`;
  const packages: Record<string, unknown> = {
    "": { name: "floe-consumer", version: "1.0.0", dependencies: { floe: spec } },
    "node_modules/floe": {
      version: manifest.version,
      resolved: spec,
      integrity,
      license: manifest.license,
      dependencies: manifest.dependencies,
      peerDependencies: manifest.peerDependencies,
      peerDependenciesMeta: manifest.peerDependenciesMeta,
      bin: manifest.bin,
      engines: manifest.engines,
    },
  };
  // The repository's production closure: every locked package not marked dev-only.
  for (const [where, entry] of Object.entries(repoLock.packages as Record<string, { dev?: boolean }>)) {
    if (where !== "" && !entry.dev) packages[where] = entry;
  }
  writeFileSync(
    path.join(dir, "package.json"),
    `${JSON.stringify({ name: "floe-consumer", version: "1.0.0", private: true, type: "module", dependencies: { floe: spec } }, null, 2)}\n`,
  );
  writeFileSync(
    path.join(dir, "package-lock.json"),
    `${JSON.stringify({ name: "floe-consumer", version: "1.0.0", lockfileVersion: 3, requires: true, packages }, null, 2)}\n`,
  );
}

const CONSUMER_SCRIPT = `
import { Floe } from "floe/client";
import * as root from "floe";

const floe = new Floe({ url: process.env.FLOE_URL });
const producer = floe.producer();
const [sent] = await producer.send({
  topic: "from-tarball",
  messages: [{ key: "user-1", value: "installed from a packed tarball" }],
});
await producer.disconnect();
const { records } = await floe
  .reader()
  .fetch({ topic: "from-tarball", partition: sent.partition, offset: sent.offset });
console.log(
  JSON.stringify({
    rootExportsFloe: root.Floe === Floe,
    offset: sent.offset,
    key: records[0].key?.toString(),
    value: records[0].value?.toString(),
  }),
);
`;

beforeAll(async () => {
  pkg = buildPackage();
  copyFileSync(path.join(REPO, "README.md"), path.join(pkg, "README.md"));
  work = mkdtempSync(path.join(tmpdir(), "floe-e2e-pack-"));
  const packed = JSON.parse(npm(["pack", "--ignore-scripts", "--json", "--pack-destination", work], pkg));
  tarball = path.join(work, packed[0].filename);
  files = packed[0].files.map((f: { path: string }) => f.path);

  app = path.join(work, "app");
  mkdirSync(app);
  throwawayProject(app, tarball);
  npm(["ci", "--offline", "--ignore-scripts", "--no-audit", "--no-fund"], app);
  writeFileSync(path.join(app, "main.js"), CONSUMER_SCRIPT);

  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  dev = new CliProcess(
    path.join(app, "node_modules/floe/bin/floe.js"),
    ["dev", "--storage", "memory", "--port", String(port)],
    { cwd: app },
  );
  await dev.waitForOutput((out) => out.includes("Press Ctrl-C to stop."), "the dev server was ready");
}, 180_000);

afterAll(async () => {
  await dev?.stop();
  removeDir(work);
  removeDir(pkg);
});

describe("the packed tarball", () => {
  it("holds the CLI, the compiled client with its types, and no sources or tests", () => {
    expect(files).toEqual(
      expect.arrayContaining([
        "package.json",
        "README.md",
        "bin/floe.js",
        "dist/client/index.js",
        "dist/client/index.d.ts",
        "dist/cli/main.js",
      ]),
    );
    const stray = files.filter((f) => /^(src|test|bench|cdk|functions|docs)\//.test(f));
    expect(stray).toEqual([]);
  });

  it("installs offline into another project, whose node script imports floe/client and round-trips a record", async () => {
    const run = await runCli(path.join(app, "main.js"), [], { cwd: app, env: { FLOE_URL: url } });
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout.toString("utf8"))).toEqual({
      rootExportsFloe: true,
      offset: 0,
      key: "user-1",
      value: "installed from a packed tarball",
    });
  });

  it("puts the floe command in node_modules/.bin", async () => {
    const run = await runCli(path.join(app, "node_modules/.bin/floe"), ["topics", "list"], {
      cwd: app,
      env: { FLOE_URL: url },
    });
    expect(run.code).toBe(0);
    expect(run.stdout.toString("utf8")).toBe("from-tarball\n");
  });
});
