import type { ConsumedRecord } from "../client/types.js";

export interface RecordFormat {
  printKey: boolean;
  printOffset: boolean;
  printPartition: boolean;
  printTimestamp: boolean;
  /** print.value: default true. */
  printValue?: boolean;
  /** print.headers: `k:v` pairs, or NO_HEADERS. */
  printHeaders?: boolean;
  /** print.delivery: Kafka's share-group delivery count; always NONE here (no share groups). */
  printDelivery?: boolean;
  /** "CreateTime" or "LogAppendTime", from the topic's message.timestamp.type. */
  timestampType: string;
  /** Between the printed fields; Kafka's key.separator, a tab by default. */
  separator: Buffer;
  /** After each record; Kafka's line.separator, "\n" by default. */
  lineSeparator?: Buffer;
  /** Between headers; Kafka's headers.separator, "," by default. */
  headersSeparator?: Buffer;
  /** What a null key, value or header value prints as; Kafka's null.literal, "null" by default. */
  nullLiteral?: Buffer;
}

const NEWLINE = Buffer.from("\n");
const NULL = Buffer.from("null");
const COMMA = Buffer.from(",");
const COLON = Buffer.from(":");
const NO_HEADERS = Buffer.from("NO_HEADERS");

/**
 * One record as Kafka's DefaultMessageFormatter prints it: the fields in its order (timestamp,
 * partition, offset, delivery, headers, key, value), each followed by key.separator when another
 * field follows and by line.separator when it is the last; the value is followed by line.separator.
 * Keys, values and header values are their bytes unchanged; null prints as null.literal.
 */
export function formatRecord(record: ConsumedRecord, partition: number, format: RecordFormat): Buffer[] {
  const printValue = format.printValue ?? true;
  const lineSeparator = format.lineSeparator ?? NEWLINE;
  const nullLiteral = format.nullLiteral ?? NULL;
  const fields: (() => void)[] = [];
  const parts: Buffer[] = [];
  const text = (s: string) => parts.push(Buffer.from(s, "utf8"));
  if (format.printTimestamp) fields.push(() => text(`${format.timestampType}:${record.timestamp}`));
  if (format.printPartition) fields.push(() => text(`Partition:${partition}`));
  if (format.printOffset) fields.push(() => text(`Offset:${record.offset}`));
  if (format.printDelivery) fields.push(() => text("Delivery:NONE"));
  if (format.printHeaders) {
    fields.push(() => {
      const entries = Object.entries(record.headers ?? {});
      if (entries.length === 0) parts.push(NO_HEADERS);
      entries.forEach(([name, value], i) => {
        if (i > 0) parts.push(format.headersSeparator ?? COMMA);
        parts.push(Buffer.from(name, "utf8"), COLON, value ?? nullLiteral);
      });
    });
  }
  if (format.printKey) fields.push(() => parts.push(record.key ?? nullLiteral));
  fields.forEach((write, i) => {
    write();
    parts.push(i < fields.length - 1 || printValue ? format.separator : lineSeparator);
  });
  if (printValue) parts.push(record.value ?? nullLiteral, lineSeparator);
  return parts;
}
