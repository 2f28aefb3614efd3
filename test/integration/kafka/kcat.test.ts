import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readBatchHeaders } from "../../../src/log/record-batch.js";
import type { DevServer } from "../../../src/server/dev-server.js";
import { kcat } from "../../support/kcat.js";
import {
  createTopic,
  httpBatches,
  httpRecords,
  startKafkaDevServer,
  uniqueTopic,
} from "./data-path-harness.js";

let server: DevServer;
let bootstrap: string;

beforeAll(async () => {
  server = await startKafkaDevServer();
  bootstrap = server.kafka?.bootstrap as string;
});

afterAll(async () => {
  await server?.close();
});

describe("kcat (librdkafka) against floe dev", () => {
  it("lists the metadata: this process as the one broker, leader of every partition", async () => {
    const topic = uniqueTopic("kcat-meta");
    await createTopic(server, topic, 3);
    const { code, stdout } = await kcat(["-b", bootstrap, "-L", "-J", "-t", topic]);
    expect(code).toBe(0);
    const metadata = JSON.parse(stdout) as {
      brokers: { id: number; name: string }[];
      topics: { topic: string; partitions: { partition: number; leader: number }[] }[];
    };
    expect(metadata.brokers).toEqual([{ id: 1, name: bootstrap }]);
    expect(metadata.topics[0].topic).toBe(topic);
    expect(metadata.topics[0].partitions.map((p) => [p.partition, p.leader])).toEqual([
      [0, 1],
      [1, 1],
      [2, 1],
    ]);
  });

  // librdkafka compresses gzip, snappy and lz4 only when the broker advertises Produce v0 (its
  // check for the old message formats); zstd needs Produce v7+.
  for (const codec of ["gzip", "snappy", "lz4", "zstd"] as const) {
    it(`produces ${codec}-compressed batches that are stored compressed, and consumes them`, async () => {
      const topic = uniqueTopic(`kcat-${codec}`);
      await createTopic(server, topic, 1);
      // librdkafka sends a batch uncompressed when compressing would not shrink it, so every line is
      // compressible on its own (a loaded machine may send the first lines as a batch of their own).
      const lines = Array.from({ length: 50 }, (_, i) => `key-${i}:value ${i} ${"x".repeat(200 + i)}`);
      const produced = await kcat(
        ["-b", bootstrap, "-P", "-t", topic, "-p", "0", "-K:", "-z", codec, "-X", "linger.ms=50"],
        `${lines.join("\n")}\n`,
      );
      expect(produced.code, produced.stderr).toBe(0);
      expect(produced.stderr).not.toMatch(/not compressing/);

      const headers = readBatchHeaders(await httpBatches(server, topic, 0));
      expect(headers.length).toBeGreaterThan(0);
      expect(new Set(headers.map((h) => h.compression))).toEqual(new Set([codec]));

      const records = await httpRecords(server, topic, 0);
      expect(records.map((r) => Buffer.from(r.value as string, "base64").toString())).toEqual(
        lines.map((l) => l.slice(l.indexOf(":") + 1)),
      );
      const consumed = await kcat([
        "-b",
        bootstrap,
        "-C",
        "-t",
        topic,
        "-o",
        "beginning",
        "-e",
        "-f",
        "%k=%s\n",
      ]);
      expect(consumed.code, consumed.stderr).toBe(0);
      expect(consumed.stdout.trim().split("\n")).toEqual(lines.map((l) => l.replace(":", "=")));
    });
  }
});
