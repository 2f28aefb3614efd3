import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { PassThrough } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { Broker } from "../../../src/broker/broker.js";
import type { CliIo } from "../../../src/cli/command.js";
import { main } from "../../../src/cli/main.js";
import { startDevServer } from "../../../src/server/dev-server.js";
import { createBackend } from "../../../src/storage/backend.js";

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function dataDir(): Promise<string> {
  const d = await mkdtemp(path.join(tmpdir(), "floe-maint-"));
  dirs.push(d);
  return d;
}

async function segmentCount(dir: string, topic: string): Promise<number> {
  const backend = await createBackend({ storage: "embedded", dataDir: dir });
  try {
    const { topicId } = await new Broker(backend).topics.get(topic);
    return (await backend.meta.query(`part#${topicId}#0`, { prefix: "seg#" })).length;
  } finally {
    await backend.close();
  }
}

async function waitFor(condition: () => Promise<boolean>, what: () => Promise<string>): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (await condition()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`gave up waiting for ${await what()}`);
}

describe("maintenance wired into floe dev and the admin CLI", () => {
  it("floe dev compacts small segments on its timer while every record stays readable", async () => {
    const dir = await dataDir();
    // The first slice runs after the appends below (about a second even on a loaded machine), so
    // it merges a settled partition; merging while appends race it is the maintenance suite's job.
    const server = await startDevServer({
      port: 0,
      dataDir: dir,
      maintenanceIntervalMs: 3_000,
      log: () => {},
    });
    try {
      await fetch(`${server.url}/v1/topics`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ name: "small", partitions: 1 }),
      });
      // One request at a time: each is its own commit, so its own small segment.
      for (let i = 0; i < 40; i++) {
        const res = await fetch(`${server.url}/v1/topics/small/records?encoding=string`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ records: [{ value: `r${i}`, partition: 0 }] }),
        });
        expect(res.status).toBe(200);
      }
      // Size-tiered merges (four of a generation make one of the next) leave at most three per tier.
      await waitFor(
        async () => (await segmentCount(dir, "small")) <= 10,
        async () => `compaction to merge the 40 segments; ${await segmentCount(dir, "small")} remain`,
      );
      const res = await fetch(`${server.url}/v1/topics/small/partitions/0/records?offset=0&encoding=string`);
      const body = (await res.json()) as { records: { offset: number; value: string }[] };
      expect(body.records.map((r) => [r.offset, r.value])).toEqual(
        Array.from({ length: 40 }, (_, i) => [i, `r${i}`]),
      );
    } finally {
      await server.close();
    }
  });

  it("floe admin maintenance --once compacts an embedded data dir and reports what it did", async () => {
    const dir = await dataDir();
    const backend = await createBackend({ storage: "embedded", dataDir: dir });
    const broker = new Broker(backend);
    await broker.createTopic("ops", 1);
    for (let i = 0; i < 20; i++)
      await broker.produce({ topic: "ops", records: [{ value: Buffer.from(`v${i}`) }] });
    await backend.close();
    expect(await segmentCount(dir, "ops")).toBe(20);

    const stdout = new PassThrough();
    const out: Buffer[] = [];
    stdout.on("data", (c: Buffer) => out.push(c));
    const io: CliIo = {
      stdin: new PassThrough(),
      stdout,
      stderr: new PassThrough(),
      env: {},
      interrupted: new AbortController().signal,
    };
    expect(await main(["admin", "maintenance", "--once", "--data-dir", dir], io)).toBe(0);
    expect(Buffer.concat(out).toString()).toMatch(/Compaction: [1-9]\d* merges of 20 segments/);
    expect(await segmentCount(dir, "ops")).toBeLessThanOrEqual(2);
  });
});
