/**
 * Storage conformance: the ObjectStore and MetaStore ports behave identically on every backend
 * (memory, embedded, aws on emulators, LocalStack when LOCALSTACK_ENDPOINT is set).
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConditionFailedError, FloeError, ObjectNotFoundError, StorageError } from "../../src/errors.js";
import type { Backend, Doc, Item, MetaStore, WriteOp } from "../../src/storage/ports.js";
import { testBackends } from "../support/backends.js";

/** Resolves to the error a promise rejects with (fails if it resolves). */
async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error("expected a rejection");
}

let counter = 0;
/** A fresh key namespace per test, so tests sharing one backend never see each other's data. */
function ns(label: string): string {
  counter += 1;
  return `${label}-${counter}-${randomBytes(4).toString("hex")}`;
}

const put = (pk: string, sk: string, data: Doc, condition?: WriteOp["condition"]): WriteOp =>
  condition ? { type: "put", pk, sk, data, condition } : { type: "put", pk, sk, data };

const sks = (items: Item[]) => items.map((i) => i.sk);

describe.each(testBackends)("storage conformance: $name", ({ create }) => {
  let backend: Backend;

  beforeAll(async () => {
    backend = await create();
  });
  afterAll(async () => {
    await backend?.close();
  });

  describe("ObjectStore", () => {
    it("round-trips every byte value exactly", async () => {
      const key = `${ns("obj")}/bytes.bin`;
      const all = Uint8Array.from({ length: 256 }, (_, i) => i);
      const random = new Uint8Array(randomBytes(200_000));
      const body = new Uint8Array(all.length + random.length);
      body.set(all, 0);
      body.set(random, all.length);
      await backend.objects.put(key, body);
      const read = await backend.objects.get(key);
      expect(read).toBeInstanceOf(Uint8Array);
      expect(read.byteLength).toBe(body.byteLength);
      expect(Buffer.from(read).equals(Buffer.from(body))).toBe(true);
    });

    it("round-trips an empty object", async () => {
      const key = `${ns("obj")}/empty`;
      await backend.objects.put(key, new Uint8Array(0));
      expect((await backend.objects.get(key)).byteLength).toBe(0);
    });

    it("is not affected by callers mutating the bytes they passed or got", async () => {
      const key = `${ns("obj")}/mutate`;
      const body = Uint8Array.from([1, 2, 3, 4]);
      await backend.objects.put(key, body);
      body[0] = 99;
      const first = await backend.objects.get(key);
      first[1] = 99;
      expect(Array.from(await backend.objects.get(key))).toEqual([1, 2, 3, 4]);
    });

    it("reads byte ranges [start, end)", async () => {
      const key = `${ns("obj")}/range`;
      const body = Uint8Array.from({ length: 100 }, (_, i) => i);
      await backend.objects.put(key, body);
      const get = async (start: number, end: number) =>
        Array.from(await backend.objects.get(key, { start, end }));
      expect(await get(10, 20)).toEqual(Array.from(body.slice(10, 20)));
      expect(await get(0, 1)).toEqual([0]);
      expect(await get(0, 100)).toEqual(Array.from(body));
      expect(await get(99, 100)).toEqual([99]);
      // A range past the end is clamped; one starting at or past the end is empty.
      expect(await get(95, 200)).toEqual([95, 96, 97, 98, 99]);
      expect(await get(100, 110)).toEqual([]);
      expect(await get(150, 160)).toEqual([]);
      expect(await get(40, 40)).toEqual([]);
    });

    it("rejects malformed ranges", async () => {
      const key = `${ns("obj")}/bad-range`;
      await backend.objects.put(key, Uint8Array.from([1, 2, 3]));
      const e = await rejection(backend.objects.get(key, { start: 2, end: 1 }));
      expect(e).toBeInstanceOf(FloeError);
      expect((e as FloeError).code).toBe("INVALID_REQUEST");
      expect((await rejection(backend.objects.get(key, { start: -1, end: 2 }))) as FloeError).toMatchObject({
        code: "INVALID_REQUEST",
      });
    });

    it("throws ObjectNotFoundError (not retriable) for a missing key, whole or ranged", async () => {
      const key = `${ns("obj")}/missing`;
      for (const read of [
        () => backend.objects.get(key),
        () => backend.objects.get(key, { start: 0, end: 10 }),
        () => backend.objects.get(key, { start: 3, end: 3 }),
      ]) {
        const e = await rejection(read());
        expect(e).toBeInstanceOf(ObjectNotFoundError);
        expect(e).toBeInstanceOf(StorageError);
        expect((e as ObjectNotFoundError).retriable).toBe(false);
      }
    });

    it("deletes, and deleting a missing key is not an error", async () => {
      const key = `${ns("obj")}/a/b/doomed`;
      await backend.objects.put(key, Uint8Array.from([7]));
      await backend.objects.delete(key);
      expect(await rejection(backend.objects.get(key))).toBeInstanceOf(ObjectNotFoundError);
      await backend.objects.delete(key);
      await backend.objects.delete(`${ns("obj")}/never/existed`);
      expect(await backend.objects.list(key)).toEqual([]);
    });

    it("lists keys under a prefix in lexicographic order with sizes and times", async () => {
      const root = ns("list");
      const before = Date.now() - 5_000;
      // "-" (0x2d) < "/" (0x2f) < "0" (0x30): a directory-walking store must still interleave these.
      const keys = [
        `${root}/b/2`,
        `${root}/a`,
        `${root}/b0`,
        `${root}/b/1`,
        `${root}/b-x`,
        `${root}/c/d/e/f`,
        `${root}/b/10`,
      ];
      for (const [i, key] of keys.entries()) await backend.objects.put(key, new Uint8Array(i + 1));
      await backend.objects.put(`${root}x/outside`, new Uint8Array(1));
      await backend.objects.put(`${root}-outside`, new Uint8Array(1));

      const listed = await backend.objects.list(`${root}/`);
      const sorted = [...keys].sort();
      expect(listed.map((o) => o.key)).toEqual(sorted);
      for (const info of listed) {
        expect(info.size).toBe(keys.indexOf(info.key) + 1);
        expect(info.lastModified).toBeGreaterThan(before);
        expect(info.lastModified).toBeLessThan(Date.now() + 5_000);
      }
      // A prefix need not end at a "/".
      expect((await backend.objects.list(`${root}/b`)).map((o) => o.key)).toEqual([
        `${root}/b-x`,
        `${root}/b/1`,
        `${root}/b/10`,
        `${root}/b/2`,
        `${root}/b0`,
      ]);
      expect((await backend.objects.list(`${root}/b/1`)).map((o) => o.key)).toEqual([
        `${root}/b/1`,
        `${root}/b/10`,
      ]);
      expect(await backend.objects.list(`${root}/zzz`)).toEqual([]);
      expect(await backend.objects.list(`${ns("nothing")}/`)).toEqual([]);
    });

    it("pages through a listing with startAfter and limit", async () => {
      const root = ns("page");
      const keys = Array.from(
        { length: 23 },
        (_, i) => `${root}/${String(i % 5)}/${String(i).padStart(3, "0")}`,
      );
      await Promise.all(keys.map((k) => backend.objects.put(k, Uint8Array.from([1]))));
      const sorted = [...keys].sort();

      const seen: string[] = [];
      let startAfter: string | undefined;
      for (;;) {
        const page = await backend.objects.list(`${root}/`, { startAfter, limit: 4 });
        expect(page.length).toBeLessThanOrEqual(4);
        seen.push(...page.map((o) => o.key));
        if (page.length < 4) break;
        startAfter = page[page.length - 1].key;
      }
      expect(seen).toEqual(sorted);

      // startAfter need not be an existing key, and may sort before the prefix.
      expect((await backend.objects.list(`${root}/`, { startAfter: `${root}/2` })).map((o) => o.key)).toEqual(
        sorted.filter((k) => k > `${root}/2`),
      );
      expect(
        (await backend.objects.list(`${root}/`, { startAfter: "", limit: 2 })).map((o) => o.key),
      ).toEqual(sorted.slice(0, 2));
      expect(
        (await backend.objects.list(`${root}/`, { startAfter: root, limit: 3 })).map((o) => o.key),
      ).toEqual(sorted.slice(0, 3));
      expect(await backend.objects.list(`${root}/`, { startAfter: sorted[sorted.length - 1] })).toEqual([]);
      expect(await backend.objects.list(`${root}/`, { limit: 0 })).toEqual([]);
    });

    it("rejects keys that are not clean relative paths", async () => {
      for (const key of ["", "/abs", "../escape", "a/../../b", "a//b", "a/./b", "trailing/"]) {
        const e = await rejection(backend.objects.put(key, Uint8Array.from([1])));
        expect(e, key).toBeInstanceOf(FloeError);
        expect((e as FloeError).code, key).toBe("INVALID_REQUEST");
      }
    });
  });

  describe("MetaStore", () => {
    let meta: MetaStore;
    beforeAll(() => {
      meta = backend.meta;
    });

    it("returns undefined for a missing item", async () => {
      expect(await meta.get(ns("pk"), "nope")).toBeUndefined();
    });

    it("creates at version 1 and bumps the version on every put, replacing the data", async () => {
      const pk = ns("pk");
      await meta.transact([put(pk, "item", { a: 1, b: "x" })]);
      expect(await meta.get(pk, "item")).toEqual({ pk, sk: "item", version: 1, data: { a: 1, b: "x" } });
      await meta.transact([put(pk, "item", { c: true })]);
      expect(await meta.get(pk, "item")).toEqual({ pk, sk: "item", version: 2, data: { c: true } });
      await meta.transact([put(pk, "item", {})]);
      expect(await meta.get(pk, "item")).toEqual({ pk, sk: "item", version: 3, data: {} });
    });

    it("stores any JSON-compatible document exactly, field names included", async () => {
      const pk = ns("pk");
      const data: Doc = {
        // DynamoDB reserved words as field names.
        name: "topic",
        status: "ACTIVE",
        size: 0,
        data: { key: "value", timestamp: -1.5 },
        numbers: [0, 1, -1, 3.25, 2 ** 53 - 1, 1e-7, 123456789.125],
        strings: ["", " ", "ünïcødé ✓", "😀", "with\nnewline", "0123"],
        flags: [true, false],
        nothing: null,
        empty: {},
        emptyList: [],
        nested: { deeper: { deepest: [{ a: [[1], [2, { b: null }]] }] } },
      };
      await meta.transact([put(pk, "doc", data)]);
      expect((await meta.get(pk, "doc"))?.data).toEqual(data);
      expect((await meta.query(pk))[0].data).toEqual(data);
    });

    it("is not affected by callers mutating the docs they passed or got", async () => {
      const pk = ns("pk");
      const data = { list: [1, 2], inner: { x: 1 } };
      await meta.transact([put(pk, "m", data)]);
      data.list.push(3);
      data.inner.x = 2;
      const got = (await meta.get(pk, "m"))!;
      (got.data.list as number[]).push(4);
      (got.data.inner as { x: number }).x = 3;
      const [queried] = await meta.query(pk);
      (queried.data.inner as { x: number }).x = 4;
      expect((await meta.get(pk, "m"))!.data).toEqual({ list: [1, 2], inner: { x: 1 } });
    });

    it("honours {absent: true}: passes when missing, fails when present", async () => {
      const pk = ns("pk");
      await meta.transact([put(pk, "a", { n: 1 }, { absent: true })]);
      expect((await meta.get(pk, "a"))?.version).toBe(1);
      const e = await rejection(meta.transact([put(pk, "a", { n: 2 }, { absent: true })]));
      expect(e).toBeInstanceOf(ConditionFailedError);
      expect((e as ConditionFailedError).failedIndexes).toEqual([0]);
      expect((e as ConditionFailedError).retriable).toBe(true);
      expect(await meta.get(pk, "a")).toMatchObject({ version: 1, data: { n: 1 } });
    });

    it("honours {version: n}: passes on a match, fails on a mismatch or a missing item", async () => {
      const pk = ns("pk");
      await meta.transact([put(pk, "v", { n: 1 })]);
      await meta.transact([put(pk, "v", { n: 2 }, { version: 1 })]);
      expect(await meta.get(pk, "v")).toMatchObject({ version: 2, data: { n: 2 } });

      const stale = await rejection(meta.transact([put(pk, "v", { n: 3 }, { version: 1 })]));
      expect(stale).toBeInstanceOf(ConditionFailedError);
      expect((stale as ConditionFailedError).failedIndexes).toEqual([0]);
      expect(await meta.get(pk, "v")).toMatchObject({ version: 2, data: { n: 2 } });

      const missing = await rejection(meta.transact([put(pk, "ghost", { n: 1 }, { version: 1 })]));
      expect(missing).toBeInstanceOf(ConditionFailedError);
      expect(await meta.get(pk, "ghost")).toBeUndefined();
    });

    it("deletes, with and without conditions", async () => {
      const pk = ns("pk");
      await meta.transact([put(pk, "d1", { x: 1 }), put(pk, "d2", { x: 2 }), put(pk, "d3", { x: 3 })]);
      await meta.transact([put(pk, "d2", { x: 22 })]);

      await meta.transact([{ type: "delete", pk, sk: "d1" }]);
      expect(await meta.get(pk, "d1")).toBeUndefined();
      // Deleting a missing item without a condition succeeds.
      await meta.transact([{ type: "delete", pk, sk: "d1" }]);

      const wrong = await rejection(
        meta.transact([{ type: "delete", pk, sk: "d2", condition: { version: 1 } }]),
      );
      expect(wrong).toBeInstanceOf(ConditionFailedError);
      expect((await meta.get(pk, "d2"))?.version).toBe(2);
      await meta.transact([{ type: "delete", pk, sk: "d2", condition: { version: 2 } }]);
      expect(await meta.get(pk, "d2")).toBeUndefined();

      expect(
        await rejection(meta.transact([{ type: "delete", pk, sk: "d3", condition: { absent: true } }])),
      ).toBeInstanceOf(ConditionFailedError);
      expect(
        await rejection(meta.transact([{ type: "delete", pk, sk: "gone", condition: { version: 1 } }])),
      ).toBeInstanceOf(ConditionFailedError);
      expect(await meta.get(pk, "d3")).toBeDefined();

      // A recreated item starts again at version 1.
      await meta.transact([put(pk, "d2", { again: true }, { absent: true })]);
      expect(await meta.get(pk, "d2")).toMatchObject({ version: 1, data: { again: true } });
    });

    it("check asserts without writing, alone and among other ops", async () => {
      const pk = ns("pk");
      await meta.transact([put(pk, "guard", { g: 1 })]);
      await meta.transact([{ type: "check", pk, sk: "guard", condition: { version: 1 } }]);
      await meta.transact([{ type: "check", pk, sk: "other", condition: { absent: true } }]);
      expect(await meta.get(pk, "guard")).toMatchObject({ version: 1, data: { g: 1 } });
      expect(await meta.get(pk, "other")).toBeUndefined();

      const alone = await rejection(
        meta.transact([{ type: "check", pk, sk: "guard", condition: { version: 2 } }]),
      );
      expect(alone).toBeInstanceOf(ConditionFailedError);
      expect((alone as ConditionFailedError).failedIndexes).toEqual([0]);
      expect(
        await rejection(meta.transact([{ type: "check", pk, sk: "guard", condition: { absent: true } }])),
      ).toBeInstanceOf(ConditionFailedError);

      await meta.transact([
        { type: "check", pk, sk: "guard", condition: { version: 1 } },
        put(pk, "guarded", { ok: true }),
      ]);
      expect(await meta.get(pk, "guarded")).toMatchObject({ version: 1, data: { ok: true } });
      expect((await meta.get(pk, "guard"))?.version).toBe(1);

      const e = await rejection(
        meta.transact([
          { type: "check", pk, sk: "guard", condition: { version: 5 } },
          put(pk, "guarded", { ok: false }),
        ]),
      );
      expect(e).toBeInstanceOf(ConditionFailedError);
      expect((e as ConditionFailedError).failedIndexes).toEqual([0]);
      expect(await meta.get(pk, "guarded")).toMatchObject({ version: 1, data: { ok: true } });
    });

    it("applies a multi-op transact all or nothing, reporting the failed indexes", async () => {
      const pk = ns("pk");
      const other = ns("pk");
      await meta.transact([
        put(pk, "a", { v: "a1" }),
        put(pk, "b", { v: "b1" }),
        put(other, "c", { v: "c1" }),
        put(other, "e", { v: "e1" }),
      ]);
      const snapshot = async () => [await meta.query(pk), await meta.query(other)];
      const before = await snapshot();

      const ops: WriteOp[] = [
        put(pk, "a", { v: "a2" }, { version: 1 }), // would pass
        put(pk, "b", { v: "b2" }, { version: 7 }), // fails
        put(other, "d", { v: "d" }), // would pass
        put(pk, "new", { v: "n" }, { absent: true }), // would pass
        { type: "check", pk: other, sk: "c", condition: { absent: true } }, // fails
        { type: "delete", pk: other, sk: "e", condition: { version: 1 } }, // would pass
      ];
      const e = await rejection(meta.transact(ops));
      expect(e).toBeInstanceOf(ConditionFailedError);
      expect((e as ConditionFailedError).failedIndexes).toEqual([1, 4]);
      expect(await snapshot()).toEqual(before);
      expect(await meta.get(other, "d")).toBeUndefined();
      expect(await meta.get(pk, "new")).toBeUndefined();

      // The same ops with correct conditions all apply, across partition keys.
      await meta.transact([
        put(pk, "a", { v: "a2" }, { version: 1 }),
        put(pk, "b", { v: "b2" }, { version: 1 }),
        { type: "delete", pk: other, sk: "c", condition: { version: 1 } },
        put(pk, "new", { v: "n" }, { absent: true }),
        { type: "delete", pk: other, sk: "e" },
      ]);
      expect(await meta.query(pk)).toEqual([
        { pk, sk: "a", version: 2, data: { v: "a2" } },
        { pk, sk: "b", version: 2, data: { v: "b2" } },
        { pk, sk: "new", version: 1, data: { v: "n" } },
      ]);
      expect(await meta.query(other)).toEqual([]);
    });

    it("takes up to 100 ops, rejects more and rejects an item appearing twice", async () => {
      const pk = ns("pk");
      const hundred = Array.from({ length: 100 }, (_, i) => put(pk, `k${String(i).padStart(3, "0")}`, { i }));
      await meta.transact(hundred);
      expect(await meta.query(pk)).toHaveLength(100);

      const tooMany = [...hundred, put(pk, "k100", { i: 100 })];
      const e = await rejection(meta.transact(tooMany));
      expect(e).toBeInstanceOf(FloeError);
      expect(e).not.toBeInstanceOf(ConditionFailedError);
      expect((e as FloeError).code).toBe("INVALID_REQUEST");

      const dup = await rejection(
        meta.transact([
          put(pk, "twice", { n: 1 }),
          { type: "check", pk, sk: "twice", condition: { absent: true } },
        ]),
      );
      expect((dup as FloeError).code).toBe("INVALID_REQUEST");
      expect(await meta.get(pk, "twice")).toBeUndefined();
      expect(await meta.query(pk)).toHaveLength(100);

      await meta.transact([]);
    });

    describe("query", () => {
      const pk = `query-${randomBytes(4).toString("hex")}`;
      const keys = ["a", "ab", "abc", "abd", "ac", "b", "b#1", "b#2", "b#10", "ba", "c"];
      const sortedKeys = [...keys].sort();

      beforeAll(async () => {
        await backend.meta.transact(keys.map((sk) => put(pk, sk, { sk })));
        // Neighbouring partition keys must never leak into the results.
        await backend.meta.transact([put(`${pk}x`, "a", {}), put(pk.slice(0, -1), "a", {})]);
      });

      it("returns a partition's items in sort-key order", async () => {
        const items = await meta.query(pk);
        expect(sks(items)).toEqual(sortedKeys);
        expect(items[0]).toEqual({ pk, sk: "a", version: 1, data: { sk: "a" } });
        expect(await meta.query(ns("empty"))).toEqual([]);
      });

      it.each([
        [{ gt: "ab" }, ["abc", "abd", "ac", "b", "b#1", "b#10", "b#2", "ba", "c"]],
        [{ gte: "ab" }, ["ab", "abc", "abd", "ac", "b", "b#1", "b#10", "b#2", "ba", "c"]],
        [{ lt: "ab" }, ["a"]],
        [{ lte: "ab" }, ["a", "ab"]],
        [{ gt: "a", lt: "b" }, ["ab", "abc", "abd", "ac"]],
        [{ gte: "a", lte: "b" }, ["a", "ab", "abc", "abd", "ac", "b"]],
        [{ gt: "ab", lte: "abd" }, ["abc", "abd"]],
        [{ gte: "abc", lt: "ac" }, ["abc", "abd"]],
        [{ gt: "aa", gte: "ab" }, ["ab", "abc", "abd", "ac", "b", "b#1", "b#10", "b#2", "ba", "c"]],
        [{ lt: "c", lte: "b" }, ["a", "ab", "abc", "abd", "ac", "b"]],
        [{ prefix: "ab" }, ["ab", "abc", "abd"]],
        [{ prefix: "b#" }, ["b#1", "b#10", "b#2"]],
        [{ prefix: "b" }, ["b", "b#1", "b#10", "b#2", "ba"]],
        [{ prefix: "z" }, []],
        [{ prefix: "" }, sortedKeys],
        [{ prefix: "ab", gt: "ab" }, ["abc", "abd"]],
        [{ prefix: "ab", lt: "abd" }, ["ab", "abc"]],
        [{ prefix: "b", gte: "b#1", lt: "b#2" }, ["b#1", "b#10"]],
        [{ prefix: "b", gt: "a" }, ["b", "b#1", "b#10", "b#2", "ba"]],
        [{ prefix: "a", lt: "zzz" }, ["a", "ab", "abc", "abd", "ac"]],
        [{ prefix: "ab", gt: "b" }, []],
        [{ gt: "b", lt: "b" }, []],
        [{ gte: "b", lte: "b" }, ["b"]],
        [{ gte: "b", lt: "b" }, []],
        [{ gt: "c", lt: "a" }, []],
        [{ gt: "c" }, []],
        [{ lt: "a" }, []],
      ])("filters by %j", async (range, expected) => {
        expect(sks(await meta.query(pk, range))).toEqual(expected);
        expect(sks(await meta.query(pk, { ...range, reverse: true }))).toEqual([...expected].reverse());
        expect(sks(await meta.query(pk, { ...range, limit: 2 }))).toEqual(expected.slice(0, 2));
        expect(sks(await meta.query(pk, { ...range, limit: 2, reverse: true }))).toEqual(
          [...expected].reverse().slice(0, 2),
        );
      });

      it("limits after filtering, in either direction", async () => {
        expect(sks(await meta.query(pk, { limit: 3 }))).toEqual(sortedKeys.slice(0, 3));
        expect(sks(await meta.query(pk, { limit: 1, reverse: true }))).toEqual(["c"]);
        expect(sks(await meta.query(pk, { gt: "a", limit: 1 }))).toEqual(["ab"]);
        expect(sks(await meta.query(pk, { lt: "c", limit: 1, reverse: true }))).toEqual(["ba"]);
        expect(await meta.query(pk, { limit: 0 })).toEqual([]);
        expect(sks(await meta.query(pk, { limit: 1000 }))).toEqual(sortedKeys);
      });
    });

    it("orders sort keys by code point (UTF-8 byte order), as DynamoDB and S3 do", async () => {
      const pk = ns("unicode");
      // UTF-16 code-unit order would put the astral "😀" (0xD83D…) before "\uFFFD".
      const keys = ["\u{1F600}", "\uFFFD", "é", "z", "A", "a", "\u{10000}"];
      await meta.transact(keys.map((sk) => put(pk, sk, {})));
      const expected = ["A", "a", "z", "é", "\uFFFD", "\u{10000}", "\u{1F600}"];
      expect(sks(await meta.query(pk))).toEqual(expected);
      expect(sks(await meta.query(pk, { gt: "\uFFFD" }))).toEqual(["\u{10000}", "\u{1F600}"]);
      expect(sks(await meta.query(pk, { lt: "\u{10000}", gt: "z" }))).toEqual(["é", "\uFFFD"]);
    });

    it("pages through a partition holding more than 1 MB and 1000 items", async () => {
      const pk = ns("big");
      const count = 1100;
      const pad = "x".repeat(1000);
      const skOf = (i: number) => `item#${String(i).padStart(5, "0")}`;
      const batches: WriteOp[][] = [];
      for (let i = 0; i < count; i += 50) {
        batches.push(
          Array.from({ length: Math.min(50, count - i) }, (_, j) => put(pk, skOf(i + j), { i: i + j, pad })),
        );
      }
      for (let b = 0; b < batches.length; b += 4) {
        await Promise.all(batches.slice(b, b + 4).map((ops) => meta.transact(ops)));
      }

      const all = await meta.query(pk);
      expect(all).toHaveLength(count);
      expect(all.map((i) => i.data.i)).toEqual(Array.from({ length: count }, (_, i) => i));
      expect(all[count - 1].data.pad).toBe(pad);

      const limited = await meta.query(pk, { limit: 1050 });
      expect(sks(limited)).toEqual(Array.from({ length: 1050 }, (_, i) => skOf(i)));

      const reversed = await meta.query(pk, { reverse: true, limit: 1050 });
      expect(sks(reversed)).toEqual(Array.from({ length: 1050 }, (_, i) => skOf(count - 1 - i)));

      const tail = await meta.query(pk, { gt: skOf(20), prefix: "item#" });
      expect(tail).toHaveLength(count - 21);
      expect(tail[0].sk).toBe(skOf(21));

      const window = await meta.query(pk, { gte: skOf(5), lt: skOf(1090), reverse: true });
      expect(window).toHaveLength(1085);
      expect(window[0].sk).toBe(skOf(1089));
      expect(window[1084].sk).toBe(skOf(5));
    });

    it("serialises 20 concurrent read-modify-write increments of one counter", async () => {
      const pk = ns("counter");
      const increment = async () => {
        for (let attempt = 0; ; attempt++) {
          const current = await meta.get(pk, "n");
          const value = current ? (current.data.value as number) : 0;
          try {
            await meta.transact([
              put(pk, "n", { value: value + 1 }, current ? { version: current.version } : { absent: true }),
            ]);
            return attempt;
          } catch (e) {
            if (!(e instanceof ConditionFailedError)) throw e;
            await new Promise((r) => setTimeout(r, Math.random() * 5));
          }
        }
      };
      await Promise.all(Array.from({ length: 20 }, increment));
      expect(await meta.get(pk, "n")).toEqual({ pk, sk: "n", version: 20, data: { value: 20 } });
    });

    it("rejects empty keys", async () => {
      for (const op of [put("", "sk", {}), put("pk", "", {})]) {
        expect(((await rejection(meta.transact([op]))) as FloeError).code).toBe("INVALID_REQUEST");
      }
      expect(((await rejection(meta.get("", "x"))) as FloeError).code).toBe("INVALID_REQUEST");
      expect(((await rejection(meta.query(""))) as FloeError).code).toBe("INVALID_REQUEST");
    });
  });
});
