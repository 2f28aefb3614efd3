import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildPackage, CliProcess, freePort, REPO, removeDir, runCli } from "./cli-process.js";

/**
 * The package as another project gets it: `npm pack`, then `npm ci` of the tarball into a
 * throwaway project, offline, then `import { Floe } from "floe/client"` in plain Node against the
 * installed package's own `floe dev --storage memory`, and a CDK app in plain Node that imports
 * `FloeBus` from "floe/cdk" and synthesizes it, bundling the functions with the project's esbuild.
 *
 * The tarball is packed from a copy laid out as the repository (package.json, README.md, bin/,
 * functions/, src/, and a dist/ compiled into a temporary directory with the construct in
 * dist/construct/, what `prepare` builds), so the test never races another build of the
 * repository's dist/. `npm pack` picks the files by package.json's "files", as it does in the
 * repository.
 *
 * Offline: npm's cache holds the dependency tarballs `npm ci` fetched for this repository, but not
 * the registry's metadata documents, so `npm install <tgz> --offline` cannot resolve version ranges.
 * The throwaway project therefore gets a lockfile naming the tarball and, for its dependencies
 * (Floe's, and the CDK app's aws-cdk-lib, constructs and esbuild), the very entries of this
 * repository's package-lock.json; `npm ci --offline` then installs from
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

/** What the throwaway project installs beside floe, as a CDK app does (AWS: install esbuild to bundle locally). */
const CDK_APP_DEPENDENCIES = ["aws-cdk-lib", "constructs", "esbuild"];

const NPM_ENV = { ...process.env, npm_config_update_notifier: "false", npm_config_fund: "false" };

function npm(args: string[], cwd: string): string {
  const run = spawnSync("npm", args, { cwd, encoding: "utf8", env: NPM_ENV });
  if (run.status !== 0) {
    throw new Error(`npm ${args.join(" ")} failed (exit ${run.status}):\n${run.stdout}${run.stderr}`);
  }
  return run.stdout;
}

type LockEntry = {
  version?: string;
  resolved?: string;
  integrity?: string;
  link?: boolean;
  dev?: boolean;
  devOptional?: boolean;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
};

/**
 * The lock entries `names` need, from this repository's lockfile: each package where Node would
 * resolve it from its dependent, with its dependencies and optional ones (esbuild's per-platform
 * binaries; npm ci skips the other platforms'), and the packages bundled inside it. Their `dev`
 * marks go: in the throwaway project they are ordinary dependencies.
 */
function lockClosure(lock: Record<string, LockEntry>, names: string[]): Record<string, LockEntry> {
  const out: Record<string, LockEntry> = {};
  const resolve = (from: string, name: string): string | undefined => {
    for (let dir = from; ; ) {
      const where = `${dir ? `${dir}/` : ""}node_modules/${name}`;
      if (lock[where]) return where;
      if (!dir) return undefined;
      const cut = dir.lastIndexOf("/node_modules/");
      dir = cut < 0 ? "" : dir.slice(0, cut);
    }
  };
  const visit = (where: string | undefined) => {
    if (!where || out[where]) return;
    const { dev: _dev, devOptional: _devOptional, ...entry } = lock[where];
    out[where] = entry;
    for (const dep of Object.keys({ ...entry.dependencies, ...entry.optionalDependencies })) {
      visit(resolve(where, dep));
    }
    for (const nested of Object.keys(lock)) {
      if (nested.startsWith(`${where}/node_modules/`)) visit(nested);
    }
  };
  for (const name of names) visit(resolve("", name));
  return out;
}

/**
 * The entry with the registry tarball URL npm would resolve it to, when the lockfile omits it (npm
 * leaves `resolved` out of many entries). `npm ci --offline` then reads the tarball from the cache
 * by URL and integrity, instead of needing the package's registry document cached as well: npm's
 * cache holds that document only for packages some earlier install resolved through it (a
 * dependency added with `npm install <pkg>` may have only its tarball there).
 */
function withTarballUrl(where: string, entry: LockEntry): LockEntry {
  if (entry.resolved || entry.link || !entry.version || !entry.integrity) return entry;
  const name = where.slice(where.lastIndexOf("node_modules/") + "node_modules/".length);
  const file = `${name.split("/").pop()}-${entry.version}.tgz`;
  return { ...entry, resolved: `https://registry.npmjs.org/${name}/-/${file}` };
}

/**
 * A project depending on `file:<tarball>` and the CDK app's packages, locked to the repository's
 * dependency versions.
 */
