import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { attachedRawBody, withRawBody, withSourceBytes } from "../api/raw-body.js";

/** Media types API Gateway passes as text; any other body arrives base64-encoded. */
const TEXT_MEDIA_TYPE =
  /^(?:text\/|application\/(?:[\w.+-]+\+)?(?:json|xml)|application\/(?:javascript|x-www-form-urlencoded|x-ndjson))/i;

/**
 * The API Gateway HTTP API (payload v2) event for a request, built as `sam local` builds it, so the
 * dev server runs the same handler chain a Lambda function does.
 */
export function toLambdaEvent(req: IncomingMessage, body: Buffer | undefined): APIGatewayProxyEventV2 {
  const url = req.url ?? "/";
  const queryAt = url.indexOf("?");
  const rawPath = queryAt < 0 ? url : url.slice(0, queryAt);
  const rawQueryString = queryAt < 0 ? "" : url.slice(queryAt + 1).split("#")[0];

  const headers: Record<string, string> = {};
  let cookies: string[] | undefined;
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    // HTTP API moves cookies out of the headers into their own list.
    if (name === "cookie")
      cookies = (Array.isArray(value) ? value.join("; ") : value).split(/;\s*/).filter(Boolean);
    else headers[name] = Array.isArray(value) ? value.join(",") : value;
  }

  let queryStringParameters: Record<string, string> | undefined;
  for (const [name, value] of new URLSearchParams(rawQueryString)) {
    queryStringParameters ??= {};
    // HTTP API joins repeated parameters with commas.
    queryStringParameters[name] =
      name in queryStringParameters ? `${queryStringParameters[name]},${value}` : value;
  }

  const isText = body !== undefined && TEXT_MEDIA_TYPE.test(headers["content-type"] ?? "");
  const now = new Date();
  const host = headers.host ?? "localhost";
  const event: APIGatewayProxyEventV2 = {
    version: "2.0",
    routeKey: "$default",
    rawPath,
    rawQueryString,
    cookies,
    headers,
    queryStringParameters,
    // Set below from the bytes, made only if something reads it.
    body: undefined,
    isBase64Encoded: false,
    requestContext: {
      accountId: "anonymous",
      apiId: "floe-dev",
      domainName: host,
      domainPrefix: host.split(".")[0],
      http: {
        method: req.method ?? "GET",
        path: rawPath,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress ?? "127.0.0.1",
        userAgent: headers["user-agent"] ?? "",
      },
      requestId: randomUUID(),
      routeKey: "$default",
      stage: "$default",
      time: now.toISOString(),
      timeEpoch: now.getTime(),
    },
  };
  // A binary body keeps its bytes: the handler reads them as they are, and base64 (as API Gateway
  // would send them) is only made if something asks for the text. A text body keeps its bytes too,
  // so bytes that are not UTF-8 are refused rather than read as U+FFFD, and its text is likewise
  // decoded only if something reads it (json-body reads the bytes).
  if (body === undefined || body.length === 0) return event;
  return isText ? withSourceBytes(event, body) : withRawBody(event, body);
}

/** Writes a Lambda structured result as the HTTP response, as API Gateway would. */
export function writeLambdaResult(res: ServerResponse, result: APIGatewayProxyStructuredResultV2): void {
  const raw = attachedRawBody(result);
  const body = raw
    ? raw
    : result.body === undefined
      ? Buffer.alloc(0)
      : result.isBase64Encoded
        ? Buffer.from(result.body, "base64")
        : Buffer.from(result.body, "utf8");
  res.statusCode = result.statusCode ?? 200;
  for (const [name, value] of Object.entries(result.headers ?? {})) res.setHeader(name, String(value));
  if (result.cookies?.length) res.setHeader("set-cookie", result.cookies);
  res.setHeader("content-length", body.length);
  res.end(body);
}
