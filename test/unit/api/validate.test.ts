import { z } from "zod";
import { describe, expect, it } from "vitest";
import { ProduceRequest, TopicName } from "../../../src/api/schemas.js";
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
      "Invalid body: records[1].key must be a string, not a number; records[1].value: value is required (use null for a tombstone)",
    );
  });

  it("shows at most three issues and counts the rest", () => {
    const schema = z.object({ a: z.string(), b: z.string(), c: z.string(), d: z.string(), e: z.string() });
    expect(() => parseWith(schema, {}, codeFor)).toThrow(/\(and 2 more\)$/);
  });

  it("keeps a refusal small however many or long the client's field names are (issue 11)", () => {
    const message = (input: Record<string, unknown>) => {
      try {
        parseWith(z.strictObject({ name: z.string() }), input, codeFor, "body");
      } catch (e) {
        return (e as Error).message;
      }
      return "parsed";
    };
    const many: Record<string, unknown> = { name: "t" };
    for (let i = 0; i < 20_000; i++) many[`${"k".repeat(200)}${i}`] = 1;
    const text = message(many);
    expect(text).toMatch(/^Invalid body: the body has unknown fields k{64}…, k{64}…, k{64}… and 19997 more$/);
    expect(message({ name: "t", ["x".repeat(100_000)]: 1 })).toBe(
      `Invalid body: the body has unknown field ${"x".repeat(64)}…`,
    );
    const headers = z.object({ headers: z.record(z.string(), z.string()) });
    expect(() => parseWith(headers, { headers: { ["h".repeat(100_000)]: 5 } }, codeFor, "body")).toThrow(
      `Invalid body: headers.${"h".repeat(64)}… must be a string, not a number`,
    );
  });

  it("says zod's own complaints in words, naming the field as a person would", () => {
    const message = (schema: z.ZodType, input: unknown, what?: string) => {
      try {
        parseWith(schema, input, codeFor, what);
      } catch (e) {
        return (e as Error).message;
      }
      return "parsed";
    };
    const params = z.object({ topic: TopicName, group: z.string().max(249) });
    expect(message(params, { topic: "t".repeat(250), group: "g" }, "path")).toBe(
      "Topic name is longer than 249 characters",
    );
    expect(message(params, { topic: "", group: "g" }, "path")).toBe("Topic name is empty");
    expect(message(params, { topic: "a b", group: "g" }, "path")).toBe(
      "Invalid topic name: topic names may contain only ASCII letters, digits, '.', '_' and '-'",
    );
    const query = z.strictObject({ n: z.number().int().min(0).max(5), e: z.enum(["a", "b"]) });
    expect(message(query, { n: 9, e: "c", zz: 1 }, "query")).toBe(
      'Invalid query: n must be at most 5; e must be one of "a", "b"; the query has unknown field zz',
    );
    expect(message(query, "x", "body")).toBe("Invalid body: the body must be an object, not a string");
    expect(message(query, { n: 1.5, e: "a" })).toBe("Invalid request: n must be an integer, not a number");
  });
});
