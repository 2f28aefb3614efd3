import { z } from "zod";
import { FloeError } from "../errors.js";
import { statusForError } from "./error-status.js";
import { type ApiResult, jsonResponse } from "./json-response.js";
import { validationError } from "./validate.js";

/**
 * Any thrown value as a FloeError a client may see. Unknown errors are bugs: they become a generic
 * UNKNOWN_SERVER_ERROR whose message reveals nothing, while the original stays the cause for the log.
 */
export function toPublicError(error: unknown): FloeError {
  if (error instanceof FloeError && error.code !== "UNKNOWN_SERVER_ERROR") return error;
  if (error instanceof z.ZodError) return validationError(error, () => "INVALID_REQUEST");
  // middy's timeoutEarly fires just before Lambda would kill the invocation.
  if (error instanceof Error && error.name === "TimeoutError") {
    return new FloeError(
      "REQUEST_TIMED_OUT",
      "The request did not complete in time; it may or may not have taken effect.",
      {
        retriable: true,
        fault: "server",
        cause: error,
      },
    );
  }
  return new FloeError("UNKNOWN_SERVER_ERROR", "An unexpected error occurred; it has been logged.", {
    fault: "server",
    cause: error,
  });
}

/** The `{"error":{code,message,retriable}}` body with the code's status. */
export function errorResponse(error: FloeError, headers: Record<string, string> = {}): ApiResult {
  return jsonResponse(statusForError(error), { error: error.toJSON() }, headers);
}
