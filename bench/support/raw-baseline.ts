/**
 * The limit (issue 7): the same writes a Floe run made, replayed straight through the storage
 * ports with nothing on top: object PUTs of the same sizes, and metadata commits of the same shape
 * (a version check, conditional head updates, new items), one after the other as the group
 * committer issues them. Floe's throughput is then reported as a ratio to this.
 */
import { randomBytes, randomUUID } from "node:crypto";
import type { WriteRecord } from "../../src/storage/instrumented.js";
import type { MetaStore, ObjectStore, WriteOp } from "../../src/storage/ports.js";

export interface BaselineResult {
  seconds: number;
  /** Times the whole write sequence was replayed: short runs are repeated so the timing means something. */
  repeats: number;
  puts: number;
  putBytes: number;
  commits: number;
  /** Time inside the PUTs and inside the commits (ms). */
  putMs: number;
  commitMs: number;
}

export async function replayWrites(
  ports: { objects: ObjectStore; meta: MetaStore },
  writes: WriteRecord[],
  minSeconds = 2,
): Promise<BaselineResult> {
  const run = randomUUID().slice(0, 8);
  const largest = writes.reduce((n, w) => (w.kind === "put" ? Math.max(n, w.bytes) : n), 0);
  // Incompressible bytes, like record batches of random values; sliced, never regenerated.
  const noise = new Uint8Array(randomBytes(Math.max(1, largest)));
  // One item per version check a commit made (the topic, and each idempotent producer's epoch):
  // a transaction may name an item only once.
  const checks = writes.reduce((n, w) => (w.kind === "put" ? n : Math.max(n, w.checks)), 1);
  const checked = Array.from({ length: checks }, (_, i) => ({
    pk: `baseline#${run}`,
    sk: i === 0 ? "topic" : `check#${i}`,
  }));
  await ports.meta.transact(checked.map((item) => ({ type: "put", ...item, data: { topic: run } })));
  const headVersions = new Map<number, number>();
  let puts = 0;
  let putBytes = 0;
  let commits = 0;
  let items = 0;
  let putMs = 0;
  let commitMs = 0;

  const started = performance.now();
  let repeats = 0;
  do {
    await replayOnce();
    repeats++;
  } while (writes.length > 0 && performance.now() - started < minSeconds * 1000);
  return { seconds: (performance.now() - started) / 1000, repeats, puts, putBytes, commits, putMs, commitMs };

  async function replayOnce(): Promise<void> {
    for (const w of writes) {
      if (w.kind === "put") {
        const t0 = performance.now();
        await ports.objects.put(`bench-baseline/${run}/${puts}`, noise.subarray(0, w.bytes));
        putMs += performance.now() - t0;
        puts++;
        putBytes += w.bytes;
        continue;
      }
      const ops: WriteOp[] = [];
      for (let i = 0; i < w.checks; i++)
        ops.push({ type: "check", ...checked[i], condition: { version: 1 } });
      // Floe's commit: per partition a head update conditional on its version and a new segment item,
      // plus the new object's reference: half the puts (rounded down) update, the rest create.
      const updates = Math.floor(w.puts / 2);
      for (let h = 0; h < updates; h++) {
        const version = headVersions.get(h) ?? 0;
        ops.push({
          type: "put",
          pk: `baseline#${run}#${h}`,
          sk: "head",
          data: { next: commits, bytes: putBytes, version },
          condition: version === 0 ? { absent: true } : { version },
        });
      }
      for (let n = updates; n < w.puts; n++) {
        ops.push({
          type: "put",
          pk: `baseline#${run}#${n}`,
          sk: `item#${items++}`,
          data: { base: commits, end: commits + 1, key: `bench-baseline/${run}/${puts}`, pos: 8, len: 1024 },
          condition: { absent: true },
        });
      }
      for (let d = 0; d < w.deletes; d++) {
        ops.push({ type: "delete", pk: `baseline#${run}#deleted`, sk: `item#${items++}` });
      }
      const t0 = performance.now();
      await ports.meta.transact(ops);
      commitMs += performance.now() - t0;
      for (let h = 0; h < updates; h++) headVersions.set(h, (headVersions.get(h) ?? 0) + 1);
      commits++;
    }
  }
}
