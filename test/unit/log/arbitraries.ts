import fc from "fast-check";
import type { LogRecord, RecordHeader } from "../../../src/log/record-batch.js";

/** Shared fast-check generators for the log codec tests (not a test file itself). */

export const bytesOrNull = fc.option(fc.uint8Array({ maxLength: 48 }), { nil: null, freq: 4 });

/** Header keys: any well-formed Unicode, including astral characters, the empty string and duplicates. */
export const headerKey = fc.oneof(
  fc.string({ unit: "grapheme", maxLength: 10 }),
  fc.string({ unit: "binary", maxLength: 6 }),
  fc.constantFrom("", "trace-id", "ключ", "🔑", "a\u0000b"),
);

export const header: fc.Arbitrary<RecordHeader> = fc.record({ key: headerKey, value: bytesOrNull });

/** Timestamps whose pairwise differences stay safe integers (the encoder's contract). */
export const timestamp = fc.oneof(
  fc.integer({ min: 1_500_000_000_000, max: 2_000_000_000_000 }),
  fc.integer({ min: -1, max: 2 ** 52 }),
  fc.constantFrom(-1, 0, 2 ** 52, 2 ** 31, 2 ** 32 - 1),
);

export const logRecord: fc.Arbitrary<LogRecord> = fc.record({
  key: bytesOrNull,
  value: fc.oneof(bytesOrNull, fc.uint8Array({ minLength: 100, maxLength: 2000 })),
  headers: fc.oneof(
    fc.constant<RecordHeader[]>([]),
    fc.array(header, { maxLength: 4 }),
    fc.array(header, { maxLength: 40 }),
  ),
  timestamp,
});

export const logRecords = fc.array(logRecord, { minLength: 1, maxLength: 12 });
