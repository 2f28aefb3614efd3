import { describe, expect, it } from "vitest";
import {
  alternativesPerGiB,
  costPerGiB,
  lambdaPathPerGiB,
  modelledDurationMs,
  perMillionRecords,
  storagePerGiB,
} from "../../../bench/cost-model.js";
import { PRICES } from "../../../bench/prices.js";
import { GiB, KiB, MiB } from "../../../bench/support/stats.js";

describe("costPerGiB", () => {
  it("prices each request kind at its list price", () => {
    const c = costPerGiB({
      requests: 1_000_000,
      bytesPerRequest: 1024,
      durationMs: 100,
      objectPuts: 1000,
      objectGets: 1000,
      readUnits: 1_000_000,
      writeUnits: 1_000_000,
    });
    expect(c.s3Requests).toBeCloseTo(PRICES.s3.putPer1000 + PRICES.s3.getPer1000);
    expect(c.dynamodb).toBeCloseTo(PRICES.dynamodb.writeUnitPerMillion + PRICES.dynamodb.readUnitPerMillion);
    expect(c.lambdaRequests).toBeCloseTo(PRICES.lambda.requestPerMillion);
    // A million 100 ms invocations at 1 GB: 100,000 GB-s.
    expect(c.lambdaDuration).toBeCloseTo(100_000 * PRICES.lambda.armPerGbSecond);
    expect(c.apiGateway).toBeCloseTo(PRICES.apiGatewayHttp.requestPerMillion);
    expect(c.total).toBeCloseTo(
      c.s3Requests + c.dynamodb + c.lambdaRequests + c.lambdaDuration + c.apiGateway,
    );
  });

  it("meters API Gateway requests in 512 KB increments", () => {
    const at = (bytesPerRequest: number) =>
      costPerGiB({
        requests: 1e6,
        bytesPerRequest,
        durationMs: 0,
        objectPuts: 0,
        objectGets: 0,
        readUnits: 0,
        writeUnits: 0,
      }).apiGateway;
    expect(at(512 * KiB)).toBeCloseTo(1);
    expect(at(512 * KiB + 1)).toBeCloseTo(2);
    expect(at(MiB + 1)).toBeCloseTo(3);
  });

  it("charges nothing for compute when there are no requests (a long-running server)", () => {
    const c = costPerGiB({
      requests: 0,
      bytesPerRequest: 0,
      durationMs: 0,
      objectPuts: 256,
      objectGets: 0,
      readUnits: 0,
      writeUnits: 0,
    });
    expect(c.lambdaRequests + c.lambdaDuration + c.apiGateway).toBe(0);
    expect(c.total).toBeCloseTo(256 * 0.000005);
  });
});

describe("the deployed Lambda path", () => {
  const units = { writeUnitsPerCommit: 8, readUnitsPerCommit: 1, readUnitsPerFetch: 2 };

  it("makes one object and one commit per produce request, so request size sets the bill", () => {
    const small = lambdaPathPerGiB(units, { requestBytes: 16 * KiB, fetchBytes: MiB, fetchWaitMs: 0 });
    const large = lambdaPathPerGiB(units, { requestBytes: MiB, fetchBytes: MiB, fetchWaitMs: 0 });
    // 65536 vs 1024 objects per GiB.
    expect(small.ingest.s3Requests).toBeCloseTo(65536 * 0.000005);
    expect(large.ingest.s3Requests).toBeCloseTo(1024 * 0.000005);
    expect(large.ingest.dynamodb).toBeCloseTo((1024 * 8 * 0.625 + 1024 * 0.125) / 1e6);
    expect(small.ingest.total).toBeGreaterThan(large.ingest.total * 30);
  });

  it("bills a long-polling fetch for its wait", () => {
    const polling = lambdaPathPerGiB(units, { requestBytes: MiB, fetchBytes: MiB, fetchWaitMs: 0 });
    const waiting = lambdaPathPerGiB(units, { requestBytes: MiB, fetchBytes: MiB, fetchWaitMs: 1000 });
    expect(waiting.deliver.lambdaDuration - polling.deliver.lambdaDuration).toBeCloseTo(
      1024 * 1 * PRICES.lambda.armPerGbSecond,
    );
  });

  it("reads each object at least once per GiB delivered", () => {
    const c = lambdaPathPerGiB(units, { requestBytes: 16 * KiB, fetchBytes: 4 * MiB, fetchWaitMs: 0 });
    expect(c.deliver.s3Requests).toBeCloseTo((GiB / (16 * KiB)) * 0.0000004);
  });

  it("models durations as a fixed part plus transfer plus waiting", () => {
    expect(modelledDurationMs("produce", MiB)).toBe(50);
    expect(modelledDurationMs("fetch", 2 * MiB, 300)).toBe(340);
  });
});

describe("storage, records and the alternatives", () => {
  it("prices a day of S3 storage per GiB and converts per GiB to per million records", () => {
    expect(storagePerGiB(730)).toBeCloseTo(PRICES.s3.storagePerGbMonth);
    expect(storagePerGiB(24)).toBeCloseTo(0.023 * (24 / 730));
    // A million 1 KiB records are 1e6/1048576 GiB.
    expect(perMillionRecords(1, 1024)).toBeCloseTo(1e6 / 1048576);
  });

  it("spreads the alternatives' hourly charges over the throughput", () => {
    const a = alternativesPerGiB(1, 1);
    const gibPerHour = 3600 / 1024;
    expect(a.kinesisOnDemand.in + a.kinesisOnDemand.out).toBeCloseTo(0.12);
    expect(a.kinesisOnDemand.fixedPerGiB).toBeCloseTo(0.04 / gibPerHour);
    expect(a.mskServerless.in + a.mskServerless.out).toBeCloseTo(0.15);
    expect(a.mskServerless.fixedPerGiB).toBeCloseTo((0.75 + 0.0015) / gibPerHour);
  });
});
