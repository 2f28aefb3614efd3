import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiRoutes } from "../../../src/api/route-table.js";
import { HealthResponse } from "../../../src/api/schemas.js";
import { startTestServer, type TestServer } from "./harness.js";

/** Every `$ref` in the document, so each can be checked to resolve. */
function refs(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) for (const n of node) refs(n, out);
  else if (node && typeof node === "object") {
    for (const [k, v] of Object.entries(node)) {
      if (k === "$ref" && typeof v === "string") out.push(v);
      else refs(v, out);
    }
  }
  return out;
}

describe("service routes", () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer("embedded");
  });
  afterAll(async () => {
    await s?.close();
  });

  it("reports liveness and backend reachability", async () => {
    const res = await s.call("GET", "/v1/health");
    expect(res.status).toBe(200);
    expect(HealthResponse.parse(res.body)).toEqual({
      status: "ok",
      checks: { metaStore: { status: "ok" }, objectStore: { status: "ok" } },
    });
  });

  it("serves an OpenAPI 3.1 document listing every route, whose references all resolve", async () => {
    const res = await s.call("GET", "/v1/openapi.json");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("application/json");
    const doc = res.body;
    expect(doc.openapi).toBe("3.1.0");
    const operations = Object.entries(
      doc.paths as Record<string, Record<string, { operationId: string }>>,
    ).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, op]) => `${method.toUpperCase()} ${path} ${op.operationId}`),
    );
    expect(operations.sort()).toEqual(apiRoutes.map((r) => `${r.method} ${r.path} ${r.operationId}`).sort());
    for (const required of [
      "POST /v1/topics",
      "GET /v1/topics",
      "GET /v1/topics/{topic}",
      "PATCH /v1/topics/{topic}",
      "DELETE /v1/topics/{topic}",
      "POST /v1/topics/{topic}/records",
      "GET /v1/topics/{topic}/partitions/{partition}/records",
      "POST /v1/fetch",
      "GET /v1/topics/{topic}/partitions/{partition}/offsets",
      "GET /v1/health",
      "GET /v1/openapi.json",
    ]) {
      expect(
        operations.some((o) => o.startsWith(`${required} `)),
        required,
      ).toBe(true);
    }
    for (const ref of refs(doc)) {
      expect(ref.startsWith("#/components/schemas/"), ref).toBe(true);
      expect(doc.components.schemas[ref.slice("#/components/schemas/".length)], ref).toBeDefined();
    }
    const produce = doc.paths["/v1/topics/{topic}/records"].post;
    expect(produce.parameters.map((p: { name: string; in: string }) => `${p.in}:${p.name}`)).toEqual([
      "path:topic",
      "query:encoding",
    ]);
    expect(produce.requestBody.content["application/json"].schema).toEqual({
      $ref: "#/components/schemas/ProduceRequest",
    });
    expect(Object.keys(produce.responses)).toEqual(
      expect.arrayContaining(["200", "400", "404", "413", "503"]),
    );
    const fetchParams = doc.paths["/v1/topics/{topic}/partitions/{partition}/records"].get.parameters;
    expect(fetchParams.find((p: { name: string }) => p.name === "offset")).toMatchObject({
      in: "query",
      required: true,
    });
    expect(fetchParams.find((p: { name: string }) => p.name === "maxWaitMs")).toMatchObject({
      required: false,
    });
  });

  it("answers unknown routes with 404 ROUTE_NOT_FOUND and wrong methods with 405 and Allow", async () => {
    const unknown = await s.call("GET", "/v2/nothing");
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe("ROUTE_NOT_FOUND");
    const wrong = await s.call("PUT", "/v1/topics");
    expect(wrong.status).toBe(405);
    expect(wrong.body.error.code).toBe("METHOD_NOT_ALLOWED");
    expect(wrong.headers.get("allow")).toBe("POST, GET");
  });

  it("never answers with a stack trace", async () => {
    const responses = await Promise.all([
      s.raw("POST", "/v1/topics", "{", { "content-type": "application/json" }),
      s.call("GET", "/v1/topics/%E0%A4%A"),
      s.call("POST", "/v1/topics", { name: 5 }),
    ]);
    for (const res of responses) {
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      expect(Object.keys(res.body)).toEqual(["error"]);
      expect(JSON.stringify(res.body)).not.toMatch(/\bat .*\.(ts|js):\d+/);
    }
  });
});
