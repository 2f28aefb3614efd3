import type { z } from "zod";
import { FloeError, type KafkaErrorCode } from "../errors.js";

/** Which Kafka error code a schema violation at this path is; routes know their fields' meaning. */
export type IssueCode = (path: readonly PropertyKey[]) => KafkaErrorCode;

const MAX_ISSUES_SHOWN = 3;

function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const p of path) out += typeof p === "number" ? `[${p}]` : out === "" ? String(p) : `.${String(p)}`;
  return out;
}

/** A zod failure as one FloeError naming the first offending fields, coded by the first of them. */
export function validationError(error: z.ZodError, codeFor: IssueCode, what = "request"): FloeError {
  const issues = error.issues;
  const shown = issues.slice(0, MAX_ISSUES_SHOWN).map((i) => {
    const at = formatPath(i.path);
    return at === "" ? i.message : `${at}: ${i.message}`;
  });
  const more = issues.length > MAX_ISSUES_SHOWN ? ` (and ${issues.length - MAX_ISSUES_SHOWN} more)` : "";
  return new FloeError(codeFor(issues[0]?.path ?? []), `Invalid ${what}: ${shown.join("; ")}${more}`);
}

export function parseWith<S extends z.ZodType>(
  schema: S,
  input: unknown,
  codeFor: IssueCode,
  what?: string,
): z.output<S> {
  const result = schema.safeParse(input);
  if (!result.success) throw validationError(result.error, codeFor, what);
  return result.data;
}
