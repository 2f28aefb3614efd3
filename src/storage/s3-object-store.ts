/** ObjectStore on S3 or any S3-compatible service (AWS SDK v3). */
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  DeleteObjectCommand,
  S3Client,
  type S3ClientConfig,
} from "@aws-sdk/client-s3";
import { ObjectNotFoundError } from "../errors.js";
import { awsErrorName, httpStatusOf, toStorageError } from "./aws-errors.js";
import type { ByteRange, ObjectInfo, ObjectStore } from "./ports.js";
import { assertByteRange, assertListLimit, assertObjectKey } from "./validate.js";

export interface S3ObjectStoreOptions {
  bucket: string;
  /** A client to use; the caller keeps ownership (close() leaves it open). */
  client?: S3Client;
  /** Config for a client built and owned by the store when `client` is not given. */
  clientConfig?: S3ClientConfig;
}

/** ListObjectsV2 returns at most this many keys per call. */
const S3_PAGE = 1000;

export class S3ObjectStore implements ObjectStore {
  readonly bucket: string;
  readonly client: S3Client;
  private readonly ownsClient: boolean;

  constructor(options: S3ObjectStoreOptions) {
    this.bucket = options.bucket;
    this.ownsClient = options.client === undefined;
    this.client = options.client ?? new S3Client(options.clientConfig ?? {});
  }

  async put(key: string, body: Uint8Array): Promise<void> {
    assertObjectKey(key);
    try {
      await this.client.send(
        new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentLength: body.byteLength }),
      );
    } catch (e) {
      throw toStorageError(e, `S3 PutObject ${key}`);
    }
  }

  async get(key: string, range?: ByteRange): Promise<Uint8Array> {
    assertObjectKey(key);
    if (range) {
      assertByteRange(range);
      // "bytes=5-4" is not a valid range and S3 would answer with the whole object.
      if (range.end === range.start) return this.emptyRead(key);
    }
    try {
      const res = await this.client.send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Range: range ? `bytes=${range.start}-${range.end - 1}` : undefined,
        }),
      );
      const bytes = res.Body ? await res.Body.transformToByteArray() : new Uint8Array(0);
      // Never hand back more than was asked for, even from a lax S3-compatible server.
      if (range && bytes.byteLength > range.end - range.start) return bytes.slice(0, range.end - range.start);
      return bytes;
    } catch (e) {
      const name = awsErrorName(e);
      if (name === "NoSuchKey" || name === "NotFound") throw new ObjectNotFoundError(key, { cause: e });
      // The object exists but the range starts at or past its end: nothing to read.
      if (range && (name === "InvalidRange" || httpStatusOf(e) === 416)) return new Uint8Array(0);
      throw toStorageError(e, `S3 GetObject ${key}`);
    }
  }

  async delete(key: string): Promise<void> {
    assertObjectKey(key);
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (e) {
      if (awsErrorName(e) === "NoSuchKey") return;
      throw toStorageError(e, `S3 DeleteObject ${key}`);
    }
  }

  async list(prefix: string, options: { startAfter?: string; limit?: number } = {}): Promise<ObjectInfo[]> {
    const limit = assertListLimit(options.limit);
    const out: ObjectInfo[] = [];
    let continuationToken: string | undefined;
    try {
      while (out.length < limit) {
        const res = await this.client.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: prefix === "" ? undefined : prefix,
            StartAfter:
              continuationToken === undefined && options.startAfter ? options.startAfter : undefined,
            ContinuationToken: continuationToken,
            MaxKeys: Math.min(S3_PAGE, limit - out.length),
          }),
        );
        for (const o of res.Contents ?? []) {
          if (o.Key === undefined || out.length >= limit) continue;
          out.push({ key: o.Key, size: o.Size ?? 0, lastModified: o.LastModified?.getTime() ?? 0 });
        }
        if (!res.IsTruncated || !res.NextContinuationToken) break;
        continuationToken = res.NextContinuationToken;
      }
    } catch (e) {
      throw toStorageError(e, `S3 ListObjectsV2 ${prefix}`);
    }
    return out;
  }

  async close(): Promise<void> {
    if (this.ownsClient) this.client.destroy();
  }

  /** An empty range still fails on a missing object, as every other read does. */
  private async emptyRead(key: string): Promise<Uint8Array> {
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return new Uint8Array(0);
    } catch (e) {
      const name = awsErrorName(e);
      if (name === "NoSuchKey" || name === "NotFound" || httpStatusOf(e) === 404) {
        throw new ObjectNotFoundError(key, { cause: e });
      }
      throw toStorageError(e, `S3 HeadObject ${key}`);
    }
  }
}
