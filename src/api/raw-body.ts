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
 * Makes `target.body` the text `decode` makes of the attached bytes, made only when read (and kept
 * once read): json-body and the raw-body routes read the bytes, so on their path it is never made.
 */
function lazyBody(target: object, decode: () => string): void {
  let text: string | undefined;
  Object.defineProperty(target, "body", {
    enumerable: true,
    configurable: true,
    get: () => {
      text ??= decode();
      return text;
    },
    // json-body replaces a JSON body with its parse, as middy's body parsers do.
    set: (value: unknown) => {
      Object.defineProperty(target, "body", { value, enumerable: true, writable: true, configurable: true });
    },
  });
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Attaches `bytes` to `target` and makes its `body` their base64 text, encoded only when read
 * (and kept once read), with `isBase64Encoded` set as API Gateway sets it.
 */
export function withRawBody<T extends object>(target: T, bytes: Uint8Array): T {
  lazyBody(target, () => asBuffer(bytes).toString("base64"));
  (target as T & WithRawBody)[RAW_BODY] = bytes;
  (target as T & { isBase64Encoded?: boolean }).isBase64Encoded = true;
  return target;
}

/**
 * Attaches the bytes of a text body and makes `body` their UTF-8 text, decoded only when read:
 * json-body reads the bytes the caller sent, so bytes that are not UTF-8 are refused instead of
 * being read as U+FFFD, and a JSON body is decoded once (after its scan), not twice.
 */
export function withSourceBytes<T extends object>(target: T, bytes: Uint8Array): T {
  lazyBody(target, () => asBuffer(bytes).toString("utf8"));
  (target as T & WithRawBody)[RAW_BODY] = bytes;
  return target;
}
