/**
 * Invoking a Lambda entry point as API Gateway (HTTP API, payload v2) does: the event it sends,
 * a context with time to spare (so middy's early timeout is armed as in production), and the
 * answer with its JSON body parsed.
 */
import { randomUUID } from "node:crypto";
import type { APIGatewayProxyEventV2, Context } from "aws-lambda";
import type { ApiHandler } from "../../src/api/api-handler.js";

export function apiGatewayEvent(
  method: string,
  path: string,
  options: {
    /** A JSON body. */
    body?: unknown;
    /** Raw bytes (a binary media type): API Gateway hands them to Lambda base64-encoded. */
    rawBody?: Buffer;
    query?: string;
    headers?: Record<string, string>;
    /** Send the JSON body base64-encoded too, as API Gateway may. */
    base64?: boolean;
  } = {},
): APIGatewayProxyEventV2 {
  const text = options.body === undefined ? undefined : JSON.stringify(options.body);
  const body = options.rawBody
    ? options.rawBody.toString("base64")
    : text !== undefined && options.base64
      ? Buffer.from(text).toString("base64")
      : text;
  const now = Date.now();
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath: path,
    rawQueryString: options.query ?? "",
    queryStringParameters: options.query ? Object.fromEntries(new URLSearchParams(options.query)) : undefined,
    // API Gateway sends header names as the client wrote them; the chain normalises them.
    headers: {
      Host: "abc123.execute-api.us-east-1.amazonaws.com",
      ...(text ? { "Content-Type": "application/json" } : {}),
      ...options.headers,
    },
    body,
    isBase64Encoded: options.rawBody !== undefined || (text !== undefined && options.base64 === true),
    requestContext: {
      accountId: "123456789012",
      apiId: "abc123",
      domainName: "abc123.execute-api.us-east-1.amazonaws.com",
      domainPrefix: "abc123",
      http: { method, path, protocol: "HTTP/1.1", sourceIp: "203.0.113.7", userAgent: "vitest" },
      requestId: randomUUID(),
      routeKey: "$default",
      stage: "$default",
      time: new Date(now).toISOString(),
      timeEpoch: now,
    },
  };
}

export function lambdaContext(remainingMs = 29_000): Context {
  const end = Date.now() + remainingMs;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: "floe-test",
    functionVersion: "$LATEST",
    invokedFunctionArn: "arn:aws:lambda:us-east-1:123456789012:function:floe-test",
    memoryLimitInMB: "1024",
    awsRequestId: randomUUID(),
    logGroupName: "/aws/lambda/floe-test",
    logStreamName: "stream",
    getRemainingTimeInMillis: () => Math.max(0, end - Date.now()),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

// biome-ignore lint/suspicious/noExplicitAny: a test reads whatever JSON the function answered
type JsonBody = any;

export async function invoke(
  handler: ApiHandler,
  event: APIGatewayProxyEventV2,
): Promise<{ status: number; headers: Record<string, string | number | boolean>; body: JsonBody }> {
  const result = await handler(event, lambdaContext());
  return {
    status: result.statusCode ?? 200,
    headers: result.headers ?? {},
    body: result.body ? JSON.parse(result.body) : undefined,
  };
}
