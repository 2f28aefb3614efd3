import { describe, expect, it } from "vitest";
import { FloeError } from "../../../src/errors.js";
import { Floe } from "../../../src/client/floe.js";
import { FloeClientError } from "../../../src/client/client-error.js";
import { backoffMs, DEFAULT_RETRY, retryPolicy } from "../../../src/client/retry.js";
import { connectionRefused, FakeFetch, floeError, json, offsetsFor } from "./fake-fetch.js";

/** A Floe over the fake fetch whose backoff sleeps are recorded instead of slept. */
function client(fake: FakeFetch, retries?: number) {
  const sleeps: number[] = [];
  const floe = new Floe({
    url: "http://floe.test:8092",
    fetch: fake.fetch,
    retry: retries === undefined ? undefined : { retries },
    retryHooks: { sleep: async (ms) => void sleeps.push(ms), random: () => 0.5 },
    // The produce retries below are asserted on the JSON wire.
    protocol: "json",
  });
  return { floe, sleeps };
}

async function failure(p: Promise<unknown>): Promise<FloeClientError> {
  const error = await p.then(
    () => {
      throw new Error("expected a failure");
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(FloeClientError);
  expect(error).toBeInstanceOf(FloeError);
  return error as FloeClientError;
}

describe("backoff", () => {
  it("doubles from retry.backoff.ms=100 up to retry.backoff.max.ms=1000", () => {
    const mid = () => 0.5;
    expect([0, 1, 2, 3, 4, 5].map((n) => backoffMs(DEFAULT_RETRY, n, mid))).toEqual([
      100, 200, 400, 800, 1000, 1000,
    ]);
  });

  it("jitters by at most 20% either way", () => {
    expect(backoffMs(DEFAULT_RETRY, 1, () => 0)).toBe(160);
    expect(backoffMs(DEFAULT_RETRY, 1, () => 1)).toBe(240);
  });

  it("takes KafkaJS's option names over the defaults", () => {
    expect(retryPolicy({ retries: 0 })).toEqual({ ...DEFAULT_RETRY, retries: 0 });
    expect(retryPolicy({ initialRetryTime: 5, maxRetryTime: 7 }, DEFAULT_RETRY)).toEqual({
      retries: 5,
      initialRetryTime: 5,
      maxRetryTime: 7,
    });
  });
});

describe("retries", () => {
  it("retries 503 and 429 and network failures, then succeeds", async () => {
    const fake = new FakeFetch()
      .answer(() => floeError(503, "KAFKA_STORAGE_ERROR", true))
      .answer(() => floeError(429, "THROTTLING_QUOTA_EXCEEDED"))
      .answer(() => connectionRefused())
      .answer(() => json(200, { topics: ["a"] }));
    const { floe, sleeps } = client(fake);
    expect(await floe.admin().listTopics()).toEqual(["a"]);
    expect(fake.requests).toHaveLength(4);
    expect(sleeps).toEqual([100, 200, 400]);
  });

  it("retries an error the server marks retriable whatever its status", async () => {
    const fake = new FakeFetch()
      .answer(() => floeError(409, "CONCURRENT_TRANSACTIONS", true))
      .answer(() => json(200, { topics: [] }));
    const { floe } = client(fake);
    expect(await floe.admin().listTopics()).toEqual([]);
    expect(fake.requests).toHaveLength(2);
  });

  it("never retries a refusal", async () => {
    const fake = new FakeFetch().answer(() => floeError(404, "UNKNOWN_TOPIC_OR_PARTITION"));
    const { floe, sleeps } = client(fake);
    const error = await failure(floe.admin().describeTopic("nope"));
    expect(error.code).toBe("UNKNOWN_TOPIC_OR_PARTITION");
    expect(error.status).toBe(404);
    expect(error.retriable).toBe(false);
    expect(error.fault).toBe("client");
    expect(fake.requests).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it("gives up after `retries` retries with the last error", async () => {
    const fake = new FakeFetch();
    fake.fallback = () => connectionRefused();
    const { floe, sleeps } = client(fake, 2);
    const error = await failure(floe.admin().listTopics());
    expect(error.code).toBe("NETWORK_EXCEPTION");
    expect(error.message).toBe("cannot reach Floe at http://floe.test:8092: connection refused");
    expect(error.retriable).toBe(true);
    expect(error.status).toBeUndefined();
    expect(fake.requests).toHaveLength(3);
    expect(sleeps).toHaveLength(2);
  });

  it("retries a produce with the same records, so the caller sees only the success", async () => {
    const fake = new FakeFetch()
      .answer(() => floeError(503, "REQUEST_TIMED_OUT", true))
      .answer((r) => offsetsFor(r, 41));
    const { floe } = client(fake);
    // At least once: the JSON route without idempotence resends the same body.
    const producer = floe.producer({ idempotent: false });
    expect(await producer.send({ topic: "t", messages: [{ value: "v" }] })).toEqual([
      { topic: "t", partition: 0, offset: 41 },
    ]);
    expect(fake.requests[1].body).toEqual(fake.requests[0].body);
  });

  it("lets a producer override the client's retries", async () => {
    const fake = new FakeFetch();
    fake.fallback = () => floeError(503, "KAFKA_STORAGE_ERROR", true);
    const { floe } = client(fake);
    await failure(
      floe
        .producer({ idempotent: false, retry: { retries: 1 } })
        .send({ topic: "t", messages: [{ value: "v" }] }),
    );
    expect(fake.requests).toHaveLength(2);
  });
});

describe("error answers", () => {
  it("turns a non-Floe answer into an error that says what came back", async () => {
    const fake = new FakeFetch().answer(
      () => new Response("<html>bad gateway</html>", { status: 502, statusText: "Bad Gateway" }),
    );
    const { floe } = client(fake, 0);
    const error = await failure(floe.admin().listTopics());
    expect(error.code).toBe("UNKNOWN_SERVER_ERROR");
    expect(error.message).toBe("HTTP 502 Bad Gateway from server");
    expect(error.retriable).toBe(true);
  });

  it("refuses an invalid URL up front", () => {
    expect(() => new Floe({ url: "localhost:8092" })).toThrow(/invalid Floe URL/);
    expect(() => new Floe({ url: "not a url" })).toThrow(FloeClientError);
  });
});
