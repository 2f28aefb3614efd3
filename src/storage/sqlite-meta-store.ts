/**
 * MetaStore on SQLite (better-sqlite3): one `(pk, sk, version, doc)` table, WAL journal, every
 * transact one BEGIN IMMEDIATE transaction. Several processes may share one file: busy_timeout
 * makes a writer wait for the lock instead of failing.
 *
 * Durability (decision 0010): synchronous=NORMAL, so a commit writes the WAL to the page cache
 * and never fsyncs on the event loop (SQLite: "WAL mode is always consistent with
 * synchronous=NORMAL", it only loses durability; it still syncs the WAL before each checkpoint).
 * With fsyncEachCommit a transact resolves only after an fdatasync of the WAL file that started
 * after its commit, run on the thread pool and shared by the commits that wait together: the
 * durability of synchronous=FULL without blocking the event loop for the fsync. syncWal() is the
 * flusher's synchronous fsync of the same file.
 */
import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { ConditionFailedError, FloeError, StorageError } from "../errors.js";
import { CoalescedSync } from "./coalesced-sync.js";
import { foldBounds } from "./order.js";
import type { Doc, Item, MetaStore, QueryOptions, WriteOp } from "./ports.js";
import { assertItemKey, assertPk, assertQueryLimit, conditionHolds, validateTransact } from "./validate.js";

export interface SqliteMetaStoreOptions {
  /** How long a writer waits for another connection's lock before failing (ms). Default 10 s. */
  busyTimeoutMs?: number;
  /**
   * Whether a transact resolves only once its commit is on disk (survives a power loss). Default
   * true; false leaves the WAL to the OS page cache and to syncWal().
   */
  fsyncEachCommit?: boolean;
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
  private readonly file: string;
  private readonly walSync: CoalescedSync | undefined;
  /** A descriptor of the WAL file, opened on first use (see walFd). */
  private wal: number | undefined;
  /** Commits since the last syncWal(), so an idle flusher does nothing. */
  private unsynced = 0;
  /** Set once an fsync failed: what was acknowledged may not be on disk, so no write is taken. */
  private failure: FloeError | undefined;

  /** @param file a database file path (created if missing), or ":memory:". */
  constructor(file: string, options: SqliteMetaStoreOptions = {}) {
    this.file = file;
    const durable = file !== ":memory:" && file !== "";
    this.walSync =
      durable && (options.fsyncEachCommit ?? true)
        ? new CoalescedSync(
            () =>
              new Promise<void>((resolve, reject) =>
                fs.fdatasync(this.walFd(), (e) => (e ? reject(e) : resolve())),
              ),
          )
        : undefined;
    try {
      this.db = new Database(file);
      this.db.pragma(`busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs ?? 10_000))}`);
      this.db.pragma("journal_mode = WAL");
      this.db.pragma("synchronous = NORMAL");
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
    if (this.failure) throw this.failure;
    try {
      this.transactFn(ops);
    } catch (e) {
      throw toStorageError(e, "transact");
    }
    this.unsynced++;
    if (!this.walSync) return;
    try {
      await this.walSync.request();
    } catch (e) {
      throw this.fail(e);
    }
  }

  /** Whether commits were made since the last syncWal(). */
  hasUnsynced(): boolean {
    return this.unsynced > 0;
  }

  /**
   * Puts every commit made so far on disk, synchronously: the flusher calls it with no await
   * after its last object fsync, so no commit can slip in between (flusher.ts).
   */
  syncWal(): void {
    if (this.failure) throw this.failure;
    const count = this.unsynced;
    if (count === 0 || !this.db.open || this.file === ":memory:" || this.file === "") return;
    try {
      fs.fdatasyncSync(this.walFd());
    } catch (e) {
      throw this.fail(e);
    }
    this.unsynced -= count;
  }

  /**
   * Refuses every later write, as Kafka takes a log directory offline after a failed flush:
   * after a failed fsync the kernel may have dropped the dirty pages, and a second fsync could
   * succeed without writing them.
   */
  fail(e: unknown): FloeError {
    this.failure ??= new StorageError(
      `sqlite flush failed: ${e instanceof Error ? e.message : String(e)}; commits acknowledged since the last flush may not be on disk, so this store takes no more writes. Restart the server.`,
      { retriable: false, cause: e },
    );
    return this.failure;
  }

  async close(): Promise<void> {
    await this.walSync?.idle();
    if (this.db.open) this.db.close();
    if (this.wal !== undefined) {
      fs.closeSync(this.wal);
      this.wal = undefined;
    }
  }

  /**
   * The WAL file, opened once. fsync on any descriptor of a file syncs that file, so this one
   * stands for SQLite's own. SQLite keeps the file (reusing it after a checkpoint, never
   * replacing it) until its last connection closes, which is never while this one is open. On
   * first open the directory is fsynced once, so the WAL's own directory entry is on disk (as
   * SQLite does on its first sync of a new WAL).
   */
  private walFd(): number {
    if (this.wal === undefined) {
      const fd = fs.openSync(`${this.file}-wal`, "r+");
      try {
        const dir = fs.openSync(path.dirname(path.resolve(this.file)), "r");
        try {
          fs.fsyncSync(dir);
        } finally {
          fs.closeSync(dir);
        }
      } catch (e) {
        fs.closeSync(fd);
        throw e;
      }
      this.wal = fd;
    }
    return this.wal;
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
