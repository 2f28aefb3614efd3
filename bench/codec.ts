/**
 * Record codec throughput: `npx tsx bench/codec.ts [seconds per case, default 3]`.
 *
 * Batches of 100 records with 1 KiB values (16-byte keys, one small header), encoded and decoded
 * repeatedly for a fixed time after a warm-up. MB/s counts encoded batch bytes (10^6 bytes). KafkaJS's
 * own codec runs the same workload as a reference point.
 */
import { randomBytes } from "node:crypto";
import { createRequire } from "node:module";
import { crc32c } from "../src/log/crc32c.js";
import { decodeRecordBatch, encodeRecordBatch, type LogRecord } from "../src/log/record-batch.js";
import { decodeSegmentFooter, encodeSegment } from "../src/log/segment.js";

const SECONDS = Number(process.argv[2] ?? 3);
const RECORDS_PER_BATCH = 100;
const VALUE_BYTES = 1024;

const records: LogRecord[] = Array.from({ length: RECORDS_PER_BATCH }, (_, i) => ({
  key: new Uint8Array(randomBytes(16)),
  value: new Uint8Array(randomBytes(VALUE_BYTES)),
  headers: [{ key: "trace-id", value: new TextEncoder().encode(`t-${i}`) }],
  timestamp: 1_700_000_000_000 + i,
}));
const batch = encodeRecordBatch(records);
const segmentChunks = Array.from({ length: 10 }, (_, p) => ({
  topicId: "0f8fad5b-d9cb-469f-a165-70867728950e",
  partition: p,
  data: batch,
}));
const segment = encodeSegment(segmentChunks).bytes;

interface Row {
  name: string;
  mbPerSec: number;
  recordsPerSec: number;
  opsPerSec: number;
}

let sink = 0;

async function measure(
  name: string,
  bytesPerOp: number,
  recordsPerOp: number,
  op: () => unknown | Promise<unknown>,
): Promise<Row> {
  const run = async (ms: number) => {
    let ops = 0;
    const start = performance.now();
    let now = start;
    while (now - start < ms) {
      for (let i = 0; i < 20; i++) {
        const r = op();
        if (r instanceof Promise) await r;
        sink ^= ops;
        ops++;
      }
      now = performance.now();
    }
    return { ops, seconds: (now - start) / 1000 };
  };
  await run(Math.min(1000, SECONDS * 250)); // warm-up: let the JIT settle
  const { ops, seconds } = await run(SECONDS * 1000);
  return {
    name,
    mbPerSec: (ops * bytesPerOp) / seconds / 1e6,
    recordsPerSec: (ops * recordsPerOp) / seconds,
    opsPerSec: ops / seconds,
  };
}

async function main(): Promise<void> {
  const rows: Row[] = [];
  const n = RECORDS_PER_BATCH;
  rows.push(await measure("encodeRecordBatch", batch.length, n, () => encodeRecordBatch(records)));
  rows.push(
    await measure("decodeRecordBatch (CRC checked)", batch.length, n, () => decodeRecordBatch(batch)),
  );
  rows.push(
    await measure("decodeRecordBatch (no CRC)", batch.length, n, () =>
      decodeRecordBatch(batch, 0, { verifyCrc: false }),
    ),
  );
  rows.push(await measure("crc32c alone", batch.length, n, () => crc32c(batch)));
  rows.push(
    await measure("encodeSegment (10 chunks)", segment.length, 10 * n, () => encodeSegment(segmentChunks)),
  );
  rows.push(await measure("decodeSegmentFooter", segment.length, 10 * n, () => decodeSegmentFooter(segment)));

  // Reference: KafkaJS's codec on the same workload.
  const require = createRequire(import.meta.url);
  const { RecordBatch } = require("kafkajs/src/protocol/recordBatch/v0");
  const Record = require("kafkajs/src/protocol/recordBatch/record/v0");
  const decodeKafkaJs = require("kafkajs/src/protocol/recordBatch/v0/decoder");
  const Decoder = require("kafkajs/src/protocol/decoder");
  const kafkaJsInput = records.map((r) => ({
    key: Buffer.from(r.key!),
    value: Buffer.from(r.value!),
    headers: { [r.headers[0].key]: Buffer.from(r.headers[0].value!) },
    timestamp: r.timestamp,
  }));
  const kafkaJsEncode = () =>
    RecordBatch({
      firstTimestamp: records[0].timestamp,
      maxTimestamp: records[n - 1].timestamp,
      lastOffsetDelta: n - 1,
      records: kafkaJsInput.map((r, i) =>
        Record({ offsetDelta: i, timestampDelta: r.timestamp - records[0].timestamp, ...r }),
      ),
    });
  const batchBuffer = Buffer.from(batch);
  rows.push(await measure("kafkajs encode (reference)", batch.length, n, kafkaJsEncode));
  rows.push(
    await measure("kafkajs decode (reference, no CRC)", batch.length, n, () =>
      decodeKafkaJs(new Decoder(batchBuffer)),
    ),
  );

  console.log(
    `RecordBatch v2 codec: ${n} records × ${VALUE_BYTES} B values per batch (${batch.length} B), ` +
      `${SECONDS}s per case, Node ${process.version}\n`,
  );
  const header = ["case", "MB/s", "records/s", "ops/s"];
  const body = rows.map((r) => [
    r.name,
    r.mbPerSec.toFixed(0),
    Math.round(r.recordsPerSec).toLocaleString("en-US"),
    Math.round(r.opsPerSec).toLocaleString("en-US"),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  console.log(line(header));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const row of body) console.log(line(row));
  if (sink === 0.5) console.log(""); // keep results observable
}

await main();
