/**
 * The front doors tell the core when their caller stops waiting (decision 0008): the dev server's
 * closed connection aborts the produce, a Lambda invocation near its end gives the append a
 * deadline. Either way the answer is REQUEST_TIMED_OUT and nothing is appended, then or later. A
 * fetch's long-poll whose caller went away stops waiting, so it holds no server resources for it.
 */
import { afterEach, describe, expect, it } from "vitest";
import { createApiHandler, LAMBDA_DEADLINE_MARGIN_MS } from "../../../src/api/api-handler.js";
import { Broker } from "../../../src/broker/broker.js";
import { createBackend } from "../../../src/storage/backend.js";
import type { Backend } from "../../../src/storage/ports.js";
import { apiGatewayEvent, lambdaContext } from "../../support/api-gateway-event.js";
import { HeldPuts } from "../../support/faults.js";

describe("the caller's scope reaches the append", () => {
  let backend: Backend | undefined;
  afterEach(async () => {
    await backend?.close();
  });

  async function setUp() {
    backend = await createBackend({ storage: "memory" });
    const objects = new HeldPuts(backend.objects);
    const broker = new Broker({ meta: backend.meta, objects });
    await broker.createTopic("scoped", 1);
    const handler = createApiHandler({ broker, routes: "all" });
    const produce = (value: string) =>
      apiGatewayEvent("POST", "/v1/topics/scoped/records", { body: { records: [{ value }] } });
    return { broker, objects, handler, produce };
  }

  it("a produce whose HTTP caller went away answers REQUEST_TIMED_OUT and never lands", async () => {
    const { broker, objects, handler, produce } = await setUp();
    const caller = new AbortController();
    const answer = handler(produce("abandoned"), undefined, { signal: caller.signal });
    await objects.holding();
    caller.abort();
    objects.release();
    const result = await answer;
    expect(result.statusCode).toBe(503);
    expect(JSON.parse(result.body ?? "{}").error).toMatchObject({
      code: "REQUEST_TIMED_OUT",
      retriable: true,
    });
    expect((await broker.describeTopic("scoped")).partitions[0].highWatermark).toBe(0);
  });

  it("a Lambda invocation near its end stops before the commit, leaving time to answer", async () => {
    const { broker, objects, handler, produce } = await setUp();
    // 300 ms of the invocation left beyond the margin; the PUT takes longer than that.
    const answer = handler(produce("too late"), lambdaContext(LAMBDA_DEADLINE_MARGIN_MS + 300));
    await objects.holding();
    await new Promise((resolve) => setTimeout(resolve, 400));
    objects.release();
    const result = await answer;
    expect(result.statusCode).toBe(503);
    expect(JSON.parse(result.body ?? "{}").error.code).toBe("REQUEST_TIMED_OUT");
    expect((await broker.describeTopic("scoped")).partitions[0].highWatermark).toBe(0);
  });

  it("a caller that waits gets its offsets", async () => {
    const { objects, handler, produce } = await setUp();
    objects.release();
    const result = await handler(produce("kept"), lambdaContext(), { signal: new AbortController().signal });
    expect(result.statusCode).toBe(200);
    expect(JSON.parse(result.body ?? "{}")).toEqual({ offsets: [{ partition: 0, offset: 0 }] });
  });

  // Without the caller's signal these long-polls hold for their whole 20 s, past the test's timeout.
  it.each([
    [
      "POST /v1/fetch",
      () => ({ partitions: [{ topic: "scoped", partition: 0, offset: 0 }], maxWaitMs: 20_000 }),
    ],
    ["GET …/records", undefined],
  ])(
    "a long-poll (%s) whose HTTP caller went away ends at its next wake-up, not at maxWaitMs",
    { timeout: 5_000 },
    async (route, body) => {
      const { handler } = await setUp();
      const caller = new AbortController();
      const event = body
        ? apiGatewayEvent("POST", "/v1/fetch", { body: body() })
        : apiGatewayEvent("GET", "/v1/topics/scoped/partitions/0/records", {
            query: "offset=0&maxWaitMs=20000",
          });
      const answer = handler(event, undefined, { signal: caller.signal });
      caller.abort();
      const result = await answer;
      expect(result.statusCode, route).toBe(200);
    },
  );
});
