import { describe, expect, it } from "vitest";
import { FloeError } from "../../../src/errors.js";
import {
  emptyReport,
  errorEntry,
  mergeReports,
  reportMetrics,
  summarizeCycle,
} from "../../../src/maintenance/report.js";

describe("maintenance report", () => {
  it("summarises a pass: average object size and segments per partition", () => {
    const s = summarizeCycle({ startedAt: 1, partitions: 4, segments: 10, objects: 3, bytes: 3001 }, 9);
    expect(s).toMatchObject({ completedAt: 9, averageObjectBytes: 1000, segmentsPerPartition: 2.5 });
    expect(
      summarizeCycle({ startedAt: 1, partitions: 0, segments: 0, objects: 0, bytes: 0 }, 2),
    ).toMatchObject({
      averageObjectBytes: 0,
      segmentsPerPartition: 0,
    });
  });

  it("emits work metrics every slice and storage-shape metrics only when a pass completed", () => {
    const r = emptyReport("w", 0);
    r.compaction.merges = 2;
    r.gc.bytesDeleted = 100;
    const names = reportMetrics(r).map((p) => p.name);
    expect(names).toContain("Merges");
    expect(names).not.toContain("SegmentsPerPartition");
    expect(reportMetrics(r).find((p) => p.name === "BytesDeleted")).toEqual({
      name: "BytesDeleted",
      unit: "Bytes",
      value: 100,
    });
    r.cycle = summarizeCycle({ startedAt: 0, partitions: 2, segments: 6, objects: 2, bytes: 10 }, 1);
    const points = Object.fromEntries(reportMetrics(r).map((p) => [p.name, p.value]));
    expect(points).toMatchObject({
      Objects: 2,
      ObjectBytes: 10,
      AverageObjectBytes: 5,
      SegmentsPerPartition: 3,
    });
  });

  it("sums slices into one report", () => {
    const a = emptyReport("w", 10);
    a.compaction.merges = 1;
    a.errors.push(errorEntry("gc", new FloeError("KAFKA_STORAGE_ERROR", "down")));
    const b = emptyReport("w", 20);
    b.finishedAt = 30;
    b.compaction.merges = 2;
    b.cycleComplete = true;
    b.errors.push(errorEntry("t/0", new Error("boom")));
    const sum = mergeReports(a, b);
    expect(sum).toMatchObject({
      startedAt: 10,
      finishedAt: 30,
      cycleComplete: true,
      compaction: { merges: 3 },
    });
    expect(sum.errors.map((e) => e.code)).toEqual(["KAFKA_STORAGE_ERROR", "UNKNOWN_SERVER_ERROR"]);
  });
});
