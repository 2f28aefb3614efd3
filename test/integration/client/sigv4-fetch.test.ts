import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import aws4 from "aws4";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sigv4Fetch, sigv4TargetOf } from "../../../src/client/sigv4-fetch.js";

const credentials = {
  accessKeyId: "AKIDEXAMPLE",
  secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
};

/** Re-signs what arrived with an independent SigV4 implementation (aws4) and compares. */
function expectedAuthorization(req: IncomingMessage, body: Buffer, service: string, region: string): string {
  const url = new URL(req.url ?? "/", `http://${req.headers.host}`);
  const signedNames = /SignedHeaders=([^,]+)/.exec(String(req.headers.authorization))![1].split(";");
  const headers: Record<string, string> = {};
  for (const name of signedNames) headers[name] = String(req.headers[name]);
  const signer = new aws4.RequestSigner(
    {
      host: url.host,
      method: req.method,
      path: url.pathname + url.search,
      service,
      region,
      headers,
      body: body.length > 0 ? body : undefined,
    },
    credentials,
  ) as aws4.RequestSigner & {
    request: { headers: Record<string, string> };
    prepareRequest(): void;
    authHeader(): string;
  };
  signer.prepareRequest();
  // aws4 adds Content-Length to what it signs; SigV4 does not require it and fetch sets it later.
  if (!signedNames.includes("content-length")) delete signer.request.headers["Content-Length"];
  return signer.authHeader();
}

describe("SigV4 request signing (CLI --aws-sigv4)", () => {
  let url: string;
  const seen: { authorization: string; expected: string; body: string }[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      seen.push({
        authorization: String(req.headers.authorization),
        expected: expectedAuthorization(req, body, "execute-api", "eu-west-1"),
        body: body.toString(),
      });
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("signs GETs with a query and POSTs with a body exactly as an independent implementation does", async () => {
    const signed = sigv4Fetch({ service: "execute-api", region: "eu-west-1" }, { credentials });
    await signed(`${url}/v1/topics/orders/partitions/0/records?offset=5&maxRecords=10`, { method: "GET" });
    await signed(`${url}/v1/topics/orders/records`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ records: [{ value: "hé" }] }),
    });
    expect(seen).toHaveLength(2);
    for (const s of seen) {
      expect(s.authorization).toMatch(
        /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/execute-api\/aws4_request/,
      );
      expect({ a: s.authorization.split(", ") }).toEqual({ a: s.expected.split(", ") });
    }
    expect(JSON.parse(seen[1].body)).toEqual({ records: [{ value: "hé" }] });
  });

  it("recognises deployed URLs and their regions", () => {
    expect(sigv4TargetOf("https://abc123.execute-api.eu-central-1.amazonaws.com/")).toEqual({
      service: "execute-api",
      region: "eu-central-1",
    });
    expect(sigv4TargetOf("https://xyz.lambda-url.us-west-2.on.aws/v1/topics")).toEqual({
      service: "lambda",
      region: "us-west-2",
    });
    expect(sigv4TargetOf("http://127.0.0.1:8092")).toBeUndefined();
    expect(sigv4TargetOf("http://127.0.0.1:8092", "ap-south-1")).toEqual({
      service: "execute-api",
      region: "ap-south-1",
    });
  });
});
