/**
 * Appends per second into one partition, on every backend (`npx tsx bench/append.ts [seconds]`).
 * Sequential: one appender, one record of 1 KiB per call (each call is one object PUT and one
 * commit). Concurrent: 8 appenders, each its own Broker as separate Lambda instances would be, all
 * contending for the same partition head. The aws backend runs on the same emulators as the tests.
 */
import { Broker } from "../src/broker/broker.js";
import type { Backend } from "../src/storage/ports.js";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { createBackend } from "../src/storage/backend.js";
import { startEmulators } from "./support/emulators.js";

const seconds = Number(process.argv[2] ?? 5);
const value = new Uint8Array(1024).fill(7);

async function run(
  backend: Backend,
  appenders: number,
): Promise<{ appends: number; perSecond: number; p50: number; p99: number }> {
  const admin = new Broker(backend);
  const topic = `bench-${appenders}-${Date.now()}`;
  await admin.createTopic(topic, 1);
  const latencies: number[] = [];
  const deadline = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: appenders }, async () => {
      const broker = new Broker(backend);
      while (performance.now() < deadline) {
        const t0 = performance.now();
        await broker.produce({ topic, records: [{ value, partition: 0 }] });
        latencies.push(performance.now() - t0);
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))];
  const hwm = (await admin.describeTopic(topic)).partitions[0].highWatermark;
  if (hwm !== latencies.length)
    throw new Error(`high-water mark ${hwm} != acked appends ${latencies.length}`);
  return { appends: latencies.length, perSecond: latencies.length / seconds, p50: q(0.5), p99: q(0.99) };
}

const emulators = await startEmulators();
const backends: { name: string; create(): Promise<Backend> }[] = [
  { name: "memory", create: () => createBackend({ storage: "memory" }) },
  {
    name: "embedded",
    async create() {
      const dataDir = await mkdtemp(path.join(tmpdir(), "floe-bench-"));
      const b = await createBackend({ storage: "embedded", dataDir });
      return {
        ...b,
        close: async () => {
          await b.close();
          await rm(dataDir, { recursive: true, force: true });
        },
      };
    },
  },
  {
    name: "aws (DynamoDB Local + s3rver)",
    create: () =>
      createBackend({
        storage: "aws",
        bucket: `bench-${Date.now()}`,
        table: `bench-${Date.now()}`,
        region: "us-east-1",
        s3Endpoint: emulators.s3Endpoint,
        dynamodbEndpoint: emulators.dynamodbEndpoint,
        credentials: emulators.credentials,
        createIfMissing: true,
      }),
  },
];
try {
  const rows: string[] = [];
  for (const { name, create } of backends) {
    for (const appenders of [1, 8]) {
      const backend = await create();
      try {
        const r = await run(backend, appenders);
        rows.push(
          `| ${name} | ${appenders} | ${r.appends} | ${r.perSecond.toFixed(0)} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} |`,
        );
      } finally {
        await backend.close();
      }
    }
  }
  console.log(`appends into one partition, 1 record of 1 KiB per append, ${seconds}s each\n`);
  console.log("| backend | appenders | appends | appends/s | p50 ms | p99 ms |\n|---|---|---|---|---|---|");
  console.log(rows.join("\n"));
} finally {
  await emulators.stop();
}
