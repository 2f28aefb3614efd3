import type { Logger } from "@aws-lambda-powertools/logger";
import type { MiddlewareObj } from "@middy/core";
import { errorResponse, toPublicError } from "../error-response.js";
import { loggableError } from "../loggable-error.js";
import { RoutingError } from "../router.js";
import type { ApiEvent } from "./api-event.js";

/**
 * Turns any error into the JSON error body. Server faults are logged with their cause and stack;
 * the body carries only the public code and message, never a stack trace.
 */
export function errorHandler(logger: Logger): MiddlewareObj<ApiEvent> {
  return {
    onError: async (request) => {
      if (request.response !== undefined && request.response !== null) return;
      const original = request.error;
      const error = toPublicError(original);
      if (error.fault === "server") {
        logger.error("request failed", {
          requestId: request.event.requestContext?.requestId,
          route: request.event.routeKey,
          code: error.code,
          error: loggableError(original),
        });
      }
      request.response = errorResponse(error, original instanceof RoutingError ? original.headers : {});
    },
  };
}
