import type { APIGatewayProxyStructuredResultV2 } from "aws-lambda";

export type ApiResult = APIGatewayProxyStructuredResultV2 & { statusCode: number };

export const JSON_CONTENT_TYPE = "application/json; charset=utf-8";

export function jsonResponse(
  statusCode: number,
  body: unknown,
  headers: Record<string, string> = {},
): ApiResult {
  return {
    statusCode,
    headers: { "content-type": JSON_CONTENT_TYPE, ...headers },
    body: JSON.stringify(body),
  };
}

/** A JSON answer whose text the route built itself (a fetch splices stored JSON values into it). */
export function jsonTextResponse(
  statusCode: number,
  text: string,
  headers: Record<string, string> = {},
): ApiResult {
  return { statusCode, headers: { "content-type": JSON_CONTENT_TYPE, ...headers }, body: text };
}

export function emptyResponse(statusCode: number, headers: Record<string, string> = {}): ApiResult {
  return { statusCode, headers, body: "" };
}
