/**
 * ObjectStore on a local directory: key "a/b/c" is the file {root}/a/b/c. How a put reaches the
 * disk follows the flush policy (decision 0010):
 * - each (log.flush.interval.messages=1): the file and its directory are fsynced before put
 *   resolves, so the object survives a power loss before any commit refers to it;
 * - on-flush (log.flush.interval.ms): written to the page cache and remembered; syncPending()
 *   fsyncs it before the flush makes the metadata durable;
 * - never (Kafka's default): written to the page cache; survives a crash of the process, not of
 *   the machine.
 * Every mode writes straight to the key's own file, created exclusively ('wx'). No temp file is
 * needed for atomicity to readers: keys are never reused and nothing reads an object before the
 * commit that names it, which happens only after put resolved. A crash or a failure mid-write
 * leaves at worst a partial file that nothing names: put never resolved, so no commit refers to
 * it, no retry can reuse its key (a new object gets a new key, and 'wx' refuses an existing
 * file), and garbage collection deletes it as an orphan after its grace period.
 */
import fsCallback, { type Dirent, type Stats, promises as fs } from "node:fs";
import path from "node:path";
import { FloeError, ObjectNotFoundError, StorageError } from "../errors.js";
import type { StoreSyncModes } from "./flush-policy.js";
import { makeDirectory } from "./make-directory.js";
import { compareKeys } from "./order.js";
import type { ByteRange, ObjectInfo, ObjectStore } from "./ports.js";
import { assertByteRange, assertListLimit, assertObjectKey } from "./validate.js";

/**
 * Earlier versions wrote through temp files with this prefix; a crash could leave one behind.
 * They are never listed, and no key segment may use it.
 */
const TEMP_PREFIX = ".floe-tmp-";

/** Errors worth a retry: the disk is busy, full or briefly out of descriptors. */
const RETRIABLE_CODES = new Set([
  "EAGAIN",
  "EBUSY",
  "EMFILE",
  "ENFILE",
  "ENOSPC",
  "EIO",
  "EINTR",
  "ETIMEDOUT",
]);

/** fsyncs a flush runs at once: enough to fill the thread pool, few enough to hold few descriptors. */
const SYNC_CONCURRENCY = 8;

export interface FsObjectStoreOptions {
  /** When a put reaches the disk (see above). Default each: durable before put resolves. */
  fsync?: StoreSyncModes["objects"];
}

export class FsObjectStore implements ObjectStore {
  readonly root: string;
  readonly fsync: StoreSyncModes["objects"];
  /** on-flush: files written since the last syncPending(), and directories that gained entries. */
  private pendingFiles = new Set<string>();
  private pendingDirs = new Set<string>();

  constructor(root: string, options: FsObjectStoreOptions = {}) {
    this.root = path.resolve(root);
    this.fsync = options.fsync ?? "each";
  }

  async put(key: string, body: Uint8Array): Promise<void> {
    const file = this.pathOf(key);
    const dir = path.dirname(file);
    // The directory usually exists: try the write first and create it only when it does not. A
    // concurrent delete may remove an emptied directory between our mkdir and our write: retry.
    for (let attempt = 1; ; attempt++) {
      try {
        if (this.fsync === "each") await writeDurable(dir, file, body);
        else await writeFast(file, body);
        if (this.fsync === "on-flush") {
          // Added before put resolves, so before any commit can name the object (see syncPending).
          this.pendingFiles.add(file);
          this.pendingDirs.add(dir);
        }
        return;
      } catch (e) {
        const code = errno(e);
        if (code === "ENOENT" && attempt < 5) {
          try {
            await this.mkdirs(dir);
          } catch (mkdirError) {
            if (errno(mkdirError) === "ENOENT") continue;
            throw this.putError(key, mkdirError);
          }
          continue;
        }
        throw this.putError(key, e);
      }
    }
  }

  /** Whether objects written since the last syncPending() still wait for their fsync. */
  hasPending(): boolean {
    return this.pendingFiles.size > 0 || this.pendingDirs.size > 0;
  }

  /**
   * on-flush: fsyncs every file written since the last call, then their directories. Puts that
   * land meanwhile stay pending for the next call; the flusher calls until none is (flusher.ts).
   */
  async syncPending(): Promise<void> {
    const files = [...this.pendingFiles];
    const dirs = [...this.pendingDirs];
    this.pendingFiles.clear();
    this.pendingDirs.clear();
    try {
      // Files, then the directories naming them; all before the flush syncs the WAL.
      await eachLimited(files, SYNC_CONCURRENCY, (f) => fsyncPath(f, "r", true));
      await eachLimited(dirs, SYNC_CONCURRENCY, (d) => fsyncPath(d, "r", true));
    } catch (e) {
      for (const f of files) this.pendingFiles.add(f);
      for (const d of dirs) this.pendingDirs.add(d);
      throw toStorageError(e, "flush");
    }
  }

