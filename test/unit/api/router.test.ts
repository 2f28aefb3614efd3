import { describe, expect, it } from "vitest";
import { jsonResponse } from "../../../src/api/json-response.js";
import { defineRoute } from "../../../src/api/route.js";
import { Router } from "../../../src/api/router.js";
import { FloeError } from "../../../src/errors.js";

const route = (method: "GET" | "POST" | "PATCH" | "DELETE", path: string) =>
  defineRoute({
    method,
    path,
    group: "admin",
    operationId: `${method}${path}`,
    summary: "",
    responses: {},
    errors: [],
    handle: async () => jsonResponse(200, {}),
  });

describe("Router", () => {
  const router = new Router([
    route("GET", "/v1/topics"),
    route("POST", "/v1/topics"),
    route("GET", "/v1/topics/{topic}"),
    route("GET", "/v1/topics/{topic}/partitions/{partition}/records"),
  ]);

  it("matches templates one segment per parameter, percent-decoded", () => {
    const match = router.match("GET", "/v1/topics/my.topic%2Dx/partitions/3/records");
    expect(match.kind).toBe("found");
    if (match.kind === "found") {
      expect(match.route.path).toBe("/v1/topics/{topic}/partitions/{partition}/records");
      expect(match.pathParameters).toEqual({ topic: "my.topic-x", partition: "3" });
    }
  });

  it("forgives a trailing slash", () => {
    expect(router.match("GET", "/v1/topics/").kind).toBe("found");
  });

  it("never lets a parameter swallow several segments or be empty", () => {
    expect(router.match("GET", "/v1/topics/a/b").kind).toBe("not-found");
    expect(router.match("GET", "/v1/topics//partitions/0/records").kind).toBe("not-found");
  });

  it("tells a wrong method (with the allowed ones) from an unknown path", () => {
    expect(router.match("DELETE", "/v1/topics")).toEqual({ kind: "wrong-method", allowed: ["GET", "POST"] });
    expect(router.match("GET", "/v1/nothing")).toEqual({ kind: "not-found" });
  });

  it("refuses malformed percent-encoding as INVALID_REQUEST", () => {
    expect(() => router.match("GET", "/v1/topics/%E0%A4%A")).toThrow(FloeError);
  });

  it("finds a route by its API Gateway route key", () => {
    expect(router.byRouteKey("GET /v1/topics/{topic}")?.path).toBe("/v1/topics/{topic}");
    expect(router.byRouteKey("PUT /v1/topics")).toBeUndefined();
  });
});
