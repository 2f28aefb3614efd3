import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { FloeError } from "../../../src/errors.js";
import { backendConfigFromEnv, createBackend } from "../../../src/storage/backend.js";
import type { DynamoDbMetaStore } from "../../../src/storage/dynamodb-meta-store.js";
import { FsObjectStore } from "../../../src/storage/fs-object-store.js";
import type { S3ObjectStore } from "../../../src/storage/s3-object-store.js";
import { SqliteMetaStore } from "../../../src/storage/sqlite-meta-store.js";

describe("backendConfigFromEnv", () => {
  it("reads FLOE_* and AWS_* variables", () => {
    expect(
      backendConfigFromEnv({
        FLOE_STORAGE: "aws",
        FLOE_BUCKET: "b",
        FLOE_TABLE: "t",
        AWS_REGION: "eu-west-1",
        AWS_ENDPOINT_URL: "http://all:1",
        AWS_ENDPOINT_URL_DYNAMODB: "http://ddb:2",
      }),
    ).toEqual({
      storage: "aws",
      bucket: "b",
      table: "t",
      region: "eu-west-1",
      s3Endpoint: "http://all:1",
      dynamodbEndpoint: "http://ddb:2",
    });
    expect(backendConfigFromEnv({ FLOE_DATA_DIR: "/data" })).toEqual({
      storage: "embedded",
      dataDir: "/data",
    });
    expect(backendConfigFromEnv({ FLOE_STORAGE: "memory", AWS_ENDPOINT_URL_S3: "http://s3:3" })).toEqual({
      storage: "memory",
      s3Endpoint: "http://s3:3",
    });
  });

  it("rejects an unknown FLOE_STORAGE with INVALID_CONFIG", () => {
    expect(() => backendConfigFromEnv({ FLOE_STORAGE: "s3" })).toThrow(
      expect.objectContaining({ code: "INVALID_CONFIG" }),
    );
  });
});

describe("createBackend", () => {
  it("needs bucket and table for aws, saying which is missing", async () => {
    const e = await createBackend({ storage: "aws", table: "t" }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(FloeError);
    expect(e).toMatchObject({ code: "INVALID_CONFIG" });
    expect((e as Error).message).toMatch(/FLOE_BUCKET/);
    expect((e as Error).message).not.toMatch(/FLOE_TABLE/);
    await expect(createBackend({ storage: "aws" })).rejects.toThrow(/FLOE_BUCKET.*FLOE_TABLE/);
  });

  it("rejects an unknown storage kind", async () => {
    await expect(createBackend({ storage: "nope" as "memory" })).rejects.toMatchObject({
      code: "INVALID_CONFIG",
    });
  });

  it("lays out embedded storage as {dataDir}/objects and {dataDir}/meta.db", async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), "floe-backend-"));
    try {
      const backend = await createBackend({ storage: "embedded", dataDir });
      expect(backend.kind).toBe("embedded");
      expect(backend.objects).toBeInstanceOf(FsObjectStore);
      expect(backend.meta).toBeInstanceOf(SqliteMetaStore);
      await backend.objects.put("x", Uint8Array.from([1]));
      await backend.meta.transact([{ type: "put", pk: "p", sk: "s", data: {} }]);
      await backend.close();
      await backend.close();
      expect((await readdir(dataDir)).sort()).toEqual(expect.arrayContaining(["meta.db", "objects"]));
      expect(await readdir(path.join(dataDir, "objects"))).toEqual(["x"]);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it("refuses a flush policy for memory and aws storage, which cannot honour one", async () => {
    await expect(createBackend({ storage: "memory", flush: { mode: "every-commit" } })).rejects.toMatchObject(
      {
        code: "INVALID_CONFIG",
        message: expect.stringMatching(/embedded backend only/),
      },
    );
    await expect(
      createBackend({ storage: "aws", bucket: "b", table: "t", flush: { mode: "os" } }),
    ).rejects.toMatchObject({
      code: "INVALID_CONFIG",
      message: expect.stringMatching(/durable on every request/),
    });
  });

  it.each([
    { policy: undefined, objects: "never" },
    { policy: { mode: "os" as const }, objects: "never" },
    { policy: { mode: "every-commit" as const }, objects: "each" },
    { policy: { mode: "interval" as const, intervalMs: 60_000 }, objects: "on-flush" },
  ])(
    "embedded storage under flush policy $policy.mode writes objects with fsync $objects and keeps what it commits",
    async ({ policy, objects }) => {
      const dataDir = await mkdtemp(path.join(tmpdir(), "floe-backend-"));
      try {
        const backend = await createBackend({ storage: "embedded", dataDir, flush: policy });
        expect((backend.objects as FsObjectStore).fsync).toBe(objects);
        await backend.objects.put("segments/x", Uint8Array.from([1, 2]));
        await backend.meta.transact([{ type: "put", pk: "p", sk: "s", data: { object: "segments/x" } }]);
        // Closing flushes what an interval had not yet.
        await backend.close();
        expect((backend.objects as FsObjectStore).hasPending()).toBe(false);
        if (policy?.mode === "interval") expect((backend.meta as SqliteMetaStore).hasUnsynced()).toBe(false);
        const again = await createBackend({ storage: "embedded", dataDir });
        expect(Array.from(await again.objects.get("segments/x"))).toEqual([1, 2]);
        expect(await again.meta.get("p", "s")).toMatchObject({ data: { object: "segments/x" } });
        await again.close();
      } finally {
        await rm(dataDir, { recursive: true, force: true });
      }
    },
  );

  it("flushes objects then metadata every log.flush.interval.ms", async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), "floe-backend-"));
    const backend = await createBackend({
      storage: "embedded",
      dataDir,
      flush: { mode: "interval", intervalMs: 20 },
    });
    try {
      const objects = backend.objects as FsObjectStore;
      const meta = backend.meta as SqliteMetaStore;
      await objects.put("segments/y", Uint8Array.from([1]));
      await meta.transact([{ type: "put", pk: "p", sk: "s", data: {} }]);
      expect(objects.hasPending()).toBe(true);
      // Waits for the timer's flush; how soon it runs is not what is tested.
      await expect.poll(() => objects.hasPending() || meta.hasUnsynced(), { timeout: 10_000 }).toBe(false);
    } finally {
      await backend.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it("points aws clients at explicit endpoints with path-style S3", async () => {
    const backend = await createBackend({
      storage: "aws",
      bucket: "b",
      table: "t",
      s3Endpoint: "http://127.0.0.1:1",
      dynamodbEndpoint: "http://127.0.0.1:2",
      credentials: { accessKeyId: "x", secretAccessKey: "y" },
    });
    try {
      expect(backend.kind).toBe("aws");
      const s3 = (backend.objects as S3ObjectStore).client;
      const ddb = (backend.meta as DynamoDbMetaStore).client;
      expect(s3.config.forcePathStyle).toBe(true);
      expect(await s3.config.region()).toBe("us-east-1");
      const s3Endpoint = await s3.config.endpoint?.();
      expect(s3Endpoint).toMatchObject({ hostname: "127.0.0.1", port: 1 });
      const ddbEndpoint = await ddb.config.endpoint?.();
      expect(ddbEndpoint).toMatchObject({ hostname: "127.0.0.1", port: 2 });
    } finally {
      await backend.close();
    }
  });
});
