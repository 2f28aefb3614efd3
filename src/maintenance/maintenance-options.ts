import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { FloeError } from "../errors.js";
import { MAX_TRANSACT_OPS } from "../storage/ports.js";

export interface MaintenanceOptions {
  /** Names this worker in lease items (and so in `describe`); unique per instance by default. */
  owner?: string;
  clock?: () => number;
  random?: () => number;
  /**
   * The object size compaction aims for, after Kafka's `segment.bytes` (1 GiB there, where a
   * segment is a local file; object storage wants fewer, mid-sized GETs). Default 8 MiB. Segments
   * at or above half of it are left alone.
   */
  segmentBytes?: number;
  /**
   * Adjacent small segments of one generation are merged once at least this many have gathered,
   * so a trickling partition rewrites each byte about log_n(segmentBytes / append size) times, not
   * once per maintenance run. Default 4.
   */
  minSegmentsPerMerge?: number;
  /** The most segments one merge swaps; each costs two items of the one 100-item transaction. Default 30. */
  maxSegmentsPerMerge?: number;
  /**
   * How long an object stays after it lost its last reference (or, for an orphan, after it was
   * written): longer than any fetch can take between reading the index and reading the object.
   * Default 10 minutes.
   */
  gcGraceMs?: number;
  /** How long a partition lease lasts; renewed at half-time between steps. Default 60 s. */
  leaseMs?: number;
  /** Objects listed per garbage-collection page. Default 1000 (an S3 page). */
  gcPageSize?: number;
  /** Object reads, writes and deletes in flight at once. Default 16. */
  concurrency?: number;
  /**
   * Kafka's producer.id.expiration.ms: an idempotent producer's state on a partition is dropped
   * after this long without a write there, and the producer once none is left. Default 1 day.
   */
  producerIdExpirationMs?: number;
}

export type ResolvedMaintenanceOptions = Required<MaintenanceOptions>;

export const DEFAULT_SEGMENT_BYTES = 8 * 1024 * 1024;

/** One merge commits a fence, n segment items, up to n old objects' refs and the new object's ref. */
export const MAX_SEGMENTS_PER_MERGE = Math.floor((MAX_TRANSACT_OPS - 2) / 2);

export function resolveMaintenanceOptions(options: MaintenanceOptions = {}): ResolvedMaintenanceOptions {
  const resolved: ResolvedMaintenanceOptions = {
    owner: options.owner ?? `${hostname()}/${process.pid}/${randomUUID().slice(0, 8)}`,
    clock: options.clock ?? Date.now,
    random: options.random ?? Math.random,
    segmentBytes: options.segmentBytes ?? DEFAULT_SEGMENT_BYTES,
    minSegmentsPerMerge: options.minSegmentsPerMerge ?? 4,
    maxSegmentsPerMerge: options.maxSegmentsPerMerge ?? 30,
    gcGraceMs: options.gcGraceMs ?? 10 * 60 * 1000,
    leaseMs: options.leaseMs ?? 60_000,
    gcPageSize: options.gcPageSize ?? 1000,
    concurrency: options.concurrency ?? 16,
    producerIdExpirationMs: options.producerIdExpirationMs ?? 24 * 60 * 60 * 1000,
  };
  const positive = (name: keyof ResolvedMaintenanceOptions, min: number, max = Number.MAX_SAFE_INTEGER) => {
    const v = resolved[name];
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < min || v > max) {
      throw new FloeError(
        "INVALID_CONFIG",
        `maintenance ${name} must be an integer in [${min}, ${max}], got ${v}`,
      );
    }
  };
  positive("segmentBytes", 1024);
  positive("maxSegmentsPerMerge", 2, MAX_SEGMENTS_PER_MERGE);
  positive("minSegmentsPerMerge", 2, resolved.maxSegmentsPerMerge);
  positive("gcGraceMs", 0);
  positive("leaseMs", 1000);
  positive("gcPageSize", 1, 1000);
  positive("concurrency", 1, 256);
  return resolved;
}

/**
 * Overrides from the environment, for the Lambda function: FLOE_SEGMENT_BYTES, FLOE_GC_GRACE_MS,
 * FLOE_LEASE_MS. Unset means the default; a malformed value fails loudly rather than being ignored.
 */
export function maintenanceOptionsFromEnv(env: NodeJS.ProcessEnv): MaintenanceOptions {
  const options: MaintenanceOptions = {};
  const read = (name: string, key: "segmentBytes" | "gcGraceMs" | "leaseMs") => {
    const raw = env[name]?.trim();
    if (!raw) return;
    const n = Number(raw);
    if (!Number.isSafeInteger(n))
      throw new FloeError("INVALID_CONFIG", `${name} must be an integer, got ${JSON.stringify(raw)}`);
    options[key] = n;
  };
  read("FLOE_SEGMENT_BYTES", "segmentBytes");
  read("FLOE_GC_GRACE_MS", "gcGraceMs");
  read("FLOE_LEASE_MS", "leaseMs");
  return options;
}