function throwawayProject(dir: string, tgz: string): void {
  const manifest = JSON.parse(readFileSync(path.join(REPO, "package.json"), "utf8"));
  const repoLock = JSON.parse(readFileSync(path.join(REPO, "package-lock.json"), "utf8"));
  const spec = `file:${path.relative(dir, tgz)}`;
  const integrity = `sha512-${createHash("sha512").update(readFileSync(tgz)).digest("base64")}`;
  const dependencies: Record<string, string> = { floe: spec };
  for (const name of CDK_APP_DEPENDENCIES) dependencies[name] = manifest.devDependencies[name];
  const packages: Record<string, unknown> = {
    "": { name: "floe-consumer", version: "1.0.0", dependencies },
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
  for (const [where, entry] of Object.entries(repoLock.packages as Record<string, LockEntry>)) {
    if (where !== "" && !entry.dev) packages[where] = entry;
  }
  Object.assign(packages, lockClosure(repoLock.packages, CDK_APP_DEPENDENCIES));
  for (const [where, entry] of Object.entries(packages)) {
    if (where !== "node_modules/floe") packages[where] = withTarballUrl(where, entry as LockEntry);
  }
  writeFileSync(
    path.join(dir, "package.json"),
    `${JSON.stringify({ name: "floe-consumer", version: "1.0.0", private: true, type: "module", dependencies }, null, 2)}\n`,
  );
  writeFileSync(
    path.join(dir, "package-lock.json"),
    `${JSON.stringify({ name: "floe-consumer", version: "1.0.0", lockfileVersion: 3, requires: true, packages }, null, 2)}\n`,
  );
}

/** tsc -p tsconfig.cdk.json (the construct, what `prepare` builds after dist/) into `outDir`. */
function buildConstruct(outDir: string): Promise<void> {
  const tsc = path.join(REPO, "node_modules/typescript/bin/tsc");
  const child = spawn(process.execPath, [tsc, "-p", "tsconfig.cdk.json", "--outDir", outDir], {
    cwd: REPO,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (c: Buffer) => (output += c.toString("utf8")));
  child.stderr.on("data", (c: Buffer) => (output += c.toString("utf8")));
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => {
      if (existsSync(path.join(outDir, "cdk/index.js"))) resolve();
      else
        reject(new Error(`tsc -p tsconfig.cdk.json did not produce cdk/index.js (exit ${code}):\n${output}`));
    });
  });
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

/**
 * A CDK app of the consumer's, in plain Node: the bus in a stack of its own, synthesized into
 * cdk.out. Prints each function's handler and the directory of its code asset (from the stack's
 * asset manifest: the template names the asset by its hash).
 */
const CDK_APP_SCRIPT = `
import { readFileSync } from "node:fs";
import path from "node:path";
import { App, Stack } from "aws-cdk-lib";
import { FloeBus } from "floe/cdk";

const app = new App({ outdir: "cdk.out" });
const stack = new Stack(app, "Consumer");
const bus = new FloeBus(stack, "Bus", { frontDoor: "http" });
const assembly = app.synth();
const artifact = assembly.getStackArtifact(stack.artifactId);
const manifest = JSON.parse(readFileSync(path.join(assembly.directory, \`\${stack.artifactId}.assets.json\`), "utf8"));
const functions = Object.values(artifact.template.Resources)
  .filter((r) => r.Type === "AWS::Lambda::Function" && manifest.files[r.Properties.Code.S3Key?.replace(/\\.zip$/, "")])
  .map((r) => ({
    handler: r.Properties.Handler,
    asset: manifest.files[r.Properties.Code.S3Key.replace(/\\.zip$/, "")].source.path,
  }));
const outputs = Object.keys(artifact.template.Outputs ?? {}).sort();
console.log(JSON.stringify({ outdir: assembly.directory, names: Object.keys(bus.functions).sort(), functions, outputs }));
`;

/**
 * The same app in TypeScript, as most CDK apps are written: type-checked against the installed
 * package's declarations (package.json "exports" → "./cdk" → "types"), as a consumer's tsc resolves
 * them under NodeNext.
 */
