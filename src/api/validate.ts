import type { z } from "zod";
import { FloeError, type KafkaErrorCode } from "../errors.js";

/** Which Kafka error code a schema violation at this path is; routes know their fields' meaning. */
export type IssueCode = (path: readonly PropertyKey[]) => KafkaErrorCode;

const MAX_ISSUES_SHOWN = 3;
/** Unknown field names shown before "and N more". */
const MAX_KEYS_SHOWN = 3;
/**
 * Field names are the client's own text (unknown keys, header names, config keys): each is cut to
 * this many characters, so a refusal stays small however long or many the names were, and an error
 * body never outgrows the request (an answer over Lambda's 6 MB would fail at the gateway).
 */
const MAX_NAME_CHARS = 64;

function shownName(p: PropertyKey): string {
  const name = String(p);
  return name.length > MAX_NAME_CHARS ? `${name.slice(0, MAX_NAME_CHARS)}…` : name;
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const p of path)
    out += typeof p === "number" ? `[${p}]` : out === "" ? shownName(p) : `.${shownName(p)}`;
  return out;
}

function unknownFields(keys: readonly string[]): string {
  const shown = keys.slice(0, MAX_KEYS_SHOWN).map(shownName).join(", ");
  const more = keys.length > MAX_KEYS_SHOWN ? ` and ${keys.length - MAX_KEYS_SHOWN} more` : "";
  return `has unknown field${keys.length === 1 ? "" : "s"} ${shown}${more}`;
}

/** What a path names, for a person: the path parameters are names and ids, the rest field paths. */
function subjectOf(path: readonly PropertyKey[], what: string): string {
  const at = formatPath(path);
  if (at === "") return `the ${what}`;
  if (what === "path") {
    if (at === "topic") return "topic name";
    if (at === "group") return "group id";
  }
  return at;
}

function describeInput(input: unknown): string {
  if (input === null) return "null";
  if (Array.isArray(input)) return "a list";
  const type = typeof input;
  return type === "object" ? "an object" : type === "string" ? "a string" : `a ${type}`;
}

const EXPECTED: Record<string, string> = {
  int: "an integer",
  number: "a number",
  string: "a string",
  boolean: "true or false",
  object: "an object",
  array: "a list",
};

/**
 * zod's default messages ("Too big: expected string to have <=249 characters") as the rest of a
 * sentence whose subject is the field ("is longer than 249 characters"). Messages a schema sets
 * itself win over these, as zod applies its per-parse error map only where none was set.
 */
function predicateOf(issue: z.core.$ZodRawIssue): string | undefined {
  const i = issue as z.core.$ZodRawIssue & Record<string, unknown>;
  switch (issue.code) {
    case "too_big": {
      const max = Number(i.maximum);
      const limit = i.inclusive === false ? max - 1 : max;
      if (i.origin === "string") return `is longer than ${limit} characters`;
      if (i.origin === "array" || i.origin === "set") return `has more than ${limit} items`;
      return i.inclusive === false ? `must be less than ${max}` : `must be at most ${max}`;
    }
    case "too_small": {
      const min = Number(i.minimum);
      const limit = i.inclusive === false ? min + 1 : min;
      if (i.origin === "string") return limit <= 1 ? "is empty" : `is shorter than ${limit} characters`;
      if (i.origin === "array" || i.origin === "set") {
        return limit <= 1 ? "is empty" : `has fewer than ${limit} items`;
      }
      return i.inclusive === false ? `must be more than ${min}` : `must be at least ${min}`;
    }
    case "invalid_type": {
      if (issue.input === undefined) return "is required";
      const expected = EXPECTED[String(i.expected)] ?? String(i.expected);
      return `must be ${expected}, not ${describeInput(issue.input)}`;
    }
    case "invalid_value": {
      const values = (i.values as unknown[] | undefined) ?? [];
      return `must be one of ${values.map((v) => JSON.stringify(v)).join(", ")}`;
    }
    case "unrecognized_keys":
      return unknownFields(i.keys as string[]);
    case "not_multiple_of":
      return `must be a multiple of ${String(i.divisor)}`;
    case "invalid_format":
      return "is not in the expected format";
    case "invalid_union":
      return "does not match any accepted form";
    default:
      return undefined;
  }
}

/** A zod failure as one FloeError naming the first offending fields, coded by the first of them. */
export function validationError(
  error: z.ZodError,
  codeFor: IssueCode,
  what = "request",
  predicates: ReadonlySet<string> = new Set(),
): FloeError {
  // One complaint per field: an empty name need not also be said to have no valid characters.
  const seen = new Set<string>();
  const issues = error.issues.filter((i) => {
    const at = formatPath(i.path);
    if (seen.has(at)) return false;
    seen.add(at);
    return true;
  });
  const shown = issues.slice(0, MAX_ISSUES_SHOWN).map((i) => {
    if (predicates.has(i.message)) return `${subjectOf(i.path, what)} ${i.message}`;
    if (what === "path") return `invalid ${subjectOf(i.path, what)}: ${i.message}`;
    const at = formatPath(i.path);
    return at === "" ? i.message : `${at}: ${i.message}`;
  });
  const more = issues.length > MAX_ISSUES_SHOWN ? ` (and ${issues.length - MAX_ISSUES_SHOWN} more)` : "";
  // A bad path parameter is a bad name or id, said as such; a body or query names its field.
  const prefix = what === "path" ? "" : `Invalid ${what}: `;
  const text = `${prefix}${shown.join("; ")}${more}`;
  return new FloeError(codeFor(issues[0]?.path ?? []), text.charAt(0).toUpperCase() + text.slice(1));
}

export function parseWith<S extends z.ZodType>(
  schema: S,
  input: unknown,
  codeFor: IssueCode,
  what?: string,
): z.output<S> {
  const predicates = new Set<string>();
  const result = schema.safeParse(input, {
    error: (issue) => {
      const predicate = predicateOf(issue);
      if (predicate) predicates.add(predicate);
      return predicate;
    },
  });
  if (!result.success) throw validationError(result.error, codeFor, what, predicates);
  return result.data;
}
