import { describe, expect, it } from "vitest";
import { OptionReader, type OptionSpecs, parseArgs, UsageError } from "../../../src/cli/args.js";

const specs: OptionSpecs = {
  topic: { kind: "value", description: "" },
  partitions: { kind: "value", description: "" },
  offset: { kind: "value", description: "" },
  config: { kind: "value", repeatable: true, description: "" },
  "from-beginning": { kind: "flag", description: "" },
  help: { kind: "flag", short: "h", description: "" },
};

function read(argv: string[]): OptionReader {
  return new OptionReader(parseArgs(argv, specs));
}

function usageError(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
  throw new Error("expected a UsageError");
}

describe("parseArgs", () => {
  it("reads --name value, --name=value and flags", () => {
    const options = read(["--topic", "orders", "--partitions=3", "--from-beginning"]);
    expect(options.string("topic")).toBe("orders");
    expect(options.integer("partitions", 1)).toBe(3);
    expect(options.flag("from-beginning")).toBe(true);
    expect(options.flag("help")).toBe(false);
  });

  it("keeps a value that itself contains '=' or starts like a number", () => {
    const options = read(["--config=retention.ms=1000", "--offset", "-1"]);
    expect(options.list("config")).toEqual(["retention.ms=1000"]);
    expect(options.string("offset")).toBe("-1");
  });

  it("collects repeatable options in order and parses key=value pairs", () => {
    const options = read(["--config", "a=1", "--config", "b=x=y"]);
    expect(options.keyValues("config")).toEqual({ a: "1", b: "x=y" });
  });

  it("lets the last of a repeated single-valued option win", () => {
    expect(read(["--topic", "a", "--topic", "b"]).string("topic")).toBe("b");
  });

  it("maps short aliases", () => {
    expect(read(["-h"]).flag("help")).toBe(true);
  });

  it("keeps positionals, and everything after --", () => {
    const parsed = parseArgs(["extra", "--topic", "t", "--", "--topic"], specs);
    expect(parsed.positionals).toEqual(["extra", "--topic"]);
    expect(usageError(() => new OptionReader(parsed).noPositionals())).toBe('unexpected argument "extra"');
  });

  it("names an unknown option and suggests a close one", () => {
    expect(usageError(() => parseArgs(["--topc", "t"], specs))).toBe(
      "unknown option --topc (did you mean --topic?)",
    );
    expect(usageError(() => parseArgs(["--zzzzzzzz"], specs))).toBe("unknown option --zzzzzzzz");
    expect(usageError(() => parseArgs(["-x"], specs))).toBe("unknown option -x");
  });

  it("does not treat Object.prototype names as options", () => {
    expect(usageError(() => parseArgs(["--constructor"], specs))).toMatch(/^unknown option --constructor/);
  });

  it("refuses a missing value instead of swallowing the next option", () => {
    expect(usageError(() => parseArgs(["--topic"], specs))).toBe("option --topic needs a value");
    expect(usageError(() => parseArgs(["--topic", "--from-beginning"], specs))).toBe(
      "option --topic needs a value",
    );
  });

  it("refuses a value given to a flag", () => {
    expect(usageError(() => parseArgs(["--from-beginning=yes"], specs))).toBe(
      "option --from-beginning takes no value",
    );
  });
});

describe("OptionReader", () => {
  it("requires what is required", () => {
    expect(usageError(() => read([]).requiredString("topic"))).toBe("--topic is required");
    expect(usageError(() => read(["--topic="]).requiredString("topic"))).toBe("--topic is required");
  });

  it("checks integers and their lower bound", () => {
    expect(read([]).integer("partitions", 1)).toBeUndefined();
    expect(usageError(() => read(["--partitions", "0"]).integer("partitions", 1))).toBe(
      '--partitions must be an integer >= 1, got "0"',
    );
    expect(usageError(() => read(["--partitions", "2.5"]).integer("partitions", 1))).toMatch(
      /must be an integer/,
    );
    expect(usageError(() => read(["--partitions", "three"]).integer("partitions", 1))).toMatch(
      /must be an integer/,
    );
  });

  it("refuses a --config without key=value", () => {
    expect(usageError(() => read(["--config", "retention.ms"]).keyValues("config"))).toBe(
      '--config expects key=value, got "retention.ms"',
    );
    expect(usageError(() => read(["--config", "=1"]).keyValues("config"))).toMatch(/expects key=value/);
  });
});
