import type { ConsumedRecord } from "../client/types.js";

export interface RecordFormat {
  printKey: boolean;
  printOffset: boolean;
  printPartition: boolean;
  printTimestamp: boolean;
  /** "CreateTime" or "LogAppendTime", from the topic's message.timestamp.type. */
  timestampType: string;
  /** Between the printed fields; Kafka's key.separator, a tab by default. */
  separator: Buffer;
}

const NEWLINE = Buffer.from("\n");
const NULL = Buffer.from("null");

/**
 * One record as Kafka's DefaultMessageFormatter prints it: the optional fields in its order
 * (timestamp, partition, offset, key), each followed by the separator, then the value's bytes
 * unchanged and a newline. A null key or value prints as "null", as Kafka's does.
 */
export function formatRecord(record: ConsumedRecord, partition: number, format: RecordFormat): Buffer[] {
  const parts: Buffer[] = [];
  const field = (text: string) => parts.push(Buffer.from(text, "utf8"), format.separator);
  if (format.printTimestamp) field(`${format.timestampType}:${record.timestamp}`);
  if (format.printPartition) field(`Partition:${partition}`);
  if (format.printOffset) field(`Offset:${record.offset}`);
  if (format.printKey) parts.push(record.key ?? NULL, format.separator);
  parts.push(record.value ?? NULL, NEWLINE);
  return parts;
}
