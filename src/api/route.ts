import type { Logger } from "@aws-lambda-powertools/logger";
import type { z } from "zod";
import type { Broker } from "../broker/broker.js";
import type { GroupCoordinator } from "../groups/coordinator.js";
import type { AppendRequest } from "../broker/append.js";
import type { RecordOffset } from "../broker/types.js";
import type { KafkaErrorCode } from "../errors.js";
import type { ApiResult } from "./json-response.js";

export type HttpMethod = "GET" | "POST" | "PATCH" | "DELETE";

/** Which Lambda function serves a route; `common` routes (health, OpenAPI) are served by every one. */
export type RouteGroup = "produce" | "fetch" | "admin" | "groups" | "common";

/** What a route handler works with, its inputs already validated. */
export interface RouteContext<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  broker: Broker;
  produce: (request: AppendRequest) => Promise<RecordOffset[]>;
  groups: GroupCoordinator;
  /** Request headers, names lower-cased. */
  headers: Record<string, string | undefined>;
  /** Aborted when the caller went away (the dev server's connection closed): a long-poll stops waiting. */
  signal?: AbortSignal;
  /** The body as bytes, for routes without a JSON body (the binary fast path); undefined when empty. */
  rawBody: () => Uint8Array | undefined;
  logger: Logger;
  /** Every route this handler serves, for the OpenAPI document. */
  routes: readonly Route[];
}

export type InputPart = "params" | "query" | "body";

export interface RouteResponse {
  description: string;
  schema?: z.ZodType;
  /** A non-JSON representation the route also answers with, chosen by the Accept header. */
  binary?: { mediaType: string; description: string };
}

export interface RouteDefinition<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType> {
  method: HttpMethod;
  /** API Gateway's template syntax: `/v1/topics/{topic}`. */
  path: string;
  group: RouteGroup;
  operationId: string;
  summary: string;
  description?: string;
  params?: P;
  query?: Q;
  /** The documented body; presence makes the route a JSON-body route (415 on other media types). */
  body?: B;
  /** A non-JSON request body the route reads itself through `rawBody` (the binary fast path). */
  binaryBody?: { mediaType: string; description: string };
  /** The body schema to validate with, when it depends on the query (e.g. the record encoding). */
  bodyFor?: (query: z.output<Q>) => z.ZodType<z.output<B>>;
  /** The Kafka error code of a validation failure at `path` of `part`; INVALID_REQUEST when absent. */
  codeFor?: (part: InputPart, path: readonly PropertyKey[]) => KafkaErrorCode | undefined;
  responses: Record<number, RouteResponse>;
  /** Error codes this route answers with, for the OpenAPI document. */
  errors: KafkaErrorCode[];
  handle(context: RouteContext<z.output<P>, z.output<Q>, z.output<B>>): Promise<ApiResult>;
}

/** A route with its schema types erased, as the router holds them. */
export type Route = RouteDefinition<z.ZodType, z.ZodType, z.ZodType>;

export function defineRoute<
  P extends z.ZodType = z.ZodUndefined,
  Q extends z.ZodType = z.ZodUndefined,
  B extends z.ZodType = z.ZodUndefined,
>(definition: RouteDefinition<P, Q, B>): Route {
  return definition as unknown as Route;
}

/** API Gateway's route key: what the router matched, as HTTP API events carry it. */
export function routeKey(route: Pick<Route, "method" | "path">): string {
  return `${route.method} ${route.path}`;
}