  async get(key: string, range?: ByteRange): Promise<Uint8Array> {
    const file = this.pathOf(key);
    if (range) assertByteRange(range);
    let handle: fs.FileHandle | undefined;
    try {
      handle = await fs.open(file, "r");
      const stat = await handle.stat();
      if (!stat.isFile()) throw new ObjectNotFoundError(key);
      const start = range ? Math.min(range.start, stat.size) : 0;
      const end = range ? Math.min(range.end, stat.size) : stat.size;
      const out = new Uint8Array(end - start);
      let filled = 0;
      while (filled < out.length) {
        const { bytesRead } = await handle.read(out, filled, out.length - filled, start + filled);
        if (bytesRead === 0) break;
        filled += bytesRead;
      }
      // The object is immutable, so a short read means it was truncated underneath us.
      if (filled < out.length) throw new StorageError(`short read of ${key}`, { retriable: false });
      return out;
    } catch (e) {
      if (e instanceof FloeError) throw e;
      const code = errno(e);
      if (code === "ENOENT" || code === "ENOTDIR" || code === "EISDIR") {
        throw new ObjectNotFoundError(key, { cause: e });
      }
      throw toStorageError(e, `get ${key}`);
    } finally {
      await handle?.close();
    }
  }

  async delete(key: string): Promise<void> {
    const file = this.pathOf(key);
    try {
      await fs.unlink(file);
    } catch (e) {
      const code = errno(e);
      if (code === "ENOENT" || code === "ENOTDIR") return;
      throw toStorageError(e, `delete ${key}`);
    }
    await this.removeEmptyParents(path.dirname(file));
  }

  async list(prefix: string, options: { startAfter?: string; limit?: number } = {}): Promise<ObjectInfo[]> {
    const limit = assertListLimit(options.limit);
    const out: ObjectInfo[] = [];
    if (limit === 0) return out;
    const { startAfter } = options;
    // Start from the deepest directory the prefix names in full; keys elsewhere cannot match.
    const slash = prefix.lastIndexOf("/");
    const dirKey = slash < 0 ? "" : prefix.slice(0, slash + 1);
    if (dirKey !== "" && !isValidDirKey(dirKey)) return out;
    try {
      await this.walk(dirKey, prefix, startAfter, limit, out);
    } catch (e) {
      throw toStorageError(e, `list ${prefix}`);
    }
    return out;
  }

  async close(): Promise<void> {}

  /** Depth-first walk in key order; `dirKey` is "" or ends with "/". Returns false once full. */
  private async walk(
    dirKey: string,
    prefix: string,
    startAfter: string | undefined,
    limit: number,
    out: ObjectInfo[],
  ): Promise<boolean> {
    let entries: Dirent[];
    try {
      entries = await fs.readdir(path.join(this.root, dirKey), { withFileTypes: true });
    } catch (e) {
      const code = errno(e);
      if (code === "ENOENT" || code === "ENOTDIR") return true;
      throw e;
    }
    // A directory's keys all start with "name/", so ordering it as "name/" among its siblings
    // makes the depth-first walk visit keys in global lexicographic order.
    const named = entries
      .filter((d) => !d.name.startsWith(TEMP_PREFIX) && (d.isFile() || d.isDirectory()))
      .map((d) => ({ key: dirKey + d.name + (d.isDirectory() ? "/" : ""), dir: d.isDirectory() }))
      .sort((a, b) => compareKeys(a.key, b.key));
    for (const { key, dir } of named) {
      if (dir) {
        // Descend only where the subtree can hold keys that match the prefix and follow startAfter.
        if (!key.startsWith(prefix) && !prefix.startsWith(key)) continue;
        if (startAfter !== undefined && compareKeys(key, startAfter) < 0 && !startAfter.startsWith(key))
          continue;
        if (!(await this.walk(key, prefix, startAfter, limit, out))) return false;
        continue;
      }
      if (!key.startsWith(prefix)) continue;
      if (startAfter !== undefined && compareKeys(key, startAfter) <= 0) continue;
      let stat: Stats;
      try {
        stat = await fs.stat(path.join(this.root, key));
      } catch (e) {
        if (errno(e) === "ENOENT") continue; // deleted while we listed
        throw e;
      }
      out.push({ key, size: stat.size, lastModified: Math.floor(stat.mtimeMs) });
      if (out.length >= limit) return false;
    }
    return true;
  }

  private pathOf(key: string): string {
    assertObjectKey(key);
    if (key.startsWith("/") || key.split("/").some((s) => s.startsWith(TEMP_PREFIX))) {
      throw new FloeError("INVALID_REQUEST", `invalid object key ${JSON.stringify(key)}`);
    }
    const file = path.join(this.root, ...key.split("/"));
    if (!file.startsWith(this.root + path.sep)) {
      throw new FloeError("INVALID_REQUEST", `object key escapes the store: ${JSON.stringify(key)}`);
    }
    return file;
  }

