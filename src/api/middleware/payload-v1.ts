import type { MiddlewareObj } from "@middy/core";
import type { APIGatewayProxyEvent } from "aws-lambda";
import type { ApiEvent } from "./api-event.js";

/**
 * API Gateway REST APIs (v1) and some emulators deliver Lambda payload format 1.0 (`path`,
 * `httpMethod`, multi-value maps) where the HTTP API delivers 2.0 (`rawPath`,
 * `requestContext.http`). The rest of the chain reads only 2.0, so a 1.0 event is rewritten in
 * place first. The 2.0-shaped result (statusCode, headers, body, isBase64Encoded) is valid 1.0 too.
 */
export function payloadV1(): MiddlewareObj<ApiEvent> {
  return {
    before: async (request) => {
      const event = request.event as ApiEvent & Partial<APIGatewayProxyEvent>;
      if (event.requestContext?.http || typeof event.httpMethod !== "string") return;
      const query = new URLSearchParams();
      const multi = event.multiValueQueryStringParameters ?? {};
      for (const [name, values] of Object.entries(multi)) for (const v of values ?? []) query.append(name, v);
      if (Object.keys(multi).length === 0) {
        for (const [name, v] of Object.entries(event.queryStringParameters ?? {})) {
          if (v !== undefined) query.append(name, v);
        }
      }
      const headers: Record<string, string> = {};
      for (const [name, v] of Object.entries(event.headers ?? {})) if (v !== undefined) headers[name] = v;
      for (const [name, values] of Object.entries(event.multiValueHeaders ?? {})) {
        if (values && values.length > 1) headers[name] = values.join(",");
      }
      const v1Context = (event.requestContext ?? {}) as unknown as Record<string, unknown>;
      Object.assign(event, {
        version: "2.0",
        rawPath: event.path ?? "/",
        rawQueryString: query.toString(),
        headers,
        requestContext: {
          ...v1Context,
          // REST's `path` excludes the stage already.
          stage: "$default",
          http: { method: event.httpMethod.toUpperCase(), path: event.path ?? "/" },
        },
      });
    },
  };
}
