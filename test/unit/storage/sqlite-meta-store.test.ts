import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ConditionFailedError } from "../../../src/errors.js";
import { SqliteMetaStore } from "../../../src/storage/sqlite-meta-store.js";

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "floe-sqlite-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Read-modify-write increments of one counter with retry on lost races, as the domain does. */
const incrementScript = (file: string, times: number) => `
  import { SqliteMetaStore } from ${JSON.stringify(path.join(repoRoot, "src/storage/sqlite-meta-store.ts"))};
  import { ConditionFailedError } from ${JSON.stringify(path.join(repoRoot, "src/errors.ts"))};
  const store = new SqliteMetaStore(${JSON.stringify(file)});
  for (let i = 0; i < ${times}; i++) {
    for (;;) {
      const cur = await store.get("counter", "n");
      const value = cur ? cur.data.value : 0;
      try {
        await store.transact([{ type: "put", pk: "counter", sk: "n", data: { value: value + 1 },
          condition: cur ? { version: cur.version } : { absent: true } }]);
        break;
      } catch (e) {
        if (!(e instanceof ConditionFailedError)) throw e;
      }
    }
  }
  await store.close();
`;

function runIncrements(file: string, times: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", "--input-type=module", "-e", incrementScript(file, times)],
      { cwd: repoRoot, stdio: ["ignore", "ignore", "pipe"] },
    );
    let stderr = "";
    child.stderr.on("data", (c: Buffer) => {
      stderr += c.toString();
    });
    child.on("error", reject);
    child.on("exit", (code) =>
      code === 0 ? resolve() : reject(new Error(`child exited ${code}: ${stderr}`)),
    );
  });
}

describe("SqliteMetaStore", () => {
  it("opens in WAL mode and the (pk, sk, version, doc) table", async () => {
    const file = path.join(dir, "meta.db");
    const store = new SqliteMetaStore(file);
    await store.transact([{ type: "put", pk: "p", sk: "s", data: { x: 1 } }]);
    await store.close();
    const db = new Database(file, { readonly: true });
    try {
      expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
      expect(db.prepare("SELECT pk, sk, version, doc FROM items").all()).toEqual([
        { pk: "p", sk: "s", version: 1, doc: '{"x":1}' },
      ]);
      const ddl = (db.prepare("SELECT sql FROM sqlite_master WHERE name = 'items'").get() as { sql: string })
        .sql;
      expect(ddl).toMatch(/WITHOUT ROWID/);
    } finally {
      db.close();
    }
    const reopened = new SqliteMetaStore(file);
    expect(await reopened.get("p", "s")).toEqual({ pk: "p", sk: "s", version: 1, data: { x: 1 } });
    await reopened.close();
  });

  it.each([true, false])(
    "commits with synchronous=NORMAL, never fsyncing on the event loop (fsyncEachCommit %s)",
    async (fsyncEachCommit) => {
      const store = new SqliteMetaStore(path.join(dir, "meta.db"), { fsyncEachCommit });
      // synchronous is per connection: read it through the store's own handle.
      const db = (store as unknown as { db: Database.Database }).db;
      expect(db.pragma("synchronous", { simple: true })).toBe(1); // NORMAL
      expect(db.pragma("busy_timeout", { simple: true })).toBeGreaterThan(0);
      await store.close();
    },
  );

  it.each([true, false])(
    "keeps every commit across a reopen, and syncWal leaves none unsynced (fsyncEachCommit %s)",
    async (fsyncEachCommit) => {
      const file = path.join(dir, "meta.db");
      const store = new SqliteMetaStore(file, { fsyncEachCommit });
      expect(store.hasUnsynced()).toBe(false);
      await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          store.transact([{ type: "put", pk: "p", sk: `s${i}`, data: { i } }]),
        ),
      );
      expect(store.hasUnsynced()).toBe(true);
      store.syncWal();
      expect(store.hasUnsynced()).toBe(false);
      await store.transact([{ type: "put", pk: "p", sk: "last", data: {} }]);
      await store.close();
      const reopened = new SqliteMetaStore(file);
      expect(await reopened.query("p")).toHaveLength(21);
      await reopened.close();
    },
  );

  it("after a failed fsync takes no more writes, saying why, and still reads", async () => {
    const store = new SqliteMetaStore(path.join(dir, "meta.db"));
    await store.transact([{ type: "put", pk: "p", sk: "s", data: {} }]);
    store.fail(new Error("EIO: i/o error, fdatasync"));
    const e = await store.transact([{ type: "put", pk: "p", sk: "t", data: {} }]).catch((x: unknown) => x);
    expect(e).toMatchObject({ code: "KAFKA_STORAGE_ERROR", retriable: false });
    expect((e as Error).message).toMatch(/EIO.*takes no more writes/);
    expect(() => store.syncWal()).toThrow(/takes no more writes/);
    expect(await store.get("p", "s")).toMatchObject({ version: 1 });
    expect(await store.get("p", "t")).toBeUndefined();
    await store.close();
  });

  it("two connections on one file see each other's writes and conditions", async () => {
    const file = path.join(dir, "meta.db");
    const a = new SqliteMetaStore(file);
    const b = new SqliteMetaStore(file);
    await a.transact([{ type: "put", pk: "p", sk: "s", data: { by: "a" } }]);
    expect(await b.get("p", "s")).toMatchObject({ version: 1, data: { by: "a" } });
    await expect(
      b.transact([{ type: "put", pk: "p", sk: "s", data: { by: "b" }, condition: { absent: true } }]),
    ).rejects.toBeInstanceOf(ConditionFailedError);
    await b.transact([{ type: "put", pk: "p", sk: "s", data: { by: "b" }, condition: { version: 1 } }]);
    expect(await a.get("p", "s")).toMatchObject({ version: 2, data: { by: "b" } });
    await a.close();
    await b.close();
  });

  it("two processes incrementing one counter on one file wait for each other and lose no update", async () => {
    const file = path.join(dir, "meta.db");
    // Create the schema first so neither child races on CREATE TABLE.
    await new SqliteMetaStore(file).close();
    await Promise.all([runIncrements(file, 40), runIncrements(file, 40)]);
    const store = new SqliteMetaStore(file);
    expect(await store.get("counter", "n")).toEqual({
      pk: "counter",
      sk: "n",
      version: 80,
      data: { value: 80 },
    });
    await store.close();
  });

  it("close is idempotent", async () => {
    const store = new SqliteMetaStore(":memory:");
    await store.close();
    await store.close();
  });
});