const CDK_APP_TS = `
import { App, Duration, Stack } from "aws-cdk-lib";
import { FloeBus, type FloeBusProps, FLOE_METRICS } from "floe/cdk";

const props: FloeBusProps = { frontDoor: "rest", defaultRetention: Duration.days(1), outputPrefix: "Events" };
const app = new App();
const bus = new FloeBus(new Stack(app, "Consumer"), "Bus", props);
const url: string | undefined = bus.url;
const bucket: string = bus.bucket.bucketName;
const metric: string = FLOE_METRICS.recordsIn.name;
// @ts-expect-error: frontDoor is one of http, rest, url
new FloeBus(new Stack(app, "Wrong"), "Bus", { frontDoor: "grpc" });
export { bucket, metric, url };
`;

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), "floe-e2e-pack-"));
  // The construct compiles while buildPackage compiles dist/ (each about 15 s).
  const construct = buildConstruct(path.join(work, "construct"));
  pkg = buildPackage();
  await construct;
  cpSync(path.join(work, "construct"), path.join(pkg, "dist/construct"), { recursive: true });
  for (const dir of ["functions", "src"]) {
    cpSync(path.join(REPO, dir), path.join(pkg, dir), { recursive: true });
  }
  copyFileSync(path.join(REPO, "README.md"), path.join(pkg, "README.md"));
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
    ["dev", "--storage", "memory", "--port", String(port), "--kafka-port", "0"],
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
  it("holds the CLI, the compiled client and construct with their types, the functions' sources, and no tests", () => {
    expect(files).toEqual(
      expect.arrayContaining([
        "package.json",
        "README.md",
        "bin/floe.js",
        "dist/client/index.js",
        "dist/client/index.d.ts",
        "dist/cli/main.js",
        "dist/construct/cdk/index.js",
        "dist/construct/cdk/index.d.ts",
        "functions/produce.ts",
        "functions/maintenance.ts",
        "src/api/api-handler.ts",
      ]),
    );
    // cdk/ ships compiled only (its app, cdk/app.ts, needs cdk-nag, a dev dependency).
    const stray = files.filter((f) => /^(test|bench|cdk|docs)\//.test(f) || f === "package-lock.json");
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

  it("gives another CDK app FloeBus from floe/cdk, which synthesizes with every function bundled by the app's esbuild", async () => {
    writeFileSync(path.join(app, "synth.js"), CDK_APP_SCRIPT);
    const run = await runCli(path.join(app, "synth.js"), [], { cwd: app });
    expect(run.code, run.stderr).toBe(0);
    const out = JSON.parse(run.stdout.toString("utf8")) as {
      outdir: string;
      names: string[];
      functions: { handler: string; asset: string }[];
      outputs: string[];
    };
    expect(out.names).toEqual(["admin", "dispatcher", "fetch", "groups", "maintenance", "produce"]);
    // The keys the deploy docs read, whatever the app calls the construct (issue 13).
    expect(out.outputs).toEqual(["ApiId", "ApiStage", "ApiUrl", "BucketName", "TableName"]);
    expect(out.functions).toHaveLength(out.names.length);
    for (const fn of out.functions) {
      expect(fn.handler).toBe("index.handler");
      const bundle = path.resolve(app, out.outdir, fn.asset, "index.mjs");
      expect(existsSync(bundle), bundle).toBe(true);
      // Bundled: the functions' own code and their dependencies inline, no import of floe's sources.
      const code = readFileSync(bundle, "utf8");
      expect(code.length).toBeGreaterThan(50_000);
      expect(code).not.toMatch(/from\s*["'](\.\.?\/|floe)/);
    }
  }, 150_000);

  it("gives a TypeScript CDK app FloeBus's types from floe/cdk (package.json exports → types)", async () => {
    writeFileSync(path.join(app, "app.ts"), CDK_APP_TS);
    const tsc = path.join(REPO, "node_modules/typescript/bin/tsc");
    const args = ["--noEmit", "--strict", "--skipLibCheck", "app.ts"];
    const options = ["--module", "nodenext", "--moduleResolution", "nodenext", "--target", "es2022"];
    const run = await runCli(tsc, [...options, ...args], { cwd: app });
    expect(run.stdout.toString("utf8") + run.stderr).toBe("");
    expect(run.code).toBe(0);
  }, 60_000);

  it("points exports ./cdk where `npm run build` (tsconfig.cdk.json) writes the construct", () => {
    const manifest = JSON.parse(readFileSync(path.join(REPO, "package.json"), "utf8"));
    const cdkConfig = JSON.parse(readFileSync(path.join(REPO, "tsconfig.cdk.json"), "utf8"));
    const outDir = path.posix.normalize(cdkConfig.compilerOptions.outDir);
    expect(cdkConfig.compilerOptions.rootDir).toBe(".");
    expect(cdkConfig.files).toContain("cdk/index.ts");
    expect(manifest.exports["./cdk"]).toEqual({
      types: `./${outDir}/cdk/index.d.ts`,
      default: `./${outDir}/cdk/index.js`,
    });
    expect(manifest.files).toEqual(expect.arrayContaining(["dist", "functions", "src"]));
    // The tarball holds them (first test); here: the construct needs the package's functions/ and src/ at synth.
    expect(files).toEqual(expect.arrayContaining([`${outDir}/cdk/index.js`, `${outDir}/cdk/index.d.ts`]));
  });
});
