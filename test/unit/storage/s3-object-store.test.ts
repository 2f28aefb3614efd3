import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  PutObjectCommand,
  type S3Client,
  S3ServiceException,
} from "@aws-sdk/client-s3";
import { describe, expect, it } from "vitest";
import { ObjectNotFoundError, StorageError } from "../../../src/errors.js";
import { S3ObjectStore } from "../../../src/storage/s3-object-store.js";

type Command = { constructor: { name: string }; input: Record<string, unknown> };

function fakeStore(respond: (cmd: Command) => unknown = () => ({})) {
  const sent: Command[] = [];
  const client = {
    send: async (cmd: Command) => {
      sent.push(cmd);
      return respond(cmd);
    },
    destroy: () => {},
  } as unknown as S3Client;
  return { store: new S3ObjectStore({ bucket: "bkt", client }), sent };
}

const body = (bytes: number[]) => ({ Body: { transformToByteArray: async () => Uint8Array.from(bytes) } });
const s3Error = (
  name: string,
  status: number,
  fault: "client" | "server" = status >= 500 ? "server" : "client",
) => new S3ServiceException({ name, $fault: fault, message: name, $metadata: { httpStatusCode: status } });

describe("S3ObjectStore", () => {
  it("puts the body with its length", async () => {
    const { store, sent } = fakeStore();
    const bytes = Uint8Array.from([1, 2, 3]);
    await store.put("k/1", bytes);
    expect(sent[0]).toBeInstanceOf(PutObjectCommand);
    expect(sent[0].input).toEqual({ Bucket: "bkt", Key: "k/1", Body: bytes, ContentLength: 3 });
  });

  it("asks for byte ranges as bytes=start-(end-1) and never returns more than asked", async () => {
    const { store, sent } = fakeStore(() => body([0, 1, 2, 3, 4, 5]));
    expect(Array.from(await store.get("k", { start: 10, end: 14 }))).toEqual([0, 1, 2, 3]);
    expect(sent[0]).toBeInstanceOf(GetObjectCommand);
    expect(sent[0].input).toEqual({ Bucket: "bkt", Key: "k", Range: "bytes=10-13" });
    await store.get("k");
    expect(sent[1].input.Range).toBeUndefined();
  });

  it("checks existence with HEAD for an empty range instead of sending an invalid one", async () => {
    const { store, sent } = fakeStore(() => ({}));
    expect((await store.get("k", { start: 5, end: 5 })).byteLength).toBe(0);
    expect(sent[0]).toBeInstanceOf(HeadObjectCommand);
  });

  it("maps NoSuchKey to ObjectNotFoundError and InvalidRange to empty bytes", async () => {
    const missing = new NoSuchKey({
      message: "The specified key does not exist.",
      $metadata: { httpStatusCode: 404 },
    });
    const e = await fakeStore(() => Promise.reject(missing))
      .store.get("gone")
      .catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ObjectNotFoundError);
    expect(e).toMatchObject({ retriable: false, cause: missing });

    const headMissing = s3Error("NotFound", 404);
    await expect(
      fakeStore(() => Promise.reject(headMissing)).store.get("gone", { start: 1, end: 1 }),
    ).rejects.toBeInstanceOf(ObjectNotFoundError);

    const range = s3Error("InvalidRange", 416);
    expect(
      (await fakeStore(() => Promise.reject(range)).store.get("k", { start: 50, end: 60 })).byteLength,
    ).toBe(0);
  });

  it.each([
    ["SlowDown", 503, true],
    ["InternalError", 500, true],
    ["ServiceUnavailable", 503, true],
    ["AccessDenied", 403, false],
    ["NoSuchBucket", 404, false],
  ])(
    "wraps %s (%i) as StorageError with retriable=%s, keeping the cause",
    async (name, status, retriable) => {
      const cause = s3Error(name, status);
      for (const call of [
        (s: S3ObjectStore) => s.put("k", new Uint8Array(1)),
        (s: S3ObjectStore) => s.get("k"),
        (s: S3ObjectStore) => s.list("p/"),
        (s: S3ObjectStore) => s.delete("k"),
      ]) {
        const e = await call(fakeStore(() => Promise.reject(cause)).store).catch((x: unknown) => x);
        expect(e).toBeInstanceOf(StorageError);
        expect(e).not.toBeInstanceOf(ObjectNotFoundError);
        expect(e).toMatchObject({ retriable, cause });
      }
    },
  );

  it("treats a throttling error without a status and a reset connection as retriable", async () => {
    const throttled = Object.assign(new Error("slow"), { name: "SlowDown", $metadata: {} });
    const reset = Object.assign(new Error("socket hang up"), { code: "ECONNRESET", $metadata: {} });
    for (const cause of [throttled, reset]) {
      await expect(fakeStore(() => Promise.reject(cause)).store.get("k")).rejects.toMatchObject({
        retriable: true,
      });
    }
  });

  it("lists with StartAfter/MaxKeys and follows continuation tokens to fill a limit above 1000", async () => {
    const page = (from: number, n: number, token?: string) => ({
      Contents: Array.from({ length: n }, (_, i) => ({
        Key: `p/${String(from + i).padStart(5, "0")}`,
        Size: 1,
        LastModified: new Date(1000),
      })),
      IsTruncated: token !== undefined,
      NextContinuationToken: token,
    });
    const pages = [page(0, 1000, "t1"), page(1000, 500, "t2")];
    const { store, sent } = fakeStore(() => pages.shift());
    const listed = await store.list("p/", { startAfter: "p/", limit: 1500 });
    expect(listed).toHaveLength(1500);
    expect(listed[0]).toEqual({ key: "p/00000", size: 1, lastModified: 1000 });
    expect(sent.every((c) => c instanceof ListObjectsV2Command)).toBe(true);
    expect(sent[0].input).toEqual({ Bucket: "bkt", Prefix: "p/", StartAfter: "p/", MaxKeys: 1000 });
    expect(sent[1].input).toEqual({ Bucket: "bkt", Prefix: "p/", ContinuationToken: "t1", MaxKeys: 500 });
  });

  it("defaults to one page of 1000 keys", async () => {
    const { store, sent } = fakeStore(() => ({ Contents: [], IsTruncated: false }));
    await store.list("");
    expect(sent[0].input).toEqual({ Bucket: "bkt", MaxKeys: 1000 });
  });
});
