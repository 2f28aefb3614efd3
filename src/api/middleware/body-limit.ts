import type { MiddlewareObj } from "@middy/core";
import { FloeError } from "../../errors.js";
import { attachedRawBody } from "../raw-body.js";
import type { ApiEvent } from "./api-event.js";

/** The body's size in bytes, without decoding it. */
function bodyBytes(event: ApiEvent): number {
  const attached = attachedRawBody(event);
  if (attached) return attached.byteLength;
  const body = event.body;
  if (typeof body !== "string") return 0;
  if (!event.isBase64Encoded) return Buffer.byteLength(body, "utf8");
  const padding = body.endsWith("==") ? 2 : body.endsWith("=") ? 1 : 0;
  return Math.floor((body.length * 3) / 4) - padding;
}

/**
 * Refuses bodies over the limit with 413 MESSAGE_TOO_LARGE (Kafka's name for a request over the
 * broker's size limit) before anything parses them. Lambda enforces 6 MB itself; this gives the dev
 * server the same limit and a Floe error body instead of a gateway's.
 */
export function bodyLimit(maxBytes: number): MiddlewareObj<ApiEvent> {
  return {
    before: async (request) => {
      const declared = Number(request.event.headers?.["content-length"]);
      const size = Math.max(bodyBytes(request.event), Number.isFinite(declared) ? declared : 0);
      if (size > maxBytes) {
        throw new FloeError(
          "MESSAGE_TOO_LARGE",
          `The request body is ${size} bytes; the limit is ${maxBytes} bytes (Lambda's 6 MB payload). Send fewer records per request.`,
        );
      }
    },
  };
}
