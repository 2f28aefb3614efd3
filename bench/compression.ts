/**
 * Throughput of Kafka's compression codecs as Floe reads and writes them, on ~1 MiB of realistic
 * records (JSON order events of 300-600 bytes, keyed, one header each), encoded as a RecordBatch v2
 * records region.
 *
 *   npx tsx bench/compression.ts [--ms 1500] [--repeat 3]
 *
 * For each codec: compress (Floe's encoder), decompress (what the broker does to validate a
 * produced batch and to answer a JSON fetch), and decodeRecordBatch (decompress plus parsing every
 * record), in MiB/s of uncompressed records region, with the compression ratio. zstd is measured
 * through fzstd (pure JS, any Node) and, where Node has it (22.15+), through node:zlib; on a Node
 * without a zstd encoder the frames come from libzstd itself (@bokuweb/zstd-wasm, a dev dependency:
 * level 3, size declared) and, when the `zstd` command is installed, from it with
 * --no-content-size (as zstd-jni's streaming producer writes them). Prints a Markdown table and
 * the machine's load average: a loaded machine is slower, so each figure is the median of
 * `--repeat` measurements.
 */
import { execFileSync } from "node:child_process";
import { cpus, loadavg } from "node:os";
import { parseArgs } from "node:util";
import { type CompressionCodec, canCompress, compress, decompress } from "../src/log/compression.js";
import { nativeZstd, zstdDecompress } from "../src/log/compression-zstd.js";
import { crc32c } from "../src/log/crc32c.js";
import {
  decodeRecordBatch,
  encodeRecordBatch,
  type LogRecord,
  RECORD_BATCH_OVERHEAD,
} from "../src/log/record-batch.js";

const { values: args } = parseArgs({
  options: { ms: { type: "string", default: "1500" }, repeat: { type: "string", default: "3" } },
});
const minMs = Number(args.ms);
const repeat = Number(args.repeat);
const MAX = 64 * 1024 * 1024;

function records(): LogRecord[] {
  let seed = 42;
  const rnd = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
  const pick = <T>(a: T[]): T => a[Math.floor(rnd() * a.length)];
  const te = new TextEncoder();
  const out: LogRecord[] = [];
  let size = 0;
  for (let i = 0; size < 1 << 20; i++) {
    const value = JSON.stringify({
      id: `ord-${(100000 + i).toString(36)}-${Math.floor(rnd() * 1e9).toString(16)}`,
      customer: {
        id: Math.floor(rnd() * 50000),
        name: `${pick(["Ada", "Grace", "Linus", "Barbara", "Ken", "Margaret"])} ${pick(["Lovelace", "Hopper", "Torvalds", "Liskov", "Thompson", "Hamilton"])}`,
        tier: pick(["free", "pro", "enterprise"]),
      },
      items: Array.from({ length: 1 + Math.floor(rnd() * 4) }, () => ({
        sku: `SKU-${Math.floor(rnd() * 99999)}`,
        qty: 1 + Math.floor(rnd() * 5),
        price: Math.round(rnd() * 10000) / 100,
      })),
      currency: pick(["EUR", "USD", "GBP"]),
      status: pick(["created", "paid", "shipped", "delivered", "cancelled"]),
      ts: new Date(1_700_000_000_000 + i * 137).toISOString(),
      note: rnd() < 0.3 ? "gift wrap please, leave at the door if nobody answers" : null,
    });
    const record: LogRecord = {
      key: te.encode(`customer-${Math.floor(rnd() * 50000)}`),
      value: te.encode(value),
      headers: [{ key: "content-type", value: te.encode("application/json") }],
      timestamp: 1_700_000_000_000 + i,
    };
    out.push(record);
    size += value.length + 40;
  }
  return out;
}

function once(bytes: number, fn: () => unknown): number {
  // Warm up long enough for V8 to optimise the codec, then count whole runs for `minMs`.
  for (const warm = performance.now(); performance.now() - warm < minMs / 4; ) fn();
  let runs = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < minMs) {
    fn();
    runs++;
    elapsed = performance.now() - start;
  }
  return (bytes * runs) / 1048576 / (elapsed / 1000);
}

