/**
 * MetaStore on SQLite (better-sqlite3): one `(pk, sk, version, doc)` table, WAL journal,
 * synchronous=FULL (an acknowledged transact survives power loss), every transact one
 * BEGIN IMMEDIATE transaction. Several processes may share one file: busy_timeout makes a writer
 * wait for the lock instead of failing.
 */
import Database from "better-sqlite3";
import { ConditionFailedError, FloeError, StorageError } from "../errors.js";
import { foldBounds } from "./order.js";
import type { Doc, Item, MetaStore, QueryOptions, WriteOp } from "./ports.js";
import { assertItemKey, assertPk, assertQueryLimit, conditionHolds, validateTransact } from "./validate.js";

export interface SqliteMetaStoreOptions {
  /** How long a writer waits for another connection's lock before failing (ms). Default 10 s. */
  busyTimeoutMs?: number;
}

interface Row {
  pk: string;
  sk: string;
  version: number;
  doc: string;
}

/** SQLite result codes worth a retry: lock contention, a full or failing disk. */
const RETRIABLE = /^SQLITE_(BUSY|LOCKED|IOERR|FULL|PROTOCOL|INTERRUPT)/;

export class SqliteMetaStore implements MetaStore {
  private readonly db: Database.Database;
  private readonly statements = new Map<string, Database.Statement>();
  private readonly transactFn: (ops: WriteOp[]) => void;

  /** @param file a database file path (created if missing), or ":memory:". */
  constructor(file: string, options: SqliteMetaStoreOptions = {}) {
    try {
      this.db = new Database(file);
      this.db.pragma(`busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs ?? 10_000))}`);
      this.db.pragma("journal_mode = WAL");
      this.db.pragma("synchronous = FULL");
      this.db.exec(
        `CREATE TABLE IF NOT EXISTS items (
           pk TEXT NOT NULL,
           sk TEXT NOT NULL,
           version INTEGER NOT NULL,
           doc TEXT NOT NULL,
           PRIMARY KEY (pk, sk)
         ) WITHOUT ROWID`,
      );
    } catch (e) {
      throw toStorageError(e, `open ${file}`);
    }
    const run = (ops: WriteOp[]) => {
      const failed: number[] = [];
      ops.forEach((op, i) => {
        const row = this.stmt("version", "SELECT version FROM items WHERE pk = ? AND sk = ?").get(
          op.pk,
          op.sk,
        ) as { version: number } | undefined;
        if (!conditionHolds(op.condition, row?.version)) failed.push(i);
      });
      if (failed.length > 0) {
        throw new ConditionFailedError(`transact condition failed on op ${failed.join(", ")}`, failed);
      }
      for (const op of ops) {
        if (op.type === "put") {
          this.stmt(
            "put",
            `INSERT INTO items (pk, sk, version, doc) VALUES (?, ?, 1, ?)
             ON CONFLICT (pk, sk) DO UPDATE SET version = version + 1, doc = excluded.doc`,
          ).run(op.pk, op.sk, JSON.stringify(op.data));
        } else if (op.type === "delete") {
          this.stmt("delete", "DELETE FROM items WHERE pk = ? AND sk = ?").run(op.pk, op.sk);
        }
      }
    };
    const transaction = this.db.transaction(run);
    // IMMEDIATE takes the write lock up front, so two processes never deadlock upgrading a read lock.
    this.transactFn = (ops) => transaction.immediate(ops);
  }

  async get(pk: string, sk: string): Promise<Item | undefined> {
    assertItemKey(pk, sk);
    try {
      const row = this.stmt("get", "SELECT pk, sk, version, doc FROM items WHERE pk = ? AND sk = ?").get(
        pk,
        sk,
      ) as Row | undefined;
      return row && toItem(row);
    } catch (e) {
      throw toStorageError(e, "get");
    }
  }

  async query(pk: string, options: QueryOptions = {}): Promise<Item[]> {
    assertPk(pk);
    const limit = assertQueryLimit(options.limit);
    const bounds = foldBounds(options);
    if (limit === 0 || bounds.empty) return [];
    // The folded bounds are exact (prefix P is [P, successor(P))), and SQLite's BINARY collation
    // compares UTF-8 bytes, which is the code-point order the other backends use.
    const where = ["pk = ?"];
    const params: (string | number)[] = [pk];
    if (bounds.lower) {
      where.push(bounds.lower.inclusive ? "sk >= ?" : "sk > ?");
      params.push(bounds.lower.value);
    }
    if (bounds.upper) {
      where.push(bounds.upper.inclusive ? "sk <= ?" : "sk < ?");
      params.push(bounds.upper.value);
    }
    let sql = `SELECT pk, sk, version, doc FROM items WHERE ${where.join(" AND ")} ORDER BY sk ${
      options.reverse ? "DESC" : "ASC"
    }`;
    if (Number.isFinite(limit)) {
      sql += " LIMIT ?";
      params.push(limit);
    }
    try {
      return (this.stmt(sql, sql).all(...params) as Row[]).map(toItem);
    } catch (e) {
      throw toStorageError(e, "query");
    }
  }

  async transact(ops: WriteOp[]): Promise<void> {
    validateTransact(ops);
    if (ops.length === 0) return;
    try {
      this.transactFn(ops);
    } catch (e) {
      throw toStorageError(e, "transact");
    }
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  private stmt(name: string, sql: string): Database.Statement {
    let statement = this.statements.get(name);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(name, statement);
    }
    return statement;
  }
}

function toItem(row: Row): Item {
  return { pk: row.pk, sk: row.sk, version: row.version, data: JSON.parse(row.doc) as Doc };
}

function toStorageError(e: unknown, what: string): FloeError {
  if (e instanceof FloeError) return e;
  const code = typeof e === "object" && e !== null && "code" in e ? String(e.code) : "";
  return new StorageError(`sqlite ${what} failed: ${e instanceof Error ? e.message : String(e)}`, {
    retriable: RETRIABLE.test(code),
    cause: e,
  });
}
