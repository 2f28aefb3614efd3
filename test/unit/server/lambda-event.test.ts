import { IncomingMessage } from "node:http";
import { Socket } from "node:net";
import { describe, expect, it } from "vitest";
import { toLambdaEvent } from "../../../src/server/lambda-event.js";

function request(method: string, url: string, headers: Record<string, string | string[]>): IncomingMessage {
  const req = new IncomingMessage(new Socket());
  req.method = method;
  req.url = url;
  req.headers = headers;
  req.httpVersion = "1.1";
  return req;
}

describe("toLambdaEvent (API Gateway HTTP API payload v2, as sam local builds it)", () => {
  it("carries path, raw and parsed query, headers and method", () => {
    const event = toLambdaEvent(
      request("GET", "/v1/topics/a%2Eb/partitions/0/records?offset=3&encoding=json&x=1&x=2", {
        host: "127.0.0.1:8092",
        "user-agent": "curl/8",
        "x-multi": ["a", "b"],
      }),
      undefined,
    );
    expect(event).toMatchObject({
      version: "2.0",
      routeKey: "$default",
      rawPath: "/v1/topics/a%2Eb/partitions/0/records",
      rawQueryString: "offset=3&encoding=json&x=1&x=2",
      queryStringParameters: { offset: "3", encoding: "json", x: "1,2" },
      headers: { host: "127.0.0.1:8092", "user-agent": "curl/8", "x-multi": "a,b" },
      isBase64Encoded: false,
      requestContext: {
        http: { method: "GET", path: "/v1/topics/a%2Eb/partitions/0/records", userAgent: "curl/8" },
        stage: "$default",
      },
    });
    expect(event.body).toBeUndefined();
    expect(event.requestContext.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("passes JSON and text bodies as text, anything else base64-encoded", () => {
    const text = toLambdaEvent(
      request("POST", "/v1/fetch", { "content-type": "application/json" }),
      Buffer.from('{"a":"é"}'),
    );
    expect(text).toMatchObject({ body: '{"a":"é"}', isBase64Encoded: false });
    const binary = toLambdaEvent(
      request("POST", "/v1/fetch", { "content-type": "application/octet-stream" }),
      Buffer.from([0xff, 0x00]),
    );
    expect(binary).toMatchObject({ body: "/wA=", isBase64Encoded: true });
  });

  it("moves cookies out of the headers, as HTTP API does", () => {
    const event = toLambdaEvent(request("GET", "/v1/health", { cookie: "a=1; b=2" }), undefined);
    expect(event.cookies).toEqual(["a=1", "b=2"]);
    expect(event.headers.cookie).toBeUndefined();
  });
});
