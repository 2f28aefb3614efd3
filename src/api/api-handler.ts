import { Logger } from "@aws-lambda-powertools/logger";
import middy from "@middy/core";
import httpHeaderNormalizer from "@middy/http-header-normalizer";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from "aws-lambda";
import type { z } from "zod";
import type { Broker } from "../broker/broker.js";
import type { AppendRequest } from "../broker/append.js";
import type { RecordOffset } from "../broker/types.js";
import { GroupCoordinator } from "../groups/coordinator.js";
import type { ApiResult } from "./json-response.js";
import type { ApiEvent } from "./middleware/api-event.js";
import { bodyLimit } from "./middleware/body-limit.js";
import { errorHandler } from "./middleware/error-handler.js";
import { jsonBody } from "./middleware/json-body.js";
import { payloadV1 } from "./middleware/payload-v1.js";
import { requestLog } from "./middleware/request-log.js";
import { routeResolver } from "./middleware/route-resolver.js";
import type { InputPart, Route, RouteContext, RouteGroup } from "./route.js";
import { apiRoutes } from "./route-table.js";
import { Router } from "./router.js";
import { MAX_BODY_BYTES } from "./schemas.js";
import { attachedRawBody } from "./raw-body.js";
import { parseWith } from "./validate.js";

export interface ApiDeps {
  broker: Broker;
  /** Default broker.produce (one request, one object); the dev server injects its group committer. */
  produce?: (request: AppendRequest) => Promise<RecordOffset[]>;
  /** Default: a coordinator with Kafka's group defaults over the broker's MetaStore. */
  groups?: GroupCoordinator;
  logger?: Logger;
  /** Which routes this handler serves: one Lambda function per group, or all of them (`floe dev`). */
  routes?: "all" | Exclude<RouteGroup, "common">;
}

/**
 * What a front door knows of its caller beyond the event: when the caller stops waiting. A produce
 * past this point is abandoned before its commit (decision 0008), so an answer of "timed out" is
 * never followed by a late append.
 */
export interface CallerScope {
  /** Aborted when the caller went away (the dev server's HTTP connection closed). */
  signal?: AbortSignal;
  /** Milliseconds since the epoch after which nobody waits for the answer. */
  deadline?: number;
}

export type ApiHandler = (
  event: APIGatewayProxyEventV2,
  context?: Context,
  caller?: CallerScope,
) => Promise<APIGatewayProxyStructuredResultV2>;

/**
 * How long before a Lambda invocation's end an append gives up: enough for one commit attempt to
 * come back and the answer to be written, so the function never times out mid-commit.
 */
export const LAMBDA_DEADLINE_MARGIN_MS = 2_000;

function callerScope(context: Partial<Context>, caller: CallerScope | undefined): CallerScope {
  const remaining =
    typeof context.getRemainingTimeInMillis === "function" ? context.getRemainingTimeInMillis() : undefined;
  const lambdaDeadline =
    remaining === undefined ? undefined : Date.now() + Math.max(0, remaining - LAMBDA_DEADLINE_MARGIN_MS);
  const deadline = Math.min(
    caller?.deadline ?? Number.POSITIVE_INFINITY,
    lambdaDeadline ?? Number.POSITIVE_INFINITY,
  );
  return { signal: caller?.signal, deadline: Number.isFinite(deadline) ? deadline : undefined };
}

function servedRoutes(which: ApiDeps["routes"]): Route[] {
  return apiRoutes.filter(
    (r) => which === undefined || which === "all" || r.group === which || r.group === "common",
  );
}

/** The query string as one value per name; API Gateway's joined repeats are not wanted here. */
function queryOf(event: ApiEvent): Record<string, string> {
  if (event.rawQueryString !== undefined)
    return Object.fromEntries(new URLSearchParams(event.rawQueryString));
  return { ...(event.queryStringParameters as Record<string, string> | undefined) };
}

/** A body json-body left alone (routes without a JSON body), as bytes; API Gateway base64-encodes binary media types. */
function rawBody(event: ApiEvent): Uint8Array | undefined {
  const attached = attachedRawBody(event);
  if (attached) return attached;
  if (typeof event.body !== "string" || event.body.length === 0) return undefined;
  return event.isBase64Encoded ? Buffer.from(event.body, "base64") : Buffer.from(event.body, "utf8");
}

/**
 * The HTTP API as one Lambda-shaped handler (API Gateway HTTP API v2 events in, structured results
 * out): a middy chain of small single-purpose middlewares around a router. Lambda functions and the
 * dev server both run exactly this.
 */
export function createApiHandler(deps: ApiDeps): ApiHandler {
  const logger = deps.logger ?? new Logger({ serviceName: "floe" });
  const router = new Router(servedRoutes(deps.routes));
  const base = {
    broker: deps.broker,
    produce: deps.produce ?? ((request: AppendRequest) => deps.broker.produce(request)),
    groups: deps.groups ?? new GroupCoordinator({ meta: deps.broker.meta, broker: deps.broker }),
    logger,
    routes: apiRoutes,
  };

  // The middy chain passes the invocation's context object through unchanged: the caller's scope rides on it.
  const scopes = new WeakMap<object, CallerScope>();
  const dispatch = async (event: ApiEvent, context: Context): Promise<ApiResult> => {
    const scope = scopes.get(context) ?? {};
    const route = router.byRouteKey(event.routeKey);
    // routeResolver has matched already; reaching here without a route is a wiring bug.
    if (!route) throw new Error(`no route for resolved key ${event.routeKey}`);
    const codeFor = (part: InputPart) => (path: readonly PropertyKey[]) =>
      route.codeFor?.(part, path) ?? "INVALID_REQUEST";
    const parse = (schema: z.ZodType | undefined, input: unknown, part: InputPart) =>
      schema
        ? parseWith(
            schema,
            input,
            codeFor(part),
            part === "query" ? "query" : part === "params" ? "path" : "body",
          )
        : undefined;
    const params = parse(route.params, event.pathParameters ?? {}, "params");
    const query = parse(route.query, queryOf(event), "query");
    const bodySchema = route.bodyFor ? route.bodyFor(query) : route.body;
    // Read only for a route with a JSON body: a binary body's text would be made just to be dropped.
    const body = bodySchema ? parse(bodySchema, event.body, "body") : undefined;
    const routeContext: RouteContext<unknown, unknown, unknown> = {
      ...base,
      produce: (request) => base.produce({ ...request, signal: scope.signal, deadline: scope.deadline }),
      params,
      query,
      body,
      headers: event.headers ?? {},
      signal: scope.signal,
      rawBody: () => rawBody(event),
    };
    return route.handle(routeContext);
  };

  const chain = middy<ApiEvent, ApiResult>()
    .use(payloadV1())
    .use(httpHeaderNormalizer())
    .use(requestLog(logger))
    .use(errorHandler(logger))
    .use(bodyLimit(MAX_BODY_BYTES))
    .use(routeResolver(router))
    .use(jsonBody(router))
    .handler(dispatch);

  return (event, context, caller) => {
    const invocation = context ?? ({} as Context);
    scopes.set(invocation, callerScope(invocation, caller));
    return chain(event as ApiEvent, invocation);
  };
}