  /**
   * Creates `dir`; each: fsyncs the parent of every directory it had to create; on-flush: leaves
   * those parents to the next flush.
   */
  private async mkdirs(dir: string): Promise<void> {
    const first = await makeDirectory(dir);
    if (first === undefined || this.fsync === "never") return;
    // New entries were made in dirname(first), first, ... up to dirname(dir); `dir` itself is
    // synced after the write.
    const parents = [path.dirname(first)];
    for (const segment of path.relative(parents[0], path.dirname(dir)).split(path.sep).filter(Boolean)) {
      parents.push(path.join(parents[parents.length - 1], segment));
    }
    if (this.fsync === "on-flush") for (const d of parents) this.pendingDirs.add(d);
    else for (const d of parents) await fsyncPath(d, "r");
  }

  private putError(key: string, e: unknown): FloeError {
    const code = errno(e);
    if (code === "ENOTDIR" || code === "EISDIR" || code === "EEXIST" || code === "ENOTEMPTY") {
      // S3 allows keys "a" and "a/b" side by side; a file system cannot. (Keys are never reused,
      // so an existing file is a key used as a directory's, not an earlier put of this one.)
      return new StorageError(`put ${key}: the key collides with an existing key used as a directory`, {
        retriable: false,
        cause: e,
      });
    }
    return toStorageError(e, `put ${key}`);
  }

  /** Removes directories left empty by a delete, up to (not including) the root. */
  private async removeEmptyParents(dir: string): Promise<void> {
    while (dir !== this.root && dir.startsWith(this.root + path.sep)) {
      try {
        await fs.rmdir(dir);
      } catch {
        return; // not empty (or already gone, or in use): stop
      }
      dir = path.dirname(dir);
    }
  }
}

/**
 * No fsync: open and write, two thread-pool round trips; the close is not waited for, as it
 * cannot fail on a local file system once the write returned (write errors surface at fsync).
 * Raw descriptors, not a FileHandle: a FileHandle left to close itself on garbage collection
 * could close a descriptor number already reused. Removes the partial file if the write fails.
 */
async function writeFast(file: string, body: Uint8Array): Promise<void> {
  const fd = await new Promise<number>((resolve, reject) =>
    fsCallback.open(file, "wx", 0o666, (e, fd) => (e ? reject(e) : resolve(fd))),
  );
  try {
    for (let done = 0; done < body.length; ) {
      done += await new Promise<number>((resolve, reject) =>
        fsCallback.write(fd, body, done, body.length - done, done, (e, n) => (e ? reject(e) : resolve(n))),
      );
    }
  } catch (e) {
    await new Promise<void>((resolve) => fsCallback.close(fd, () => resolve()));
    await fs.rm(file, { force: true }).catch(() => {});
    throw e;
  }
  fsCallback.close(fd, () => {});
}

/** The file's bytes and its directory entry on disk before it resolves. */
async function writeDurable(dir: string, file: string, body: Uint8Array): Promise<void> {
  const handle = await fs.open(file, "wx");
  try {
    try {
      await writeAll(handle, body);
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (e) {
    await fs.rm(file, { force: true }).catch(() => {});
    throw e;
  }
  await fsyncPath(dir, "r");
}

async function writeAll(handle: fs.FileHandle, body: Uint8Array): Promise<void> {
  // One write(2) of the whole buffer, unlike FileHandle.writeFile's 512 KiB chunks.
  for (let done = 0; done < body.length; ) {
    const { bytesWritten } = await handle.write(body, done, body.length - done, done);
    done += bytesWritten;
  }
}

async function eachLimited<T>(items: T[], limit: number, f: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await f(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** fsyncs a file or directory by path; `missingOk` skips one deleted since it was written. */
async function fsyncPath(p: string, flags: string, missingOk = false): Promise<void> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(p, flags);
  } catch (e) {
    if (missingOk && errno(e) === "ENOENT") return;
    throw e;
  }
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function isValidDirKey(dirKey: string): boolean {
  const segments = dirKey.slice(0, -1).split("/");
  return segments.every((s) => s !== "" && s !== "." && s !== ".." && !s.includes("\0"));
}

function errno(e: unknown): string | undefined {
  return typeof e === "object" && e !== null && "code" in e && typeof e.code === "string"
    ? e.code
    : undefined;
}

function toStorageError(e: unknown, what: string): FloeError {
  if (e instanceof FloeError) return e;
  const code = errno(e);
  return new StorageError(`file system ${what} failed: ${e instanceof Error ? e.message : String(e)}`, {
    retriable: code !== undefined && RETRIABLE_CODES.has(code),
    cause: e,
  });
}
