import type { MiddlewareObj } from "@middy/core";
import { FloeError } from "../../errors.js";
import type { Router } from "../router.js";
import { attachedRawBody } from "../raw-body.js";
import type { ApiEvent } from "./api-event.js";

const JSON_MEDIA_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

/**
 * Parses the JSON body of routes that take one. Unlike @middy/http-json-body-parser, malformed JSON
 * is the client's 400 INVALID_REQUEST (not 415), a missing body is 400, and routes without a body
 * ignore the content type. A body in another media type is 415 UNSUPPORTED_MEDIA_TYPE.
 */
export function jsonBody(router: Router): MiddlewareObj<ApiEvent> {
  return {
    before: async (request) => {
      const event = request.event;
      const route = router.byRouteKey(event.routeKey);
      if (!route?.body) return;
      const attached = attachedRawBody(event);
      const raw = attached || typeof event.body !== "string" ? "" : event.body;
      const text = attached
        ? Buffer.from(attached.buffer, attached.byteOffset, attached.byteLength).toString("utf8")
        : event.isBase64Encoded
          ? Buffer.from(raw, "base64").toString("utf8")
          : raw;
      if (text.trim() === "") {
        throw new FloeError("INVALID_REQUEST", `${event.routeKey} needs a JSON request body.`);
      }
      const contentType = event.headers?.["content-type"] ?? "";
      if (!JSON_MEDIA_TYPE.test(contentType)) {
        throw new FloeError(
          "UNSUPPORTED_MEDIA_TYPE",
          `The request body must be JSON with Content-Type: application/json; got ${contentType ? `'${contentType}'` : "no Content-Type"}.`,
        );
      }
      try {
        event.body = JSON.parse(text);
      } catch (e) {
        throw new FloeError("INVALID_REQUEST", `Malformed JSON in the request body: ${(e as Error).message}`);
      }
      event.isBase64Encoded = false;
    },
  };
}
