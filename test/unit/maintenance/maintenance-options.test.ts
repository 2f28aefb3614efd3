import { describe, expect, it } from "vitest";
import { FloeError } from "../../../src/errors.js";
import {
  DEFAULT_SEGMENT_BYTES,
  MAX_SEGMENTS_PER_MERGE,
  maintenanceOptionsFromEnv,
  resolveMaintenanceOptions,
} from "../../../src/maintenance/maintenance-options.js";

describe("maintenance options", () => {
  it("defaults: 8 MiB segments, 10-minute grace, 60 s leases, merges of 4 to 30", () => {
    const o = resolveMaintenanceOptions();
    expect(o).toMatchObject({
      segmentBytes: DEFAULT_SEGMENT_BYTES,
      gcGraceMs: 600_000,
      leaseMs: 60_000,
      minSegmentsPerMerge: 4,
      maxSegmentsPerMerge: 30,
    });
    expect(DEFAULT_SEGMENT_BYTES).toBe(8 * 1024 * 1024);
    expect(o.owner).toMatch(/\/\d+\/[0-9a-f]{8}$/);
  });

  it("keeps one merge within one 100-item transaction", () => {
    expect(2 * MAX_SEGMENTS_PER_MERGE + 2).toBeLessThanOrEqual(100);
    expect(() => resolveMaintenanceOptions({ maxSegmentsPerMerge: MAX_SEGMENTS_PER_MERGE + 1 })).toThrow(
      FloeError,
    );
    expect(() => resolveMaintenanceOptions({ minSegmentsPerMerge: 10, maxSegmentsPerMerge: 5 })).toThrow(
      FloeError,
    );
    expect(() => resolveMaintenanceOptions({ segmentBytes: 0 })).toThrow(/segmentBytes/);
  });

  it("reads overrides from the environment and refuses malformed ones", () => {
    expect(maintenanceOptionsFromEnv({})).toEqual({});
    expect(
      maintenanceOptionsFromEnv({
        FLOE_SEGMENT_BYTES: "1048576",
        FLOE_GC_GRACE_MS: "900000",
        FLOE_LEASE_MS: " ",
      }),
    ).toEqual({ segmentBytes: 1_048_576, gcGraceMs: 900_000 });
    expect(() => maintenanceOptionsFromEnv({ FLOE_GC_GRACE_MS: "ten minutes" })).toThrow(/FLOE_GC_GRACE_MS/);
  });
});