/** MiB/s of `bytes` per call of `fn`: the median of `repeat` measurements. */
function rate(bytes: number, fn: () => unknown): number {
  const rates = Array.from({ length: repeat }, () => once(bytes, fn)).sort((a, b) => a - b);
  return rates[Math.floor(rates.length / 2)];
}

/** `plain` re-packed with its records region replaced by `compressed` (codec id `id`). */
function repack(plain: Uint8Array, compressed: Uint8Array, id: number): Uint8Array {
  const out = new Uint8Array(RECORD_BATCH_OVERHEAD + compressed.length);
  out.set(plain.subarray(0, RECORD_BATCH_OVERHEAD));
  out.set(compressed, RECORD_BATCH_OVERHEAD);
  const view = new DataView(out.buffer);
  view.setInt32(8, out.length - 12);
  view.setInt16(21, view.getInt16(21) | id);
  view.setUint32(17, crc32c(out, 21, out.length));
  return out;
}

/** zstd frames of `region` when this Node cannot write them: [label, frame]. */
async function foreignZstd(region: Uint8Array): Promise<[string, Uint8Array][]> {
  const zstd = await import("@bokuweb/zstd-wasm");
  await zstd.init();
  const frames: [string, Uint8Array][] = [["libzstd wasm, level 3", zstd.compress(region, 3)]];
  try {
    const frame = execFileSync("zstd", ["-c", "-3", "--no-content-size"], {
      input: region,
      stdio: ["pipe", "pipe", "ignore"],
    });
    frames.push(["zstd CLI, level 3, size not declared", new Uint8Array(frame)]);
  } catch {
    // no zstd command here: that row is left out
  }
  return frames;
}

const input = records();
const plain = encodeRecordBatch(input);
const region = plain.subarray(RECORD_BATCH_OVERHEAD);
const rows: string[] = [
  `| none | 1.000 | | | ${rate(region.length, () => decodeRecordBatch(plain)).toFixed(0)} |`,
];
const codecs: CompressionCodec[] = ["gzip", "snappy", "lz4", "zstd"];
for (const codec of codecs) {
  if (!canCompress(codec)) {
    for (const [label, frame] of await foreignZstd(region)) {
      const batch = repack(plain, frame, 4);
      const d = rate(region.length, () => decompress(codec, frame, MAX));
      const r = rate(region.length, () => decodeRecordBatch(batch));
      const ratio = (frame.length / region.length).toFixed(3);
      rows.push(
        `| ${codec} (fzstd; frame by ${label}) | ${ratio} | n/a on Node ${process.versions.node} | ${d.toFixed(0)} | ${r.toFixed(0)} |`,
      );
    }
    continue;
  }
  const batch = encodeRecordBatch(input, { compression: codec });
  const compressed = batch.subarray(RECORD_BATCH_OVERHEAD);
  const ratio = (compressed.length / region.length).toFixed(3);
  const c = rate(region.length, () => compress(codec, region));
  const d = rate(region.length, () => decompress(codec, compressed, MAX));
  const r = rate(region.length, () => decodeRecordBatch(batch));
  const impl = codec === "zstd" ? (nativeZstd ? "node:zlib" : "fzstd") : codec === "gzip" ? "node:zlib" : "";
  rows.push(
    `| ${codec}${impl ? ` (${impl})` : ""} | ${ratio} | ${c.toFixed(0)} | ${d.toFixed(0)} | ${r.toFixed(0)} |`,
  );
  if (codec === "zstd" && nativeZstd) {
    const f = rate(region.length, () => zstdDecompress(compressed, MAX, false));
    rows.push(`| zstd (fzstd) | ${ratio} | | ${f.toFixed(0)} | |`);
  }
}
console.log(
  `Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? "?"}, load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(" ")}; ${input.length} records, ${region.length} bytes uncompressed\n`,
);
console.log("| codec | ratio | compress MiB/s | decompress MiB/s | decodeRecordBatch MiB/s |");
console.log("| --- | --- | --- | --- | --- |");
for (const row of rows) console.log(row);
