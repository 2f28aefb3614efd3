import type { DeliveryRecord } from "../types.js";

/**
 * The event a Lambda target receives: the one Lambda's event source for self-managed Apache Kafka
 * sends, so a function written for Kafka (or for MSK, whose event differs only in `eventSource` and
 * an `eventSourceArn`) — and the parsers in Powertools and the runtime libraries — reads Floe's
 * batches unchanged. Floe adds `floeSubscription`, the subscription's name.
 */
export interface MskEvent {
  eventSource: "SelfManagedKafka";
  /** Lambda's comma-separated broker list; here the Floe endpoint the dispatcher names. */
  bootstrapServers: string;
  /** Records grouped by `{topic}-{partition}`, each group in offset order. */
  records: Record<string, MskEventRecord[]>;
  floeSubscription: string;
}

export interface MskEventRecord {
  topic: string;
  partition: number;
  offset: number;
  timestamp: number;
  timestampType: "CREATE_TIME";
  /** Base64; absent when the record has no key, as in Lambda's event. */
  key?: string;
  /** Base64; absent for a tombstone (a null value), as in Lambda's event. */
  value?: string;
  /** Each header an object of one name to its value's bytes as numbers, in the record's order. */
  headers: Record<string, number[]>[];
}

/** What bootstrapServers says when the dispatcher names no endpoint. */
export const DEFAULT_BOOTSTRAP_SERVERS = "floe";

export function mskEvent(
  subscriptionName: string,
  records: readonly DeliveryRecord[],
  bootstrapServers: string = DEFAULT_BOOTSTRAP_SERVERS,
): MskEvent {
  const grouped: Record<string, MskEventRecord[]> = {};
  for (const r of records) {
    // Never an Object.prototype member's name: it ends in "-{partition}".
    (grouped[`${r.topic}-${r.partition}`] ??= []).push(mskEventRecord(r));
  }
  return {
    eventSource: "SelfManagedKafka",
    bootstrapServers,
    records: grouped,
    floeSubscription: subscriptionName,
  };
}

function mskEventRecord(r: DeliveryRecord): MskEventRecord {
  const out: MskEventRecord = {
    topic: r.topic,
    partition: r.partition,
    offset: r.offset,
    timestamp: r.timestamp,
    timestampType: "CREATE_TIME",
    headers: r.headers.map((h) => ({
      // Kafka allows a null header value; the event has no null form for one, so it is empty bytes.
      [h.key]: h.value === null ? [] : Array.from(h.value),
    })),
  };
  if (r.key !== null) out.key = base64(r.key);
  if (r.value !== null) out.value = base64(r.value);
  return out;
}

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}
