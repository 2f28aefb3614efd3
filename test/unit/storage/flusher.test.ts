import { describe, expect, it } from "vitest";
import { Flusher, type PendingObjects, type SyncableMeta } from "../../../src/storage/flusher.js";

/** Fake stores recording the order of syncs; a put can land while objects are being synced. */
function fakes() {
  const events: string[] = [];
  let pending: string[] = [];
  let unsynced = 0;
  let duringSync: (() => void) | undefined;
  let syncError: Error | undefined;
  const objects: PendingObjects = {
    hasPending: () => pending.length > 0,
    async syncPending() {
      const batch = pending;
      pending = [];
      await Promise.resolve();
      if (syncError) throw syncError;
      events.push(`objects ${batch.join(",")}`);
      const land = duringSync;
      duringSync = undefined;
      land?.();
    },
  };
  const failures: unknown[] = [];
  const meta: SyncableMeta = {
    hasUnsynced: () => unsynced > 0,
    syncWal() {
      events.push(`wal ${unsynced}`);
      unsynced = 0;
    },
    fail: (e) => failures.push(e),
  };
  return {
    objects,
    meta,
    events,
    failures,
    put: (key: string) => pending.push(key),
    commit: () => unsynced++,
    whileSyncing: (f: () => void) => (duringSync = f),
    failSyncs: (e: Error) => (syncError = e),
  };
}

describe("Flusher", () => {
  it("syncs the objects before the metadata that names them", async () => {
    const f = fakes();
    f.put("a");
    f.commit();
    await new Flusher(f.objects, f.meta).flush();
    expect(f.events).toEqual(["objects a", "wal 1"]);
  });

  it("syncs an object put while it synced others before the WAL, whose commit may name it", async () => {
    const f = fakes();
    f.put("a");
    f.commit();
    f.whileSyncing(() => {
      f.put("b");
      f.commit();
    });
    await new Flusher(f.objects, f.meta).flush();
    expect(f.events).toEqual(["objects a", "objects b", "wal 2"]);
  });

  it("does nothing when nothing was written", async () => {
    const f = fakes();
    await new Flusher(f.objects, f.meta).flush();
    expect(f.events).toEqual([]);
  });

  it("runs one flush at a time: a flush asked for during another runs after it", async () => {
    const f = fakes();
    const flusher = new Flusher(f.objects, f.meta);
    f.put("a");
    const first = flusher.flush();
    f.put("b");
    f.commit();
    const second = flusher.flush();
    await Promise.all([first, second]);
    expect(f.events).toEqual(["objects a", "objects b", "wal 1"]);
  });

  it("after a failed object sync never syncs the WAL, and stops the store's writes", async () => {
    const f = fakes();
    const flusher = new Flusher(f.objects, f.meta);
    f.put("a");
    f.commit();
    f.failSyncs(new Error("EIO"));
    await expect(flusher.flush()).rejects.toThrow("EIO");
    expect(f.events).toEqual([]);
    expect(f.failures).toEqual([new Error("EIO")]);
    await flusher.flush();
    await flusher.close();
    expect(f.events).toEqual([]);
  });

  it("flushes what is left on close", async () => {
    const f = fakes();
    const flusher = new Flusher(f.objects, f.meta);
    flusher.start(60_000);
    f.put("a");
    f.commit();
    await flusher.close();
    expect(f.events).toEqual(["objects a", "wal 1"]);
  });
});
