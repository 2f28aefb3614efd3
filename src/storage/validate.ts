/**
 * Request checks every adapter applies identically, so a caller's mistake fails the same way on
 * every backend instead of passing on one and failing on another.
 */
import { FloeError } from "../errors.js";
import { type ByteRange, type Condition, MAX_TRANSACT_OPS, type WriteOp } from "./ports.js";

/** ObjectStore.list returns at most this many keys when no limit is given (S3's page size). */
export const DEFAULT_LIST_LIMIT = 1000;

export function assertPk(pk: unknown): void {
  if (typeof pk !== "string" || pk === "") {
    throw new FloeError("INVALID_REQUEST", "metadata key pk must be a non-empty string");
  }
}

/** pk and sk must be non-empty strings (DynamoDB rejects empty key attributes). */
export function assertItemKey(pk: unknown, sk: unknown): void {
  assertPk(pk);
  if (typeof sk !== "string" || sk === "") {
    throw new FloeError("INVALID_REQUEST", "metadata key sk must be a non-empty string");
  }
}

export function assertCondition(condition: Condition | undefined, index: number): void {
  if (condition === undefined) return;
  if ("absent" in condition) {
    if (condition.absent !== true) {
      throw new FloeError("INVALID_REQUEST", `op ${index}: condition.absent must be true`);
    }
    return;
  }
  if (!Number.isSafeInteger(condition.version) || condition.version < 1) {
    throw new FloeError("INVALID_REQUEST", `op ${index}: condition.version must be a positive integer`);
  }
}

/** At most MAX_TRANSACT_OPS ops, valid keys and conditions, each (pk, sk) at most once. */
export function validateTransact(ops: WriteOp[]): void {
  if (!Array.isArray(ops)) throw new FloeError("INVALID_REQUEST", "transact expects an array of ops");
  if (ops.length > MAX_TRANSACT_OPS) {
    throw new FloeError(
      "INVALID_REQUEST",
      `a transact carries at most ${MAX_TRANSACT_OPS} ops, got ${ops.length}`,
    );
  }
  const seen = new Set<string>();
  ops.forEach((op, i) => {
    if (op.type !== "put" && op.type !== "delete" && op.type !== "check") {
      throw new FloeError(
        "INVALID_REQUEST",
        `op ${i}: unknown type ${String((op as { type: unknown }).type)}`,
      );
    }
    assertItemKey(op.pk, op.sk);
    if (op.type === "check" && op.condition === undefined) {
      throw new FloeError("INVALID_REQUEST", `op ${i}: a check needs a condition`);
    }
    assertCondition(op.condition, i);
    if (op.type === "put" && (op.data === null || typeof op.data !== "object" || Array.isArray(op.data))) {
      throw new FloeError("INVALID_REQUEST", `op ${i}: put data must be an object`);
    }
    const id = JSON.stringify([op.pk, op.sk]);
    if (seen.has(id)) {
      throw new FloeError(
        "INVALID_REQUEST",
        `op ${i}: item (${op.pk}, ${op.sk}) appears twice in one transact`,
      );
    }
    seen.add(id);
  });
}

/** Whether an item currently at `version` (undefined: absent) satisfies `condition`. */
export function conditionHolds(condition: Condition | undefined, version: number | undefined): boolean {
  if (condition === undefined) return true;
  if ("absent" in condition) return version === undefined;
  return version === condition.version;
}

/** Rejects malformed ranges; a range reaching past the end is clamped by the adapters. */
export function assertByteRange(range: ByteRange): void {
  const { start, end } = range;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
    throw new FloeError("INVALID_REQUEST", `invalid byte range [${start}, ${end})`);
  }
}

export function assertListLimit(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_LIST_LIMIT;
  if (!Number.isSafeInteger(limit) || limit < 0) {
    throw new FloeError("INVALID_REQUEST", `invalid list limit ${limit}`);
  }
  return limit;
}

export function assertQueryLimit(limit: number | undefined): number {
  if (limit === undefined) return Number.POSITIVE_INFINITY;
  if (!Number.isSafeInteger(limit) || limit < 0) {
    throw new FloeError("INVALID_REQUEST", `invalid query limit ${limit}`);
  }
  return limit;
}

/** S3's limit on a key's length. */
export const MAX_OBJECT_KEY_BYTES = 1024;

/**
 * Object keys are "/"-separated paths: non-empty, relative, no empty, "." or ".." segments, no NUL,
 * at most 1024 UTF-8 bytes. The same rules on every backend, so a key that works in tests works on
 * the file system (where it becomes a path) and on S3.
 */
export function assertObjectKey(key: unknown): asserts key is string {
  if (typeof key !== "string" || key === "") {
    throw new FloeError("INVALID_REQUEST", "object key must be a non-empty string");
  }
  if (Buffer.byteLength(key, "utf8") > MAX_OBJECT_KEY_BYTES) {
    throw new FloeError("INVALID_REQUEST", `object key longer than ${MAX_OBJECT_KEY_BYTES} bytes`);
  }
  if (key.includes("\0")) throw new FloeError("INVALID_REQUEST", "object key contains NUL");
  for (const segment of key.split("/")) {
    if (segment === "" || segment === "." || segment === "..") {
      throw new FloeError("INVALID_REQUEST", `invalid object key ${JSON.stringify(key)}`);
    }
  }
}
