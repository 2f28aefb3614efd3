import { z } from "zod";
import { describe, expect, it } from "vitest";
import { ProduceRequest } from "../../../src/api/schemas.js";
import { parseWith } from "../../../src/api/validate.js";
import { FloeError } from "../../../src/errors.js";

describe("parseWith", () => {
  const codeFor = (path: readonly PropertyKey[]) =>
    path[0] === "records" && path.length > 1 ? "INVALID_RECORD" : "INVALID_REQUEST";

  it("returns the parsed value when valid", () => {
    expect(parseWith(z.object({ a: z.number() }), { a: 1 }, codeFor)).toEqual({ a: 1 });
  });

  it("names the offending fields by path and codes the error by the first", () => {
    let error: unknown;
    try {
      parseWith(ProduceRequest, { records: [{ value: 1 }, { key: 3 }] }, codeFor, "body");
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(FloeError);
    expect(error).toMatchObject({ code: "INVALID_RECORD" });
    expect((error as Error).message).toBe(
      "Invalid body: records[1].key: Invalid input: expected string, received number; records[1].value: value is required (use null for a tombstone)",
    );
  });

  it("shows at most three issues and counts the rest", () => {
    const schema = z.object({ a: z.string(), b: z.string(), c: z.string(), d: z.string(), e: z.string() });
    expect(() => parseWith(schema, {}, codeFor)).toThrow(/\(and 2 more\)$/);
  });
});
