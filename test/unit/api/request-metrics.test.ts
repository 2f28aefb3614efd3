import { describe, expect, it } from "vitest";
import { FLOE_METRICS } from "../../../cdk/observability.js";
import { REQUEST_METRIC_NAMES, RequestTally } from "../../../src/api/request-metrics.js";
import { FloeError } from "../../../src/errors.js";
import { encodeRecordBatch } from "../../../src/log/record-batch.js";

const bytes = (text: string) => new TextEncoder().encode(text);
const record = (
  key: string | null,
  value: string | null,
  headers: { key: string; value: string }[] = [],
) => ({
  key: key === null ? null : bytes(key),
  value: value === null ? null : bytes(value),
  headers: headers.map((h) => ({ key: h.key, value: bytes(h.value) })),
});
const fetched = (records: ReturnType<typeof record>[], nextOffset: number, highWatermark: number) => ({
  topic: "t",
  partition: 0,
  records: records.map((r, i) => ({ ...r, offset: i, timestamp: 0 })),
  nextOffset,
  highWatermark,
  logStartOffset: 0,
});
const values = (tally: RequestTally) => Object.fromEntries(tally.points().map((p) => [p.name, p.value]));

describe("RequestTally", () => {
  it("uses the names the dashboard searches for", () => {
    expect(Object.values(REQUEST_METRIC_NAMES).sort()).toEqual(
      [
        FLOE_METRICS.recordsIn.name,
        FLOE_METRICS.recordsOut.name,
        FLOE_METRICS.bytesIn.name,
        FLOE_METRICS.bytesOut.name,
        FLOE_METRICS.consumerLag.name,
      ].sort(),
    );
  });

  it("counts a produce's records and their key, value and header bytes (UTF-8)", () => {
    const tally = new RequestTally();
    tally.produced({
      topic: "t",
      records: [record("k", "hello"), record(null, null), record("ké", "v", [{ key: "hé", value: "xy" }])],
    });
    expect(tally.points()).toEqual([
      { name: "RecordsIn", unit: "Count", value: 3 },
      { name: "BytesIn", unit: "Bytes", value: 1 + 5 + 3 + 1 + 3 + 2 },
    ]);
  });

  it("counts a binary produce's records from the batch headers and its bytes as sent", () => {
    const a = encodeRecordBatch([
      { ...record("a", "1"), timestamp: 1 },
      { ...record("b", "2"), timestamp: 1 },
    ]);
    const b = encodeRecordBatch([{ ...record(null, "3"), timestamp: 1 }]);
    const framed = new Uint8Array([...a, ...b]);
    const tally = new RequestTally();
    tally.produced({
      topic: "t",
      batches: [
        { partition: 0, bytes: framed },
        { partition: 1, bytes: b },
      ],
    });
    expect(values(tally)).toEqual({ RecordsIn: 4, BytesIn: framed.length + b.length });
  });

  it("defines ConsumerLag as the largest highWatermark − nextOffset over the partitions answered", () => {
    const tally = new RequestTally();
    tally.fetchedMany([
      fetched([record("k", "vv")], 4, 10),
      { topic: "t", partition: 1, error: new FloeError("UNKNOWN_TOPIC_OR_PARTITION", "no") },
      fetched([], 7, 7),
    ]);
    expect(tally.points()).toEqual([
      { name: "RecordsOut", unit: "Count", value: 1 },
      { name: "BytesOut", unit: "Bytes", value: 3 },
      { name: "ConsumerLag", unit: "Count", value: 6 },
    ]);
  });

  it("counts a raw fetch's records and bytes as the broker answered them", () => {
    const tally = new RequestTally();
    tally.fetched({
      topic: "t",
      partition: 0,
      bytes: new Uint8Array(300),
      batches: 2,
      records: 9,
      nextOffset: 9,
      highWatermark: 12,
      logStartOffset: 0,
    });
    expect(values(tally)).toEqual({ RecordsOut: 9, BytesOut: 300, ConsumerLag: 3 });
  });

  it("publishes nothing for a request that neither produced nor fetched, and a caught-up fetch says lag 0", () => {
    expect(new RequestTally().points()).toEqual([]);
    const tally = new RequestTally();
    tally.fetched(fetched([], 5, 5));
    expect(values(tally)).toEqual({ RecordsOut: 0, BytesOut: 0, ConsumerLag: 0 });
  });
});
