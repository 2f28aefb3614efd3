/**
 * ObjectStore on a local directory: key "a/b/c" is the file {root}/a/b/c. Writes are atomic and
 * durable (temp file in the same directory, fsync, rename, fsync the directory), so a crash leaves
 * either the whole object or none of it.
 */
import { randomUUID } from "node:crypto";
import { type Dirent, type Stats, promises as fs } from "node:fs";
import path from "node:path";
import { FloeError, ObjectNotFoundError, StorageError } from "../errors.js";
import { compareKeys } from "./order.js";
import type { ByteRange, ObjectInfo, ObjectStore } from "./ports.js";
import { assertByteRange, assertListLimit, assertObjectKey } from "./validate.js";

/** Temp files carry this name prefix; they are never listed and no key segment may use it. */
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

export class FsObjectStore implements ObjectStore {
  readonly root: string;

  constructor(root: string) {
    this.root = path.resolve(root);
  }

  async put(key: string, body: Uint8Array): Promise<void> {
    const file = this.pathOf(key);
    const dir = path.dirname(file);
    // A concurrent delete may remove an emptied directory between our mkdir and our write: retry.
    for (let attempt = 1; ; attempt++) {
      try {
        await this.mkdirDurable(dir);
        await writeAtomic(dir, file, body);
        return;
      } catch (e) {
        const code = errno(e);
        if (code === "ENOENT" && attempt < 5) continue;
        if (code === "ENOTDIR" || code === "EISDIR" || code === "EEXIST" || code === "ENOTEMPTY") {
          // S3 allows keys "a" and "a/b" side by side; a file system cannot.
          throw new StorageError(`put ${key}: the key collides with an existing key used as a directory`, {
            retriable: false,
            cause: e,
          });
        }
        throw toStorageError(e, `put ${key}`);
      }
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

  /** Creates `dir` and fsyncs the parent of every directory it had to create. */
  private async mkdirDurable(dir: string): Promise<void> {
    const first = await fs.mkdir(dir, { recursive: true });
    if (first === undefined) return;
    // New entries were made in dirname(first), first, ... up to dirname(dir); `dir` itself is
    // synced after the rename.
    let d = path.dirname(first);
    await fsyncDir(d);
    for (const segment of path.relative(d, path.dirname(dir)).split(path.sep).filter(Boolean)) {
      d = path.join(d, segment);
      await fsyncDir(d);
    }
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

async function writeAtomic(dir: string, file: string, body: Uint8Array): Promise<void> {
  const temp = path.join(dir, TEMP_PREFIX + randomUUID());
  const handle = await fs.open(temp, "wx");
  try {
    try {
      await handle.writeFile(body);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(temp, file);
  } catch (e) {
    await fs.rm(temp, { force: true }).catch(() => {});
    throw e;
  }
  await fsyncDir(dir);
}

async function fsyncDir(dir: string): Promise<void> {
  const handle = await fs.open(dir, "r");
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
