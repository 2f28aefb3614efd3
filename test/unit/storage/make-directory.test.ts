import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { makeDirectory } from "../../../src/storage/make-directory.js";

describe("makeDirectory (mkdir -p that fails instead of spinning)", () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), "floe-mkdir-"));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it("makes every missing level and answers the first one made, as the recursive mkdir does", async () => {
    const dir = path.join(root, "a", "b", "c");
    expect(await makeDirectory(dir)).toBe(path.join(root, "a"));
    expect((await stat(dir)).isDirectory()).toBe(true);
    expect(await makeDirectory(dir)).toBeUndefined();
  });

  it("many at once over shared parents all succeed", async () => {
    const dirs = Array.from({ length: 20 }, (_, i) => path.join(root, "x", "y", String(i % 4), String(i)));
    await Promise.all(dirs.map((d) => makeDirectory(d)));
    for (const d of dirs) expect((await stat(d)).isDirectory()).toBe(true);
  });

  it("refuses a file in the way", async () => {
    await writeFile(path.join(root, "file"), "");
    await expect(makeDirectory(path.join(root, "file"))).rejects.toMatchObject({ code: "EEXIST" });
    await expect(makeDirectory(path.join(root, "file", "sub"))).rejects.toMatchObject({ code: "ENOTDIR" });
  });

  it.skipIf(process.platform !== "linux")(
    "throws ENOENT where mkdir cannot make a directory under an existing parent (/proc)",
    async () => {
      await expect(makeDirectory("/proc/nope/data")).rejects.toMatchObject({ code: "ENOENT" });
    },
  );
});
