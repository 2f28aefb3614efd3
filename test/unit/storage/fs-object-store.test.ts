import { mkdtemp, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FloeError } from "../../../src/errors.js";
import { FsObjectStore } from "../../../src/storage/fs-object-store.js";

let root: string;
let store: FsObjectStore;

beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), "floe-fs-store-"));
  store = new FsObjectStore(path.join(root, "objects"));
});
afterEach(async () => {
  await store.close();
  await rm(root, { recursive: true, force: true });
});

/** Every file under dir, relative to it. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => path.relative(dir, path.join(e.parentPath, e.name)));
}

describe("FsObjectStore", () => {
  it("maps key a/b/c to the file {root}/a/b/c and leaves no temp file behind", async () => {
    await store.put("segments/2024/01/x.floe", Uint8Array.from([1, 2, 3]));
    expect(await filesUnder(store.root)).toEqual([path.join("segments", "2024", "01", "x.floe")]);
    expect((await stat(path.join(store.root, "segments/2024/01/x.floe"))).size).toBe(3);
  });

  it("never lists temp files, even ones a crash left behind", async () => {
    await store.put("dir/real", Uint8Array.from([1]));
    await writeFile(path.join(store.root, "dir", ".floe-tmp-crashed"), "partial");
    await writeFile(path.join(store.root, ".floe-tmp-top"), "partial");
    expect((await store.list("")).map((o) => o.key)).toEqual(["dir/real"]);
    expect((await store.list("dir/")).map((o) => o.key)).toEqual(["dir/real"]);
  });

  it("rejects keys that would escape the root or collide with temp files", async () => {
    for (const key of ["../outside", "a/../../outside", "/etc/passwd", "a/.floe-tmp-x", "a\0b"]) {
      const e = await store.put(key, Uint8Array.from([1])).catch((err: unknown) => err);
      expect(e, key).toBeInstanceOf(FloeError);
      expect((e as FloeError).code).toBe("INVALID_REQUEST");
      await expect(store.get(key)).rejects.toBeInstanceOf(FloeError);
      await expect(store.delete(key)).rejects.toBeInstanceOf(FloeError);
    }
    expect(await readdir(root)).toEqual([]);
    // A prefix reaching outside lists nothing rather than walking there.
    expect(await store.list("../")).toEqual([]);
    expect(await store.list("a/../../")).toEqual([]);
  });

  it("removes directories a delete leaves empty, keeping the root", async () => {
    await store.put("a/b/c/one", Uint8Array.from([1]));
    await store.put("a/keep", Uint8Array.from([1]));
    await store.delete("a/b/c/one");
    expect(await readdir(path.join(store.root, "a"))).toEqual(["keep"]);
    await store.delete("a/keep");
    expect(await readdir(store.root)).toEqual([]);
  });

  it("survives puts and deletes racing in the same directory", async () => {
    const ops: Promise<void>[] = [];
    for (let i = 0; i < 200; i++) {
      const key = `race/${i % 3}/k${i}`;
      ops.push(
        store.put(key, Uint8Array.from([i & 0xff])).then(() => (i % 2 ? store.delete(key) : undefined)),
      );
    }
    await Promise.all(ops);
    const left = (await store.list("race/")).map((o) => o.key);
    expect(left).toHaveLength(100);
    for (const key of left) expect((await store.get(key)).byteLength).toBe(1);
  });

  it("reads a key that names a directory as not found", async () => {
    await store.put("dir/file", Uint8Array.from([1]));
    await expect(store.get("dir")).rejects.toMatchObject({
      retriable: false,
      message: "object not found: dir",
    });
    await expect(store.get("dir/file/deeper")).rejects.toMatchObject({
      message: "object not found: dir/file/deeper",
    });
  });

  it("fails clearly, and permanently, when a key collides with another key's directory", async () => {
    await store.put("a/b", Uint8Array.from([1]));
    await expect(store.put("a", Uint8Array.from([2]))).rejects.toMatchObject({
      retriable: false,
      message: expect.stringMatching(/collides/),
    });
    await expect(store.put("a/b/c", Uint8Array.from([2]))).rejects.toMatchObject({ retriable: false });
    expect(Array.from(await store.get("a/b"))).toEqual([1]);
  });

  it("lists a missing root as empty", async () => {
    expect(await store.list("")).toEqual([]);
    expect(await store.list("any/prefix")).toEqual([]);
  });
});

describe.each(["each", "on-flush", "never"] as const)("FsObjectStore with fsync %s", (fsync) => {
  let modeRoot: string;
  let modeStore: FsObjectStore;
  beforeEach(async () => {
    modeRoot = await mkdtemp(path.join(tmpdir(), "floe-fs-mode-"));
    modeStore = new FsObjectStore(path.join(modeRoot, "objects"), { fsync });
  });
  afterEach(async () => {
    await modeStore.close();
    await rm(modeRoot, { recursive: true, force: true });
  });

  it("writes each object whole at its key's file, 1 MiB and empty alike, and reads it back", async () => {
    const big = Uint8Array.from({ length: 1024 * 1024 }, (_, i) => (i * 7) & 0xff);
    await modeStore.put("segments/2026/01/01/00/big.floe", big);
    await modeStore.put("segments/2026/01/01/00/empty.floe", new Uint8Array(0));
    expect(Buffer.from(await modeStore.get("segments/2026/01/01/00/big.floe")).equals(Buffer.from(big))).toBe(
      true,
    );
    expect((await modeStore.get("segments/2026/01/01/00/empty.floe")).byteLength).toBe(0);
    expect(await filesUnder(modeStore.root)).toHaveLength(2);
  });

  it("never overwrites: a key is written once (keys are never reused)", async () => {
    await modeStore.put("k", Uint8Array.from([1]));
    await expect(modeStore.put("k", Uint8Array.from([2]))).rejects.toMatchObject({ retriable: false });
    expect(Array.from(await modeStore.get("k"))).toEqual([1]);
  });

  it(`keeps objects pending a flush only when fsync is on-flush`, async () => {
    await modeStore.put("a/b/one", Uint8Array.from([1]));
    await modeStore.put("a/two", Uint8Array.from([2]));
    await Promise.all(Array.from({ length: 20 }, (_, i) => modeStore.put(`c/${i}`, Uint8Array.from([i]))));
    expect(modeStore.hasPending()).toBe(fsync === "on-flush");
    // An object deleted before the flush is simply skipped.
    await modeStore.delete("a/two");
    await modeStore.syncPending();
    expect(modeStore.hasPending()).toBe(false);
    expect(Array.from(await modeStore.get("a/b/one"))).toEqual([1]);
  });
});
