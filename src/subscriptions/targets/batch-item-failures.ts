import type { DeliveryRecord, DeliveryResult } from "../types.js";

/**
 * A target's partial batch response (Lambda's ReportBatchItemFailures): `{"batchItemFailures":
 * [{"itemIdentifier": "..."}]}` naming the records it did not process. Lambda's rules for its
 * stream and Kafka event sources apply:
 * - no response, no `batchItemFailures`, or an empty or null list: the whole batch succeeded;
 * - an identifier that is empty, null, malformed or names no record of the batch: the whole batch
 *   failed (nothing is skipped on a response Floe cannot read);
 * - otherwise the batch is checkpointed before the lowest failed offset, which and everything after
 *   it are retried.
 */

/** How identifiers may name a record. */
export interface IdentifierForms {
  /**
   * Also take a bare offset, as a number or a numeric string (the HTTP target's convenience);
   * Lambda's own form `{topic}-{partition}-{offset}` is always taken.
   */
  bareOffsets: boolean;
}

const DIGITS = /^[0-9]+$/;

/** Lambda's Kafka item identifier of a record. */
export function itemIdentifier(record: Pick<DeliveryRecord, "topic" | "partition" | "offset">): string {
  return `${record.topic}-${record.partition}-${record.offset}`;
}

/**
 * What a response body (JSON text, or anything else) says about a batch. Text that is not JSON, or
 * JSON without a `batchItemFailures` field, says the batch succeeded.
 */
export function batchItemFailuresResult(
  body: string,
  records: readonly DeliveryRecord[],
  forms: IdentifierForms,
): DeliveryResult {
  let response: unknown;
  try {
    response = JSON.parse(body);
  } catch {
    return { outcome: "success" };
  }
  if (typeof response !== "object" || response === null || Array.isArray(response)) {
    return { outcome: "success" };
  }
  const failures = (response as { batchItemFailures?: unknown }).batchItemFailures;
  if (failures === undefined || failures === null) return { outcome: "success" };
  if (!Array.isArray(failures)) {
    return { outcome: "error", reason: "batchItemFailures is not a list; the whole batch is retried" };
  }
  if (failures.length === 0) return { outcome: "success" };

  const byIdentifier = new Map<string, number>();
  const offsets = new Set<number>();
  for (const r of records) {
    byIdentifier.set(itemIdentifier(r), r.offset);
    offsets.add(r.offset);
  }
  let lowest = Number.POSITIVE_INFINITY;
  for (const failure of failures) {
    const id =
      typeof failure === "object" && failure !== null
        ? (failure as { itemIdentifier?: unknown }).itemIdentifier
        : undefined;
    const offset = offsetNamed(id, byIdentifier, offsets, forms);
    if (offset === undefined) {
      return {
        outcome: "error",
        reason: `batchItemFailures names no record of the batch (${describe(id)}); the whole batch is retried`,
      };
    }
    if (offset < lowest) lowest = offset;
  }
  return {
    outcome: "partial",
    firstFailedOffset: lowest,
    reason: `the target reported ${failures.length} failed record(s) in batchItemFailures, the first at offset ${lowest}`,
  };
}

/** The offset an identifier names in the batch, or undefined when it names none. */
function offsetNamed(
  id: unknown,
  byIdentifier: ReadonlyMap<string, number>,
  offsets: ReadonlySet<number>,
  forms: IdentifierForms,
): number | undefined {
  if (typeof id === "string") {
    const named = byIdentifier.get(id);
    if (named !== undefined) return named;
    if (forms.bareOffsets && DIGITS.test(id)) {
      const offset = Number(id);
      return offsets.has(offset) ? offset : undefined;
    }
    return undefined;
  }
  if (forms.bareOffsets && typeof id === "number" && Number.isSafeInteger(id) && offsets.has(id)) return id;
  return undefined;
}

/** An identifier as a reason shows it: bounded, since it comes from the target. */
function describe(id: unknown): string {
  if (id === undefined) return "no itemIdentifier";
  const text = JSON.stringify(id) ?? String(id);
  return `itemIdentifier ${text.length > 100 ? `${text.slice(0, 100)}…` : text}`;
}
