import { promises as fs } from "node:fs";
import path from "node:path";

function errno(e: unknown): string | undefined {
  return typeof e === "object" && e !== null && "code" in e && typeof e.code === "string"
    ? e.code
    : undefined;
}

async function isDirectory(dir: string): Promise<boolean> {
  try {
    return (await fs.stat(dir)).isDirectory();
  } catch {
    return false;
  }
}

/**
 * `mkdir -p` that fails instead of spinning. Node 20's `fs.mkdir(dir, { recursive: true })` loops
 * forever at full CPU when a directory cannot be made although its parent exists (mkdir answers
 * ENOENT, as under /proc); here each level is made once and that ENOENT is thrown.
 * Answers the first directory it created, as the recursive mkdir does, or undefined if `dir` existed.
 */
export async function makeDirectory(dir: string): Promise<string | undefined> {
  const target = path.resolve(dir);
  try {
    await fs.mkdir(target);
    return target;
  } catch (e) {
    const code = errno(e);
    if (code === "EEXIST" && (await isDirectory(target))) return undefined;
    const parent = path.dirname(target);
    if (code !== "ENOENT" || parent === target) throw e;
    // The parent is missing: make it, then try this level once more (another process may make it meanwhile).
    const first = await makeDirectory(parent);
    try {
      await fs.mkdir(target);
    } catch (again) {
      if (errno(again) === "EEXIST" && (await isDirectory(target))) return first;
      throw again;
    }
    return first ?? target;
  }
}
