/**
 * What a workload would cost deployed on AWS (Lambda behind an API Gateway HTTP API, S3, DynamoDB
 * on demand), from request counts measured by the benchmark, next to Kinesis Data Streams
 * on-demand and MSK Serverless at list price. Pure arithmetic over bench/prices.ts; unit-tested.
 *
 * The deployed produce path has no cross-request group commit: each Lambda invocation writes one
 * object and makes one commit. So the object count per GiB is set by how much each request
 * carries, i.e. by client-side batching (the Producer's lingerMs/batchBytes), not by the server.
 */
import { HOURS_PER_MONTH, PRICES, type Prices } from "./prices.js";
import { GiB, MiB } from "./support/stats.js";

export interface CostBreakdown {
  s3Requests: number;
  dynamodb: number;
  lambdaRequests: number;
  lambdaDuration: number;
  apiGateway: number;
  total: number;
}

/** What one GiB of payload costs in requests, as measured or modelled. */
export interface RequestShape {
  /** HTTP requests (Lambda invocations behind API Gateway) per GiB; 0 for a long-running server. */
  requests: number;
  /** Average HTTP body per request, for API Gateway's 512 KB metering. */
  bytesPerRequest: number;
  /** Billed Lambda time per request, in ms. */
  durationMs: number;
  objectPuts: number;
  objectGets: number;
  readUnits: number;
  writeUnits: number;
}

export interface LambdaSettings {
  /** Function memory; the CDK stack's default is 1024 MB. */
  memoryGb: number;
}

export const DEFAULT_LAMBDA: LambdaSettings = { memoryGb: 1 };

/**
 * Billed duration of one invocation, an assumption stated where it is used: a fixed part (runtime,
 * metadata round trips, ~10 ms each against DynamoDB) plus S3 transfer at about 100 MB/s per
 * stream. Lambda bills every millisecond, long-poll waits included.
 */
export function modelledDurationMs(kind: "produce" | "fetch", bytes: number, waitMs = 0): number {
  const fixed = kind === "produce" ? 40 : 20;
  return fixed + (10 * bytes) / MiB + waitMs;
}

export function costPerGiB(
  shape: RequestShape,
  lambda: LambdaSettings = DEFAULT_LAMBDA,
  prices: Prices = PRICES,
): CostBreakdown {
  const increments = Math.max(
    1,
    Math.ceil(shape.bytesPerRequest / prices.apiGatewayHttp.meteringIncrementBytes),
  );
  const s3Requests =
    (shape.objectPuts * prices.s3.putPer1000) / 1000 + (shape.objectGets * prices.s3.getPer1000) / 1000;
  const dynamodb =
    (shape.writeUnits * prices.dynamodb.writeUnitPerMillion) / 1e6 +
    (shape.readUnits * prices.dynamodb.readUnitPerMillion) / 1e6;
  const lambdaRequests = (shape.requests * prices.lambda.requestPerMillion) / 1e6;
  const lambdaDuration =
    shape.requests * (shape.durationMs / 1000) * lambda.memoryGb * prices.lambda.armPerGbSecond;
  const apiGateway = (shape.requests * increments * prices.apiGatewayHttp.requestPerMillion) / 1e6;
  return {
    s3Requests,
    dynamodb,
    lambdaRequests,
    lambdaDuration,
    apiGateway,
    total: s3Requests + dynamodb + lambdaRequests + lambdaDuration + apiGateway,
  };
}

/** S3 storage for one GiB kept `retentionHours` (Kinesis on-demand includes 24 h in its price). */
export function storagePerGiB(retentionHours: number, prices: Prices = PRICES): number {
  return prices.s3.storagePerGbMonth * (retentionHours / HOURS_PER_MONTH);
}

export function perMillionRecords(costPerGiB: number, recordBytes: number): number {
  return (costPerGiB * recordBytes * 1e6) / GiB;
}

/** Metadata work per commit and per fetch, as the instrumented ports counted it. */
export interface MeasuredUnits {
  writeUnitsPerCommit: number;
  readUnitsPerCommit: number;
  readUnitsPerFetch: number;
}

export interface LambdaPathOptions {
  /** Payload bytes each produce request carries (client-side batching sets it). */
  requestBytes: number;
  /** Payload bytes each fetch answers (its maxBytes, or what arrived since the last poll). */
  fetchBytes: number;
  /** Time a fetch waits at the high-water mark, billed by Lambda. */
  fetchWaitMs: number;
  /** RecordBatch framing over the payload (~1 % for 1 KiB records). */
  framingOverhead?: number;
}

/**
 * The deployed path per GiB: produce invocations of `requestBytes` each (one object, one commit)
 * and fetch invocations of `fetchBytes` each (a chunk GET unless the object was already read by
 * that invocation, at most one GET per object).
 */
export function lambdaPathPerGiB(units: MeasuredUnits, options: LambdaPathOptions, lambda = DEFAULT_LAMBDA) {
  const framing = 1 + (options.framingOverhead ?? 0.01);
  const produceRequests = GiB / options.requestBytes;
  const ingest = costPerGiB(
    {
      requests: produceRequests,
      bytesPerRequest: options.requestBytes * framing,
      durationMs: modelledDurationMs("produce", options.requestBytes * framing),
      objectPuts: produceRequests,
      objectGets: 0,
      readUnits: produceRequests * units.readUnitsPerCommit,
      writeUnits: produceRequests * units.writeUnitsPerCommit,
    },
    lambda,
  );
  const fetches = GiB / options.fetchBytes;
  const deliver = costPerGiB(
    {
      requests: fetches,
      bytesPerRequest: options.fetchBytes * framing,
      durationMs: modelledDurationMs("fetch", options.fetchBytes * framing, options.fetchWaitMs),
      objectPuts: 0,
      // Every fetch reads at least one chunk; a chunk larger than a fetch is read once per fetch too
      // (separate invocations share no cache).
      objectGets: Math.max(fetches, produceRequests),
      readUnits: fetches * units.readUnitsPerFetch,
      writeUnits: 0,
    },
    lambda,
  );
  return { ingest, deliver };
}

/** The alternatives at list price, per GiB, with their fixed hourly charges spread over `mibPerSecond`. */
export function alternativesPerGiB(mibPerSecond: number, partitions = 1, prices: Prices = PRICES) {
  const gibPerHour = (mibPerSecond * 3600) / 1024;
  const k = prices.kinesisOnDemand;
  const m = prices.mskServerless;
  return {
    kinesisOnDemand: {
      in: k.perGbIn,
      out: k.perGbOut,
      fixedPerGiB: k.perStreamHour / gibPerHour,
      source: k.source,
    },
    mskServerless: {
      in: m.perGbIn,
      out: m.perGbOut,
      fixedPerGiB: (m.perClusterHour + partitions * m.perPartitionHour) / gibPerHour,
      // One day retained, as Kinesis includes.
      storagePerGiB: m.storagePerGbMonth * (24 / HOURS_PER_MONTH),
      source: m.source,
    },
  };
}
