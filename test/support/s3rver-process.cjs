/**
 * Runs s3rver as a child process of the test run (see global-setup.ts), as plain CommonJS so Node
 * runs it without a TypeScript loader. Started with --openssl-legacy-provider: s3rver encrypts
 * ListObjectsV2 continuation tokens with DES, which OpenSSL 3 only offers from its legacy provider.
 *
 *   node --openssl-legacy-provider s3rver-process.cjs <data directory> <access key id> <secret>
 *
 * Prints one JSON line {"port": N} once listening. Exits on SIGTERM/SIGINT, and when its stdin
 * closes, so it never outlives the test run that started it.
 */
"use strict";

const fs = require("node:fs");
const path = require("node:path");

// s3rver 3.7 lists keys in readdir order, which is not S3's (UTF-8 byte) order, so pages cut at
// MaxKeys come out wrong. Its filesystem store takes `walk` from utils when it loads: replace it
// first with a walk that visits each directory's entries in key order (a directory "d" holds keys
// "d/...", object files are named "<last segment>._S3rver_object").
const utils = require("s3rver/lib/utils.js");
const OBJECT_SUFFIX = "._S3rver_object";
utils.walk = function* walk(dir, recurseFilter) {
  const entries = [];
  for (const name of fs.readdirSync(dir)) {
    const filePath = path.posix.join(dir, name);
    let isDirectory;
    try {
      isDirectory = fs.statSync(filePath).isDirectory();
    } catch {
      continue; // deleted while we listed
    }
    let key = `${name}/`;
    if (!isDirectory) {
      key = name.endsWith(OBJECT_SUFFIX) ? name.slice(0, -OBJECT_SUFFIX.length) : `${name}\u{10ffff}`;
    }
    entries.push({ filePath, isDirectory, key: Buffer.from(key) });
  }
  entries.sort((a, b) => Buffer.compare(a.key, b.key));
  for (const { filePath, isDirectory } of entries) {
    if (!isDirectory) yield filePath;
    else if (!recurseFilter || recurseFilter(filePath)) yield* walk(filePath, recurseFilter);
  }
};

const S3rver = require("s3rver");
const { DUMMY_ACCOUNT } = require("s3rver/lib/models/account.js");

const [directory, accessKeyId, secretAccessKey] = process.argv.slice(2);
if (!directory) {
  console.error("usage: s3rver-process.cjs <directory> [accessKeyId secretAccessKey]");
  process.exit(2);
}
// s3rver only knows the key pair S3RVER/S3RVER; register the run's dummy credentials too.
if (accessKeyId && secretAccessKey) DUMMY_ACCOUNT.createKeyPair(accessKeyId, secretAccessKey);

const server = new S3rver({
  address: "127.0.0.1",
  port: 0,
  silent: true,
  directory,
  allowMismatchedSignatures: true,
  vhostBuckets: false,
});

let stopping = false;
function stop() {
  if (stopping) return;
  stopping = true;
  server.close().then(
    () => process.exit(0),
    () => process.exit(0),
  );
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
process.stdin.on("end", stop);
process.stdin.on("error", stop);
process.stdin.resume();

server.run().then(
  (address) => {
    process.stdout.write(`${JSON.stringify({ port: address.port })}\n`);
  },
  (error) => {
    console.error(`s3rver failed to start: ${error?.stack ?? error}`);
    process.exit(1);
  },
);
