import type { Logger } from "@aws-lambda-powertools/logger";
import type { MiddlewareObj } from "@middy/core";
import type { ApiEvent } from "./api-event.js";

/** One structured line per request: the access log. */
export function requestLog(logger: Logger): MiddlewareObj<ApiEvent> {
  const started = new WeakMap<object, number>();
  const log = async (request: { event: ApiEvent; response: unknown }) => {
    const event = request.event;
    const status = (request.response as { statusCode?: number } | null | undefined)?.statusCode;
    const begun = started.get(event);
    logger.info("request", {
      requestId: event.requestContext?.requestId,
      method: event.requestContext?.http?.method,
      path: event.rawPath,
      route: event.routeKey,
      status,
      durationMs: begun === undefined ? undefined : Date.now() - begun,
    });
  };
  return {
    before: async (request) => {
      started.set(request.event, Date.now());
    },
    after: log,
    onError: log,
  };
}
