import type { GroupCommitterOptions } from "../broker/group-committer.js";

/**
 * How a long-running server batches produce requests into objects (architecture §3), as WarpStream's
 * batch timeout does: linger longer and each object holds more, so there are fewer PUTs and
 * commits per GiB, at the price of ack latency. Flags override a profile's values.
 */
export const BATCHING_PROFILES = {
  /**
   * No linger: a batch is written as soon as no other is being written, and requests that arrive
   * meanwhile share the next object, so objects grow with load the way a database's group commit
   * does. Clients already linger (Kafka's linger.ms, 5 ms in Kafka 4 and in Floe's producer); a
   * second 5 ms here added to every ack and cost KafkaJS 15-20 % of its throughput (decision 0011).
   * Waiting buys fewer objects only where a write is quicker than the wait: not on S3, whose PUT
   * takes longer than any linger worth having, so the batch in flight bounds the PUTs there too.
   */
  default: { lingerMs: 0, maxBatchBytes: 4 * 1024 * 1024 },
  /** No linger and small objects, so a commit is quick and the next one starts soon. */
  "low-latency": { lingerMs: 0, maxBatchBytes: 1024 * 1024 },
  /**
   * Objects of 4 MiB and more: at 10 MiB/s a batch fills in about 400 ms, the linger ends the rest.
   * The size bound sits one request above 4 MiB so a full batch is never cut just under it.
   */
  "low-cost": { lingerMs: 400, maxBatchBytes: 4 * 1024 * 1024 + 512 * 1024 },
} as const satisfies Record<string, Required<Pick<GroupCommitterOptions, "lingerMs" | "maxBatchBytes">>>;

export type BatchingProfileName = keyof typeof BATCHING_PROFILES;

export const BATCHING_PROFILE_NAMES = Object.keys(BATCHING_PROFILES) as BatchingProfileName[];

export interface BatchingChoice {
  profile?: BatchingProfileName;
  lingerMs?: number;
  maxBatchBytes?: number;
}

export interface ResolvedBatching {
  profile: BatchingProfileName;
  lingerMs: number;
  maxBatchBytes: number;
}

export function resolveBatching(choice: BatchingChoice = {}): ResolvedBatching {
  const profile = choice.profile ?? "default";
  const preset = BATCHING_PROFILES[profile];
  if (!preset) {
    throw new RangeError(
      `unknown batching profile "${profile}"; expected one of ${BATCHING_PROFILE_NAMES.join(", ")}`,
    );
  }
  return {
    profile,
    lingerMs: choice.lingerMs ?? preset.lingerMs,
    maxBatchBytes: choice.maxBatchBytes ?? preset.maxBatchBytes,
  };
}

const UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
};

/** "4194304", "512KiB", "4MiB" (binary units; KB and MB are read as KiB and MiB, as Kafka's sizes are). */
export function parseByteSize(text: string): number | undefined {
  const m = /^(\d+)\s*([a-z]*)$/i.exec(text.trim());
  if (!m) return undefined;
  const unit = UNITS[m[2].toLowerCase()];
  if (unit === undefined) return undefined;
  const n = Number(m[1]) * unit;
  return Number.isSafeInteger(n) && n >= 1 ? n : undefined;
}

/** "4 MiB", "1.5 KiB", "300 B": for the banner. */
export function formatByteSize(bytes: number): string {
  if (bytes >= 1024 ** 2) return `${Number((bytes / 1024 ** 2).toFixed(2))} MiB`;
  if (bytes >= 1024) return `${Number((bytes / 1024).toFixed(2))} KiB`;
  return `${bytes} B`;
}
