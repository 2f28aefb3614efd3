import { describe, expect, it } from "vitest";
import { attachedRawBody, withRawBody } from "../../../src/api/raw-body.js";

describe("withRawBody (bytes beside the API Gateway shape)", () => {
  const bytes = new Uint8Array([0, 1, 2, 250, 255]);

  it("keeps the bytes themselves for the front door that attached them", () => {
    const result = withRawBody({ statusCode: 200 }, bytes);
    expect(attachedRawBody(result)).toBe(bytes);
    expect(attachedRawBody({ statusCode: 200 })).toBeUndefined();
  });

  it("serialises exactly as a base64 API Gateway body would, for a Lambda runtime", () => {
    const result = withRawBody({ statusCode: 200 }, bytes);
    expect(JSON.parse(JSON.stringify(result))).toEqual({
      statusCode: 200,
      body: Buffer.from(bytes).toString("base64"),
      isBase64Encoded: true,
    });
  });

  it("lets a body parser replace the body with its parse", () => {
    const event: { body?: unknown } = withRawBody({}, new TextEncoder().encode('{"a":1}'));
    event.body = { a: 1 };
    expect(event.body).toEqual({ a: 1 });
  });
});
