/**
 * List prices, AWS us-east-1, on-demand, taken on 2026-11-23 from the pricing pages below and
 * confirmed against the pages as stored by this project's search index on that date. Nothing
 * else in the benchmark holds a price. AWS bills data "per GB" in binary gigabytes, so GB here is
 * GiB (2^30 bytes) throughout.
 */
export const PRICES_TAKEN_ON = "2026-11-23";
export const PRICES_REGION = "us-east-1";

export const PRICES = {
  s3: {
    /** S3 Standard PUT, COPY, POST, LIST requests, per 1,000. */
    putPer1000: 0.005,
    /** S3 Standard GET, SELECT and all other requests, per 1,000. */
    getPer1000: 0.0004,
    /** S3 Standard storage, first 50 TB, per GB-month. */
    storagePerGbMonth: 0.023,
    source: "https://aws.amazon.com/s3/pricing/",
  },
  dynamodb: {
    /** On-demand write request units, per million (after the November 2024 50 % reduction). */
    writeUnitPerMillion: 0.625,
    /** On-demand read request units, per million. */
    readUnitPerMillion: 0.125,
    source: "https://aws.amazon.com/dynamodb/pricing/on-demand/",
  },
  lambda: {
    requestPerMillion: 0.2,
    /** Arm (Graviton), first 7.5 billion GB-seconds a month. */
    armPerGbSecond: 0.0000133334,
    source: "https://aws.amazon.com/lambda/pricing/",
  },
  apiGatewayHttp: {
    /** HTTP API, first 300 million requests a month, per million. */
    requestPerMillion: 1.0,
    /** HTTP API requests are metered in 512 KB increments. */
    meteringIncrementBytes: 512 * 1024,
    source: "https://aws.amazon.com/api-gateway/pricing/",
  },
  kinesisOnDemand: {
    perGbIn: 0.08,
    perGbOut: 0.04,
    /** Per stream per hour, whatever the traffic (includes 24 h retention). */
    perStreamHour: 0.04,
    source: "https://aws.amazon.com/kinesis/data-streams/pricing/",
  },
  mskServerless: {
    perGbIn: 0.1,
    perGbOut: 0.05,
    perClusterHour: 0.75,
    perPartitionHour: 0.0015,
    storagePerGbMonth: 0.1,
    source: "https://aws.amazon.com/msk/pricing/",
  },
} as const;

export type Prices = typeof PRICES;

/** Hours in AWS's billing month. */
export const HOURS_PER_MONTH = 730;
