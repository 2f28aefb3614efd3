import type { MiddlewareObj } from "@middy/core";
import { FloeError, type KafkaErrorCode } from "../../errors.js";
import { JsonTextError, type JsonPath, type JsonProblemKind, scanProduceBody } from "../json-text.js";
import { attachedRawBody } from "../raw-body.js";
import { SourceJson } from "../record-encoding.js";
import type { Route } from "../route.js";
import type { Router } from "../router.js";
import type { ApiEvent } from "./api-event.js";

const JSON_MEDIA_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

const utf8 = new TextEncoder();
/** A UTF-16 surrogate without its other half (String.prototype.isWellFormed is ES2024, past this build's lib). */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const text = new TextDecoder("utf-8", { ignoreBOM: true });

function formatPath(path: JsonPath): string {
  let out = "";
  for (const p of path) out += typeof p === "number" ? `[${p}]` : out === "" ? p : `.${p}`;
  return out;
}

/** The body as the bytes the caller sent; a text body that is not valid Unicode is refused, not re-encoded. */
function bodyBytes(event: ApiEvent): Uint8Array {
  const attached = attachedRawBody(event);
  if (attached) return attached;
  const raw = typeof event.body === "string" ? event.body : "";
  if (event.isBase64Encoded) return Buffer.from(raw, "base64");
  // A text body API Gateway decoded: a lone surrogate would silently become U+FFFD in UTF-8.
  if (LONE_SURROGATE.test(raw))
    throw new JsonTextError("surrogate", 0, [], "the body holds a lone surrogate");
  return utf8.encode(raw);
}

const WHY: Record<JsonProblemKind, string> = {
  syntax: "Malformed JSON in the request body",
  utf8: "The request body is not valid UTF-8",
  surrogate: "The request body holds a lone surrogate, which no UTF-8 text can carry",
  depth: "The request body is nested too deep",
  headers: "Too many headers",
};

/** A scan failure as the route's Kafka code for the field it is in (INVALID_RECORD within a record). */
function refusal(e: JsonTextError, route: Route): FloeError {
  const code: KafkaErrorCode =
    e.kind === "syntax" ? "INVALID_REQUEST" : (route.codeFor?.("body", e.path) ?? "INVALID_REQUEST");
  const at = formatPath(e.path);
  return new FloeError(code, `${WHY[e.kind]}${at ? ` at ${at}` : ""}: ${e.message}. Nothing was stored.`);
}

/**
 * Puts a SourceJson (its exact bytes and its parse) in place of each records[i].value, so a JSON
 * value is stored as the text it was sent as (numbers never rounded).
 */
function keepSourceValues(
  body: unknown,
  bytes: Uint8Array,
  spans: ReturnType<typeof scanProduceBody>["recordValues"],
) {
  if (spans.length === 0 || body === null || typeof body !== "object") return;
  const records = (body as { records?: unknown }).records;
  if (!Array.isArray(records)) return;
  spans.forEach((span, i) => {
    const record = records[i] as Record<string, unknown> | undefined;
    if (
      span === undefined ||
      record === null ||
      typeof record !== "object" ||
      !Object.hasOwn(record, "value")
    )
      return;
    record.value = new SourceJson(bytes.slice(span.start, span.end), record.value);
  });
}

/**
 * Parses the JSON body of routes that take one. Unlike @middy/http-json-body-parser, malformed JSON
 * is the client's 400 INVALID_REQUEST (not 415), a missing body is 400, and routes without a body
 * ignore the content type. A body in another media type is 415 UNSUPPORTED_MEDIA_TYPE.
 *
 * The bytes are scanned first (json-text.ts): not UTF-8, a lone surrogate, nesting past
 * MAX_JSON_DEPTH or a record with more than MAX_HEADERS_PER_RECORD headers is refused with the
 * route's code for the field (INVALID_RECORD inside a produced record), never altered.
 */
export function jsonBody(router: Router): MiddlewareObj<ApiEvent> {
  return {
    before: async (request) => {
      const event = request.event;
      const route = router.byRouteKey(event.routeKey);
      if (!route?.body) return;
      let bytes: Uint8Array;
      try {
        bytes = bodyBytes(event);
      } catch (e) {
        if (e instanceof JsonTextError) throw refusal(e, route);
        throw e;
      }
      let blank = true;
      for (let i = 0; i < bytes.length && blank; i++) blank = bytes[i] <= 0x20;
      if (blank) throw new FloeError("INVALID_REQUEST", `${event.routeKey} needs a JSON request body.`);
      const contentType = event.headers?.["content-type"] ?? "";
      if (!JSON_MEDIA_TYPE.test(contentType)) {
        throw new FloeError(
          "UNSUPPORTED_MEDIA_TYPE",
          `The request body must be JSON with Content-Type: application/json; got ${contentType ? `'${contentType}'` : "no Content-Type"}.`,
        );
      }
      let scanned: ReturnType<typeof scanProduceBody>;
      try {
        scanned = scanProduceBody(bytes);
      } catch (e) {
        if (e instanceof JsonTextError) throw refusal(e, route);
        throw e;
      }
      // Checked to be JSON within MAX_JSON_DEPTH already: the parse cannot fail or run deep.
      const body: unknown = JSON.parse(text.decode(bytes));
      keepSourceValues(body, bytes, scanned.recordValues);
      event.body = body as ApiEvent["body"];
      event.isBase64Encoded = false;
    },
  };
}
