import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

/**
 * A module hook that records every URL Node resolves, registered after tsx so it sees the final
 * file URLs; the child prints them, one a line, when it exits.
 */
const RECORDER = `
import { register } from "node:module";
import { MessageChannel } from "node:worker_threads";
const { port1, port2 } = new MessageChannel();
const urls = new Set();
port1.on("message", (url) => urls.add(url));
port1.unref();
const hooks = \`
let port;
export function initialize(data) { port = data.port; }
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  port.postMessage(result.url);
  return result;
}\`;
register("data:text/javascript," + encodeURIComponent(hooks), import.meta.url, {
  data: { port: port2 },
  transferList: [port2],
});
process.on("exit", () => process.stdout.write([...urls].join("\\n") + "\\n"));
`;

/** Runs `script` (an ES module, in the repo) under tsx and returns the URLs it loaded. */
function loadedBy(script: string, env: NodeJS.ProcessEnv = process.env): string[] {
  const result = spawnSync(
    process.execPath,
    [
      "--import",
      "tsx",
      "--import",
      `data:text/javascript,${encodeURIComponent(RECORDER)}`,
      "--input-type=module",
      "--eval",
      script,
    ],
    { cwd: REPO, env, encoding: "utf8", timeout: 60_000 },
  );
  expect(result.stderr).toBe("");
  expect(result.status).toBe(0);
  return result.stdout.split("\n").filter((line) => line.startsWith("file:"));
}

/** What only the server, maintenance, storage or request signing need. */
const HEAVY = [
  /\/node_modules\/@aws-sdk\//,
  /\/node_modules\/@smithy\//,
  /\/node_modules\/@aws-lambda-powertools\//,
  /\/node_modules\/@middy\//,
  /\/node_modules\/zod\//,
  /\/node_modules\/better-sqlite3\//,
  /\/src\/server\/dev-server\.ts$/,
  /\/src\/broker\//,
  /\/src\/storage\//,
  /\/src\/maintenance\//,
  /\/src\/api\//,
];

function heavy(urls: string[]): string[] {
  return urls.filter((url) => HEAVY.some((pattern) => pattern.test(url)));
}

/** main() with in-memory streams, run on the given argv, in the child. */
function runMain(argv: string[]): string {
  return `
import { PassThrough } from "node:stream";
import { main } from "./src/cli/main.ts";
const io = { stdin: new PassThrough(), stdout: new PassThrough(), stderr: new PassThrough(), env: {},
  interrupted: new AbortController().signal };
io.stdout.resume();
io.stderr.resume();
await main(${JSON.stringify(argv)}, io);
`;
}

// A start-up-time guard without timing anything: `floe --help` and the client commands must not
// load the dev server, maintenance or the AWS SDK, which made every command take seconds (issue 15).
describe("floe loads only what a command needs", () => {
  it("floe --help loads neither the server, nor maintenance, nor the AWS SDK", () => {
    const urls = loadedBy(runMain(["--help"]));
    expect(urls.some((url) => url.endsWith("/src/cli/main.ts"))).toBe(true);
    expect(heavy(urls)).toEqual([]);
  });

  it("a client command against a plain URL does not load the SigV4 signer", () => {
    // Port 1 refuses at once: the command fails, having built its client and sent its request.
    const urls = loadedBy(runMain(["topics", "list", "--url", "http://127.0.0.1:1"]));
    expect(urls.some((url) => url.endsWith("/src/client/floe.ts"))).toBe(true);
    expect(heavy(urls)).toEqual([]);
  });

  it("the recorder sees them when they are loaded: the dev server pulls in most", () => {
    const found = heavy(loadedBy(`await import("./src/server/dev-server.ts");`));
    for (const pattern of [
      /@aws-lambda-powertools/,
      /@middy/,
      /zod/,
      /\/src\/storage\//,
      /\/src\/broker\//,
    ]) {
      expect(found.some((url) => pattern.test(url))).toBe(true);
    }
  });

  it("the SigV4 signer and the credential chain load on the first signed request", () => {
    const script = `
import { sigv4Fetch } from "./src/client/sigv4-fetch.ts";
const signed = sigv4Fetch({ service: "execute-api", region: "eu-west-1" }, {
  fetch: async (url, init) => new Response(new Headers(init.headers).get("authorization")),
});
const auth = await (await signed("https://abc.execute-api.eu-west-1.amazonaws.com/v1/topics", { method: "GET" })).text();
if (!auth.startsWith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")) throw new Error("unsigned: " + auth);
`;
    const env = { ...process.env, AWS_ACCESS_KEY_ID: "AKIDEXAMPLE", AWS_SECRET_ACCESS_KEY: "secret" };
    const found = heavy(loadedBy(script, env));
    for (const pattern of [/@smithy\/signature-v4/, /@aws-sdk\/credential-provider-node/]) {
      expect(found.some((url) => pattern.test(url))).toBe(true);
    }
  });
});
