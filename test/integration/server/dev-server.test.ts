import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { JsonBody } from "../api/harness.js";
import { startDevServer } from "../../../src/server/dev-server.js";

describe("floe dev server (in-process)", () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), "floe-dev-"));
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  const json = { "content-type": "application/json" };

  it("prints a banner, keeps acknowledged data across a restart and reports its group commits on close", async () => {
    const lines: string[] = [];
    const first = await startDevServer({ port: 0, dataDir, log: (l) => lines.push(l) });
    expect(first.url).toBe(`http://127.0.0.1:${first.port}`);
    expect(lines.join("\n")).toContain(`listening on ${first.url}`);
    expect(lines.join("\n")).toContain(`storage: embedded (data dir ${path.resolve(dataDir)})`);

    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        fetch(`${first.url}/v1/topics/restart/records`, {
          method: "POST",
          headers: json,
          body: JSON.stringify({ records: [{ value: { i } }] }),
        }).then((r) => r.json() as Promise<JsonBody>),
      ),
    );
    await first.close();
    expect(lines.at(-1)).toMatch(/stopped: 20 produce requests group-committed as \d+ commits, \d+ objects/);
    await expect(fetch(`${first.url}/v1/health`)).rejects.toThrow();

    const second = await startDevServer({ port: 0, dataDir, log: () => {} });
    try {
      const res = await fetch(`${second.url}/v1/topics/restart/partitions/0/records?offset=0`);
      const body = (await res.json()) as JsonBody;
      expect(body.records).toHaveLength(20);
      for (const [i, a] of answers.entries()) {
        expect(body.records[a.offsets[0].offset].value).toEqual({ i });
      }
    } finally {
      await second.close();
    }
  });

  it("fails to start on a port in use with Node's EADDRINUSE, for the CLI to word", async () => {
    const first = await startDevServer({ port: 0, storage: "memory", log: () => {} });
    try {
      await expect(
        startDevServer({ port: first.port, storage: "memory", log: () => {} }),
      ).rejects.toMatchObject({
        code: "EADDRINUSE",
      });
    } finally {
      await first.close();
    }
  });

  it("close() is idempotent", async () => {
    const server = await startDevServer({ port: 0, storage: "memory", log: () => {} });
    await Promise.all([server.close(), server.close()]);
    await server.close();
  });
});
