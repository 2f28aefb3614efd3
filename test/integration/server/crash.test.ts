/**
 * Acked means it survives the process: `floe dev` on the embedded backend is killed with SIGKILL
 * under concurrent produce load, restarted on the same data directory, and every acknowledged
 * record must be at its acknowledged offset exactly once, with each partition's offsets contiguous
 * from 0. In every flush mode (decision 0010): Kafka's default (the OS page cache, no fsync),
 * fsync every commit (--log-flush-interval-messages 1) and a flush interval. What fsync adds,
 * surviving a power loss or an OS crash, cannot be tested by killing a process.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { JsonBody } from "../api/harness.js";
import { type DevProcess, spawnFloeDev, stopProcess } from "./dev-process.js";

const PRODUCERS = 8;
const RECORDS_PER_REQUEST = 5;
const PARTITIONS = 3;
/** Kill once this many records are acknowledged: enough that requests are in flight when it lands. */
const ACKED_BEFORE_KILL = 600;

interface Acked {
  value: string;
  partition: number;
  offset: number;
}

async function post(url: string, body: unknown) {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as JsonBody };
}

/**
 * One producer: sends requests, each as soon as the one before was answered, until one fails because
 * the server went away (mid-request, or refused once it was gone); records what was acknowledged.
 */
async function producer(base: string, topic: string, id: number, acked: Acked[]): Promise<"cut off"> {
  for (let seq = 0; ; seq++) {
    const values = Array.from({ length: RECORDS_PER_REQUEST }, (_, i) => `p${id}-r${seq}-${i}`);
    let res: Awaited<ReturnType<typeof post>>;
    try {
      res = await post(`${base}/v1/topics/${topic}/records?encoding=string`, {
        records: values.map((value) => ({ key: value, value })),
      });
    } catch {
      return "cut off"; // its fate is unknown, so it is not counted as acknowledged
    }
    if (res.status !== 200) throw new Error(`unexpected ${res.status}: ${JSON.stringify(res.body)}`);
    const offsets: { partition: number; offset: number }[] = res.body.offsets;
    for (const [i, o] of offsets.entries()) acked.push({ value: values[i], ...o });
  }
}

async function readPartition(base: string, topic: string, partition: number) {
  const records: { offset: number; value: string }[] = [];
  for (let offset = 0; ; ) {
    const res = await fetch(
      `${base}/v1/topics/${topic}/partitions/${partition}/records?offset=${offset}&maxRecords=500&encoding=string`,
    );
    const body = (await res.json()) as JsonBody;
    expect(res.status).toBe(200);
    records.push(...body.records);
    if (body.nextOffset >= body.highWatermark) return records;
    offset = body.nextOffset;
  }
}

const MODES = [
  { name: "Kafka's default, the OS page cache", args: [], banner: /durability: OS page cache/ },
  {
    name: "--log-flush-interval-messages 1",
    args: ["--log-flush-interval-messages", "1"],
    banner: /durability: fsync every commit/,
  },
  {
    name: "--log-flush-interval-ms 50",
    args: ["--log-flush-interval-ms", "50"],
    banner: /durability: fsync every 50 ms/,
  },
];

describe.each(MODES)("floe dev crash safety (embedded backend, $name)", ({ args, banner }) => {
  let dataDir: string;
  let running: DevProcess | undefined;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), "floe-crash-"));
  });
  afterAll(async () => {
    await stopProcess(running);
    await rm(dataDir, { recursive: true, force: true });
  });

  it("keeps every acknowledged record, exactly once and at its offset, across kill -9", async () => {
    running = await spawnFloeDev(dataDir, args);
    expect(running.output()).toMatch(banner);
    const topic = "crash-test";
    expect((await post(`${running.url}/v1/topics`, { name: topic, partitions: PARTITIONS })).status).toBe(
      201,
    );

    const acked: Acked[] = [];
    const producers = Array.from({ length: PRODUCERS }, (_, id) => producer(running!.url, topic, id, acked));
    await new Promise<void>((resolve) => {
      const check = setInterval(() => {
        if (acked.length >= ACKED_BEFORE_KILL) {
          clearInterval(check);
          resolve();
        }
      }, 5);
    });
    running.child.kill("SIGKILL");
    expect(await running.exited).toEqual({ code: null, signal: "SIGKILL" });
    // The kill landed under load: every producer was still sending, and each one's last request
    // failed with the server (whether the server had it or not, which the client cannot tell: a fast
    // server may have answered every request the client had sent, so none need be mid-request).
    expect(await Promise.all(producers)).toEqual(Array(PRODUCERS).fill("cut off"));
    const ackedAtKill = acked.length;
    expect(ackedAtKill).toBeGreaterThanOrEqual(ACKED_BEFORE_KILL);

    running = await spawnFloeDev(dataDir, args);
    const seen = new Map<string, { partition: number; offset: number }>();
    for (let partition = 0; partition < PARTITIONS; partition++) {
      const records = await readPartition(running.url, topic, partition);
      // Contiguous from 0: no hole, no offset twice.
      expect(records.map((r) => r.offset)).toEqual(records.map((_, i) => i));
      for (const r of records) {
        expect(seen.has(r.value), `${r.value} appears twice`).toBe(false);
        seen.set(r.value, { partition, offset: r.offset });
      }
    }
    for (const a of acked) {
      expect(seen.get(a.value), a.value).toEqual({ partition: a.partition, offset: a.offset });
    }
    // Unacknowledged requests may have landed (their ack was lost with the process), but whole.
    const byRequest = new Map<string, number>();
    for (const value of seen.keys()) {
      const request = value.slice(0, value.lastIndexOf("-"));
      byRequest.set(request, (byRequest.get(request) ?? 0) + 1);
    }
    for (const [request, count] of byRequest) expect(count, request).toBe(RECORDS_PER_REQUEST);

    // Graceful shutdown on SIGTERM: the process answers what it accepted, reports, exits 0.
    const afterRestart: Acked[] = [];
    // Settled as they go: a producer refused during shutdown (a retriable 503) rejects while the
    // test is still waiting for the exit, and must not count as an unhandled rejection.
    const more = Promise.allSettled(
      Array.from({ length: 4 }, (_, id) => producer(running!.url, topic, 100 + id, afterRestart)),
    );
    await new Promise<void>((resolve) => {
      const check = setInterval(() => {
        if (afterRestart.length >= 100) {
          clearInterval(check);
          resolve();
        }
      }, 5);
    });
    running.child.kill("SIGTERM");
    expect(await running.exited).toEqual({ code: 0, signal: null });
    await more;
    expect(running.output()).toMatch(
      /stopped: \d+ produce requests group-committed as \d+ commits, \d+ objects/,
    );

    running = await spawnFloeDev(dataDir, args);
    const all = new Map<string, { partition: number; offset: number }>();
    for (let partition = 0; partition < PARTITIONS; partition++) {
      for (const r of await readPartition(running.url, topic, partition))
        all.set(r.value, { partition, offset: r.offset });
    }
    for (const a of [...acked, ...afterRestart])
      expect(all.get(a.value), a.value).toEqual({ partition: a.partition, offset: a.offset });
  });
});
