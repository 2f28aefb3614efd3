import { FloeClientError } from "./client-error.js";
import type { ConsumerConfig } from "./consumer-types.js";

/** Kafka's consumer fetch settings, resolved from a ConsumerConfig with Kafka's defaults. */
export interface FetchSettings {
  /** fetch.min.bytes (0 answers at once, as in Kafka). */
  minBytes: number;
  /** fetch.max.wait.ms. */
  maxWaitMs: number;
  /** max.partition.fetch.bytes (0: one record of the first partition with data, as in Kafka). */
  maxPartitionBytes: number;
  /** fetch.max.bytes. */
  maxBytes: number;
  /** Records per partition per fetch. */
  maxRecords: number;
}

/** Kafka's defaults (ConsumerConfig in Apache Kafka 4). */
export const KAFKA_FETCH_DEFAULTS = {
  minBytes: 1,
  maxWaitMs: 500,
  maxPartitionBytes: 1024 * 1024,
  maxBytes: 50 * 1024 * 1024,
} as const;

/**
 * The Kafka name wins over KafkaJS's alias when both are given. Each is sent with every
 * `POST /v1/fetch` (minBytes, maxWaitMs, partitionMaxBytes, maxBytes), which honours them as Kafka's
 * broker does; a value Kafka's consumer would refuse is an INVALID_CONFIG.
 */
export function fetchSettings(config: ConsumerConfig): FetchSettings {
  const settings: FetchSettings = {
    minBytes: setting(
      "fetchMinBytes",
      config.fetchMinBytes ?? config.minBytes,
      KAFKA_FETCH_DEFAULTS.minBytes,
      0,
    ),
    maxWaitMs: setting(
      "fetchMaxWaitMs",
      config.fetchMaxWaitMs ?? config.maxWaitTimeInMs,
      KAFKA_FETCH_DEFAULTS.maxWaitMs,
      0,
    ),
    maxPartitionBytes: setting(
      "maxPartitionFetchBytes",
      config.maxPartitionFetchBytes ?? config.maxBytesPerPartition,
      KAFKA_FETCH_DEFAULTS.maxPartitionBytes,
      0,
    ),
    maxBytes: setting(
      "fetchMaxBytes",
      config.fetchMaxBytes ?? config.maxBytes,
      KAFKA_FETCH_DEFAULTS.maxBytes,
      1,
    ),
    maxRecords: setting("maxRecords", config.maxRecords, 500, 1),
  };
  return settings;
}

function setting(name: string, given: number | undefined, fallback: number, min: number): number {
  if (given === undefined) return fallback;
  if (!Number.isSafeInteger(given) || given < min) {
    throw new FloeClientError(
      "INVALID_CONFIG",
      `consumer ${name} must be an integer >= ${min}, got ${given}`,
    );
  }
  return given;
}
