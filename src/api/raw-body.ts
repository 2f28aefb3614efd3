/**
 * Bytes a front door already holds, carried beside the API Gateway shapes so `floe dev` skips the
 * base64 round trip API Gateway needs for binary media: a record-batch request body it read off the
 * socket, a record-batch answer it writes back. The base64 text is still there for whoever asks
 * (a Lambda runtime serialising the result, a middleware reading `event.body`), computed on first
 * read. Symbol keys are invisible to JSON, so a Lambda result serialises exactly as before.
 */
const RAW_BODY = Symbol("floe.rawBody");

type WithRawBody = { [RAW_BODY]?: Uint8Array };

/** The bytes attached to an event or result, if a front door attached them. */
export function attachedRawBody(target: object): Uint8Array | undefined {
  return (target as WithRawBody)[RAW_BODY];
}

/**
 * Attaches `bytes` to `target` and makes its `body` their base64 text, encoded only when read
 * (and kept once read), with `isBase64Encoded` set as API Gateway sets it.
 */
export function withRawBody<T extends object>(target: T, bytes: Uint8Array): T {
  let text: string | undefined;
  Object.defineProperty(target, "body", {
    enumerable: true,
    configurable: true,
    get: () => {
      text ??= Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
      return text;
    },
    // json-body replaces a JSON body with its parse, as middy's body parsers do.
    set: (value: unknown) => {
      Object.defineProperty(target, "body", { value, enumerable: true, writable: true, configurable: true });
    },
  });
  (target as T & WithRawBody)[RAW_BODY] = bytes;
  (target as T & { isBase64Encoded?: boolean }).isBase64Encoded = true;
  return target;
}

/**
 * Attaches the bytes a text body was decoded from, leaving `body` the text it is: json-body then
 * reads the bytes the caller sent, so bytes that are not UTF-8 are refused instead of being read as
 * U+FFFD by the decoding that made the text.
 */
export function withSourceBytes<T extends object>(target: T, bytes: Uint8Array): T {
  (target as T & WithRawBody)[RAW_BODY] = bytes;
  return target;
}
