import { describe, expect, it } from "vitest";
import { createApiHandler } from "../../../src/api/api-handler.js";
import { Broker } from "../../../src/broker/broker.js";
import { createBackend } from "../../../src/storage/backend.js";

/** A REST API (payload format 1.0) proxy event, as API Gateway v1 and LocalStack's free edition send it. */
function v1Event(
  httpMethod: string,
  path: string,
  init: { query?: Record<string, string[]>; body?: unknown } = {},
) {
  return {
    resource: "/{proxy+}",
    path,
    httpMethod,
    headers: { "Content-Type": "application/json" },
    multiValueHeaders: { "Content-Type": ["application/json"] },
    queryStringParameters: init.query
      ? Object.fromEntries(Object.entries(init.query).map(([k, v]) => [k, v[0]]))
      : null,
    multiValueQueryStringParameters: init.query ?? null,
    pathParameters: { proxy: path.slice(1) },
    stageVariables: null,
    requestContext: { stage: "prod", path: `/prod${path}`, httpMethod, resourcePath: "/{proxy+}" },
    body: init.body === undefined ? null : JSON.stringify(init.body),
    isBase64Encoded: false,
  };
}

describe("payload format 1.0 (REST API front door)", () => {
  it("routes create, produce and fetch exactly as 2.0 events", async () => {
    const backend = await createBackend({ storage: "memory" });
    const handler = createApiHandler({ broker: new Broker(backend) });
    const call = (e: ReturnType<typeof v1Event>) => handler(e as never);

    const created = await call(v1Event("POST", "/v1/topics", { body: { name: "orders", partitions: 2 } }));
    expect(created.statusCode).toBe(201);
    const produced = await call(
      v1Event("POST", "/v1/topics/orders/records", {
        query: { encoding: ["string"] },
        body: { records: [{ value: "hello", partition: 1 }] },
      }),
    );
    expect(produced.statusCode).toBe(200);
    expect(JSON.parse(produced.body as string)).toEqual({ offsets: [{ partition: 1, offset: 0 }] });
    const fetched = await call(
      v1Event("GET", "/v1/topics/orders/partitions/1/records", {
        query: { offset: ["0"], encoding: ["string"] },
      }),
    );
    expect(fetched.statusCode).toBe(200);
    expect(JSON.parse(fetched.body as string).records.map((r: { value: string }) => r.value)).toEqual([
      "hello",
    ]);
    const missing = await call(v1Event("GET", "/v1/nowhere"));
    expect(missing.statusCode).toBe(404);
    await backend.close();
  });
});
