import { FloeClientError } from "./client-error.js";
import type { ConsumerConfig } from "./consumer-types.js";

/** Kafka's consumer fetch settings, resolved from a ConsumerConfig with Kafka's defaults. */
export interface FetchSettings {
  /** fetch.min.bytes. */
  minBytes: number;
  /** fetch.max.wait.ms. */
  maxWaitMs: number;
  /** max.partition.fetch.bytes. */
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
 * The Kafka name wins over KafkaJS's alias when both are given. Refuses what the server cannot
 * honour rather than ignoring it: `POST /v1/fetch` answers as soon as any partition has a record
 * (fetch.min.bytes 1) and takes no minimum, so other fetchMinBytes values are an INVALID_CONFIG.
 */
export function fetchSettings(config: ConsumerConfig): FetchSettings {
  const settings: FetchSettings = {
    minBytes: setting(
      "fetchMinBytes",
      config.fetchMinBytes ?? config.minBytes,
      KAFKA_FETCH_DEFAULTS.minBytes,
      1,
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
      1,
    ),
    maxBytes: setting(
      "fetchMaxBytes",
      config.fetchMaxBytes ?? config.maxBytes,
      KAFKA_FETCH_DEFAULTS.maxBytes,
      1,
    ),
    maxRecords: setting("maxRecords", config.maxRecords, 500, 1),
  };
  if (settings.minBytes !== 1) {
    throw new FloeClientError(
      "INVALID_CONFIG",
      `fetchMinBytes (fetch.min.bytes) ${settings.minBytes} is not supported: the server answers a fetch as soon as any partition has a record, which is fetch.min.bytes 1`,
    );
  }
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
