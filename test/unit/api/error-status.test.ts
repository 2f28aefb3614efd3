import { describe, expect, it } from "vitest";
import { errorResponse, toPublicError } from "../../../src/api/error-response.js";
import { statusForError } from "../../../src/api/error-status.js";
import {
  ConditionFailedError,
  CorruptDataError,
  FloeError,
  ObjectNotFoundError,
  StorageError,
} from "../../../src/errors.js";

describe("error status mapping", () => {
  it.each([
    ["INVALID_TOPIC_EXCEPTION", 400],
    ["INVALID_RECORD", 400],
    ["CORRUPT_MESSAGE", 400],
    ["UNSUPPORTED_ENCODING", 400],
    ["UNKNOWN_TOPIC_OR_PARTITION", 404],
    ["ROUTE_NOT_FOUND", 404],
    ["METHOD_NOT_ALLOWED", 405],
    ["TOPIC_ALREADY_EXISTS", 409],
    ["RECORD_TOO_LARGE", 413],
    ["MESSAGE_TOO_LARGE", 413],
    ["UNSUPPORTED_MEDIA_TYPE", 415],
    ["OFFSET_OUT_OF_RANGE", 416],
    ["THROTTLING_QUOTA_EXCEEDED", 429],
  ] as const)("a client's %s is %i", (code, status) => {
    expect(statusForError(new FloeError(code, "x"))).toBe(status);
  });

  it("answers retriable server faults with 503 and the rest with 500", () => {
    expect(statusForError(new StorageError("s3 down"))).toBe(503);
    expect(
      statusForError(new FloeError("REQUEST_TIMED_OUT", "slow", { retriable: true, fault: "server" })),
    ).toBe(503);
    expect(statusForError(new ObjectNotFoundError("segments/x"))).toBe(500);
    // Bytes that fail their CRC on read are the server's problem, not a 400.
    expect(statusForError(new CorruptDataError("bad crc"))).toBe(500);
  });

  it("keeps 409 for a lost optimistic race, which the client may simply retry", () => {
    expect(statusForError(new ConditionFailedError("raced"))).toBe(409);
  });

  it("hides the details of unexpected errors behind a generic UNKNOWN_SERVER_ERROR", () => {
    const error = toPublicError(
      new TypeError("cannot read properties of undefined (reading 'x') at foo.ts:12"),
    );
    expect(error.code).toBe("UNKNOWN_SERVER_ERROR");
    expect(error.message).not.toContain("foo.ts");
    const response = errorResponse(error);
    expect(response.statusCode).toBe(500);
    expect(JSON.parse(response.body as string)).toEqual({
      error: { code: "UNKNOWN_SERVER_ERROR", message: error.message, retriable: false },
    });
    // A FloeError wrapping an unknown error (as the broker's asFloeError makes) is hidden too.
    expect(toPublicError(new FloeError("UNKNOWN_SERVER_ERROR", "secret internals")).message).not.toContain(
      "secret",
    );
  });

  it("turns middy's early timeout into a retriable REQUEST_TIMED_OUT", () => {
    const timeout = Object.assign(new Error("[AbortError]: The operation was aborted."), {
      name: "TimeoutError",
    });
    const error = toPublicError(timeout);
    expect(error).toMatchObject({ code: "REQUEST_TIMED_OUT", retriable: true });
    expect(statusForError(error)).toBe(503);
  });
});
