/**
 * The two ports every backend implements. Domain logic (broker/, groups/, maintenance/) is written
 * once against these and never learns which backend it runs on. Adapters hold no business logic.
 */

export interface ByteRange {
  /** First byte, inclusive. */
  start: number;
  /** Last byte, exclusive. */
  end: number;
}

export interface ObjectInfo {
  key: string;
  size: number;
  /** Milliseconds since the epoch. */
  lastModified: number;
}

/** Immutable objects: written once, read whole or by range, deleted by garbage collection. */
export interface ObjectStore {
  /**
   * Writes the whole object; resolves once it is as durable as the store promises (S3: durable;
   * the file store: per its flush policy, decision 0010), and always before a commit may name it.
   * Keys are never reused.
   */
  put(key: string, body: Uint8Array): Promise<void>;
  /** Reads the object or a byte range of it. Throws StorageError (NoSuchKey → not retriable). */
  get(key: string, range?: ByteRange): Promise<Uint8Array>;
  /** Deletes; deleting a missing key is not an error. */
  delete(key: string): Promise<void>;
  /** Lists keys under a prefix in lexicographic order, one page at a time. */
  list(prefix: string, options?: { startAfter?: string; limit?: number }): Promise<ObjectInfo[]>;
  close(): Promise<void>;
}

/** A JSON-compatible document: what an item holds besides its keys and version. */
export type Doc = { [field: string]: DocValue };
export type DocValue = string | number | boolean | null | DocValue[] | { [field: string]: DocValue };

export interface Item {
  pk: string;
  sk: string;
  /** Starts at 1 when the item is created and grows by 1 on every put. */
  version: number;
  data: Doc;
}

export type Condition =
  /** The item must not exist. */
  | { absent: true }
  /** The item must exist with exactly this version. */
  | { version: number };

export type WriteOp =
  /** Creates or replaces the item's data; the store sets version to previous + 1 (1 if new). */
  | { type: "put"; pk: string; sk: string; data: Doc; condition?: Condition }
  | { type: "delete"; pk: string; sk: string; condition?: Condition }
  /** Writes nothing: only asserts the condition as part of the transaction. */
  | { type: "check"; pk: string; sk: string; condition: Condition };

/** Sort-key range for a query; all bounds optional and combinable. */
export interface KeyRange {
  gt?: string;
  gte?: string;
  lt?: string;
  lte?: string;
  /** Only sort keys starting with this. */
  prefix?: string;
}

export interface QueryOptions extends KeyRange {
  /** At most this many items (after range filtering). */
  limit?: number;
  /** Descending sort-key order. */
  reverse?: boolean;
}

/** The most operations one transact call may carry (DynamoDB's TransactWriteItems limit). */
export const MAX_TRANSACT_OPS = 100;

/**
 * An ordered key-value store with conditional, atomic multi-item writes. Reads are strongly
 * consistent: a read after an acknowledged transact sees it.
 */
export interface MetaStore {
  get(pk: string, sk: string): Promise<Item | undefined>;
  query(pk: string, options?: QueryOptions): Promise<Item[]>;
  /**
   * Applies every op or none. Throws ConditionFailedError if any condition fails, StorageError on
   * backend failure. At most MAX_TRANSACT_OPS ops, each (pk, sk) at most once.
   */
  transact(ops: WriteOp[]): Promise<void>;
  close(): Promise<void>;
}

export interface Backend {
  readonly kind: "memory" | "embedded" | "aws";
  readonly objects: ObjectStore;
  readonly meta: MetaStore;
  close(): Promise<void>;
}
