import type { APIGatewayProxyEventV2 } from "aws-lambda";

/** An HTTP API (v2) event as it moves through the chain: json-body replaces the body with the parsed JSON, as middy's body parsers do. */
export type ApiEvent = Omit<APIGatewayProxyEventV2, "body"> & { body?: unknown };

/** Lower-cased header lookup; http-header-normalizer has lower-cased them already. */
export function header(event: ApiEvent, name: string): string | undefined {
  return event.headers?.[name];
}
