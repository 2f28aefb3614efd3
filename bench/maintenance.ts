/**
 * What compaction buys a reader (`npx tsx bench/maintenance.ts [--records 100000] [--per-request 10]`),
 * on the embedded backend (files + SQLite): records of 1 KiB appended in small requests into one
 * partition, then objects and segments counted and the whole partition read by a cold consumer,
 * before and after a maintenance pass (compaction, then garbage collection past the grace period).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { Broker } from "../src/broker/broker.js";
import { keys } from "../src/broker/keys.js";
import { runMaintenanceOnce } from "../src/maintenance/index.js";
import { createBackend } from "../src/storage/backend.js";
import type { Backend } from "../src/storage/ports.js";

const { values: args } = parseArgs({
  options: {
    records: { type: "string", default: "100000" },
    "per-request": { type: "string", default: "10" },
    "record-bytes": { type: "string", default: "1024" },
  },
  strict: true,
});
const records = Number(args.records);
const perRequest = Number(args["per-request"]);
const recordBytes = Number(args["record-bytes"]);
const GRACE_MS = 10 * 60 * 1000;
const MiB = 1024 * 1024;

interface Shape {
  objects: number;
  objectBytes: number;
  segments: number;
}

async function shape(backend: Backend, topicId: string): Promise<Shape> {
  let objects = 0;
  let objectBytes = 0;
  let startAfter: string | undefined;
  for (;;) {
    const page = await backend.objects.list("segments/", { startAfter, limit: 1000 });
    objects += page.length;
    objectBytes += page.reduce((n, o) => n + o.size, 0);
    if (page.length < 1000) break;
    startAfter = page[page.length - 1].key;
  }
  const segments = (await backend.meta.query(keys.partition(topicId, 0), { prefix: keys.segmentPrefix }))
    .length;
  return { objects, objectBytes, segments };
}

/** A consumer reading the partition from 0 to the end with Kafka's default max.partition.fetch.bytes. */
async function fullRead(
  backend: Backend,
  topic: string,
): Promise<{ seconds: number; records: number; bytes: number }> {
  const reader = new Broker(backend);
  const t0 = performance.now();
  let offset = 0;
  let count = 0;
  let bytes = 0;
  for (;;) {
    const r = await reader.fetch({ topic, partition: 0, offset, maxRecords: 5000, maxBytes: MiB });
    for (const rec of r.records) bytes += rec.value?.length ?? 0;
    count += r.records.length;
    if (r.records.length === 0 || r.nextOffset >= r.highWatermark) break;
    offset = r.nextOffset;
  }
  const seconds = (performance.now() - t0) / 1000;
  if (count !== records) throw new Error(`read ${count} records, expected ${records}`);
  return { seconds, records: count, bytes };
}

const dataDir = await mkdtemp(path.join(tmpdir(), "floe-bench-maintenance-"));
const backend = await createBackend({ storage: "embedded", dataDir });
try {
  const broker = new Broker(backend);
  const topic = "bench-maintenance";
  const { topicId } = await broker.createTopic(topic, 1);
  const value = new Uint8Array(recordBytes).fill(42);
  const t0 = performance.now();
  for (let i = 0; i < records; i += perRequest) {
    const n = Math.min(perRequest, records - i);
    await broker.produce({ topic, records: Array.from({ length: n }, () => ({ value, partition: 0 })) });
  }
  const appendSeconds = (performance.now() - t0) / 1000;

  const before = await shape(backend, topicId);
  const readBefore = await fullRead(backend, topic);

  let skew = 0;
  const clock = () => Date.now() + skew;
  const m0 = performance.now();
  const compaction = await runMaintenanceOnce({ backend, clock });
  const compactSeconds = (performance.now() - m0) / 1000;
  skew = GRACE_MS + 1000;
  const g0 = performance.now();
  const gc = await runMaintenanceOnce({ backend, clock });
  const gcSeconds = (performance.now() - g0) / 1000;
  if (compaction.errors.length + gc.errors.length > 0) {
    throw new Error(`maintenance errors: ${JSON.stringify([...compaction.errors, ...gc.errors])}`);
  }

  const after = await shape(backend, topicId);
  const readAfter = await fullRead(backend, topic);

  const rate = (r: { seconds: number; records: number; bytes: number }) =>
    `${Math.round(r.records / r.seconds).toLocaleString("en-US")} records/s, ${(r.bytes / MiB / r.seconds).toFixed(1)} MiB/s (${r.seconds.toFixed(2)} s)`;
  console.log(
    `embedded backend: ${records.toLocaleString("en-US")} records of ${recordBytes} B, ${perRequest} per request, one partition`,
  );
  console.log(`appended in ${appendSeconds.toFixed(1)} s\n`);
  console.log("| | objects | avg object | segments | full-partition read |\n|---|---|---|---|---|");
  const row = (label: string, s: Shape, r: typeof readBefore) =>
    `| ${label} | ${s.objects.toLocaleString("en-US")} | ${(s.objectBytes / s.objects / 1024).toFixed(1)} KiB | ${s.segments.toLocaleString("en-US")} | ${rate(r)} |`;
  console.log(row("before compaction", before, readBefore));
  console.log(row("after compaction + GC", after, readAfter));
  console.log(
    `\ncompaction: ${compaction.compaction.merges} merges of ${compaction.compaction.segmentsMerged} segments, ${(compaction.compaction.bytesRewritten / MiB).toFixed(1)} MiB rewritten, ${compactSeconds.toFixed(1)} s`,
  );
  console.log(`garbage collection: ${gc.gc.objectsDeleted} objects deleted, ${gcSeconds.toFixed(1)} s`);
  console.log(
    `read speed-up: ${(readBefore.seconds / readAfter.seconds).toFixed(1)}x; objects ${(before.objects / after.objects).toFixed(0)}x fewer, segments ${(before.segments / after.segments).toFixed(0)}x fewer`,
  );
} finally {
  await backend.close();
  await rm(dataDir, { recursive: true, force: true });
}
