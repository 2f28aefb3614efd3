import type { MiddlewareObj } from "@middy/core";
import type { Router } from "../router.js";
import { RoutingError } from "../router.js";
import type { ApiEvent } from "./api-event.js";

/** rawPath carries the stage name first when the API is deployed to a named stage. */
function pathWithinStage(event: ApiEvent): string {
  const path = event.rawPath || "/";
  const stage = event.requestContext?.stage;
  if (stage && stage !== "$default" && path.startsWith(`/${stage}/`)) return path.slice(stage.length + 1);
  return path;
}

/**
 * Matches the request to a route and records it the way API Gateway does (`routeKey`,
 * `pathParameters`), whatever route API Gateway itself matched (`$default`, `/{proxy+}`…).
 * Unknown paths are 404 ROUTE_NOT_FOUND; known paths with another method 405 with Allow.
 */
export function routeResolver(router: Router): MiddlewareObj<ApiEvent> {
  return {
    before: async (request) => {
      const event = request.event;
      const method = event.requestContext?.http?.method?.toUpperCase() ?? "GET";
      const path = pathWithinStage(event);
      const match = router.match(method, path);
      if (match.kind === "not-found") {
        throw new RoutingError("ROUTE_NOT_FOUND", `No route for ${method} ${path}.`);
      }
      if (match.kind === "wrong-method") {
        const allow = match.allowed.join(", ");
        throw new RoutingError(
          "METHOD_NOT_ALLOWED",
          `${method} is not allowed on ${path}; allowed: ${allow}.`,
          {
            allow,
          },
        );
      }
      event.routeKey = `${match.route.method} ${match.route.path}`;
      event.pathParameters = match.pathParameters;
    },
  };
}
