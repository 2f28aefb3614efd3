import { describe, expect, it } from "vitest";
import { UsageError } from "../../../src/cli/args.js";
import {
  consumerSettings,
  includePattern,
  LineFormatError,
  lineFormat,
  parseLine,
  parsePairs,
  parsePropertiesText,
  producerSettings,
  recordFormat,
  topicList,
} from "../../../src/cli/console-properties.js";
import { prompted } from "../../../src/cli/line-splitter.js";
import { formatRecord } from "../../../src/cli/record-format.js";
import type { ConsumedRecord } from "../../../src/client/types.js";

const props = (...pairs: string[]) => parsePairs(pairs, "property");
const text = (b: Buffer | null | undefined) => (b === null ? null : b?.toString("utf8"));
const parsed = (line: string, ...pairs: string[]) => {
  const p = parseLine(Buffer.from(line), lineFormat(props(...pairs)), 1);
  return {
    key: text(p.key),
    value: text(p.value),
    headers: p.headers && Object.fromEntries(Object.entries(p.headers).map(([k, v]) => [k, text(v)])),
  };
};

describe("parsePairs and .properties files", () => {
  it("keeps the first = as the split, later pairs winning", () => {
    expect([...props("key.separator==", "a=1", "a=2")]).toEqual([
      ["key.separator", "="],
      ["a", "2"],
    ]);
    expect(() => props("parse.key")).toThrow(UsageError);
    expect(() => props("=x")).toThrow("--property expects key=value");
  });

  it("reads Java properties: comments, separators, continuations, escapes", () => {
    const file = parsePropertiesText(
      "# comment\n! also\n\nacks = all\nlinger.ms:5\nclient.id  floe\nlong=a,\\\n  b\nsep=\\t\n",
    );
    expect(Object.fromEntries(file)).toEqual({
      acks: "all",
      "linger.ms": "5",
      "client.id": "floe",
      long: "a,b",
      sep: "\t",
    });
  });
});

describe("the console producer's line reader (Kafka's LineMessageReader)", () => {
  it("sends the whole line as the value by default", () => {
    expect(parsed("a\tb")).toEqual({ key: null, value: "a\tb", headers: undefined });
  });

  it("parse.key splits at the first key.separator, a tab by default", () => {
    expect(parsed("k\tv\tw", "parse.key=true")).toEqual({ key: "k", value: "v\tw", headers: undefined });
    expect(parsed("user-1:a:b", "parse.key=TRUE", "key.separator=:")).toMatchObject({
      key: "user-1",
      value: "a:b",
    });
    expect(parsed("k::v", "parse.key=true", "key.separator=::")).toMatchObject({ key: "k", value: "v" });
  });

  it("fails a line without the separator, in Kafka's words, unless ignore.error", () => {
    expect(() => parsed("no-separator", "parse.key=true")).toThrow(
      new LineFormatError("No key separator found on line number 1: 'no-separator'"),
    );
    expect(parsed("no-separator", "parse.key=true", "ignore.error=true")).toMatchObject({
      key: null,
      value: "no-separator",
    });
  });

  it("parse.headers reads h:v pairs before headers.delimiter, then the key", () => {
    expect(parsed("h1:v1,h2:v2\tkey\tvalue", "parse.headers=true", "parse.key=true")).toEqual({
      key: "key",
      value: "value",
      headers: { h1: "v1", h2: "v2" },
    });
    expect(parsed("h1:v:1\tvalue", "parse.headers=true")).toEqual({
      key: null,
      value: "value",
      headers: { h1: "v:1" },
    });
    expect(
      parsed(
        "a=1;b=2|k|v",
        "parse.headers=true",
        "parse.key=true",
        "headers.delimiter=|",
        "key.separator=|",
        "headers.separator=;",
        "headers.key.separator==",
      ),
    ).toEqual({ key: "k", value: "v", headers: { a: "1", b: "2" } });
    expect(() => parsed("h1\tvalue", "parse.headers=true")).toThrow(
      "No header key separator found in pair 'h1' on line number 1",
    );
    expect(parsed("h1\tvalue", "parse.headers=true", "ignore.error=true").headers).toEqual({ h1: null });
  });

  it("null.marker makes a whole key, value or header value null", () => {
    expect(parsed("NULL", "null.marker=NULL")).toMatchObject({ value: null });
    expect(parsed("NULL more", "null.marker=NULL")).toMatchObject({ value: "NULL more" });
    expect(parsed("h0:NULL\tNULL\tv", "null.marker=NULL", "parse.key=true", "parse.headers=true")).toEqual({
      key: null,
      value: "v",
      headers: { h0: null },
    });
    expect(() => parsed("NULL:x\tv", "null.marker=NULL", "parse.headers=true")).toThrow(/Header keys/);
  });

  it("keeps bytes that are not UTF-8", () => {
    const line = Buffer.from([0xff, 0x3a, 0xfe, 0x00]);
    const p = parseLine(line, lineFormat(props("parse.key=true", "key.separator=:")), 1);
    expect(p.key).toEqual(Buffer.from([0xff]));
    expect(p.value).toEqual(Buffer.from([0xfe, 0x00]));
  });

  it("refuses Kafka's clashing separators and notes unknown keys", () => {
    expect(() => lineFormat(props("headers.separator=\t"))).toThrow(
      "--property headers.delimiter and headers.separator may not be equal",
    );
    expect(() => lineFormat(props("null.marker=\t"))).toThrow(/null.marker and key.separator/);
    expect(() => lineFormat(props("key.separator="))).toThrow(/cannot be empty/);
    const notes: string[] = [];
    lineFormat(props("parse.kye=true"), notes);
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatch(/^--property parse.kye is not a setting of the line reader/);
  });
});

describe("--producer-property", () => {
  it("maps Kafka's settings onto the producer's options", () => {
    const notes: string[] = [];
    const options = producerSettings(
      parsePairs(
        [
          "linger.ms=5",
          "batch.size=32768",
          "enable.idempotence=false",
          "max.in.flight.requests.per.connection=3",
          "retries=2",
          "retry.backoff.ms=50",
          "acks=all",
        ],
        "producer-property",
      ),
      notes,
    );
    expect(options).toEqual({
      lingerMs: 5,
      batchBytes: 32768,
      idempotent: false,
      maxInFlightRequests: 3,
      retry: { retries: 2, initialRetryTime: 50 },
    });
    expect(notes).toEqual([]);
  });

  it("notes what has no effect, refuses what cannot be done", () => {
    const notes: string[] = [];
    producerSettings(parsePairs(["acks=1", "security.protocol=SSL", "foo=bar"], "p"), notes);
    expect(notes).toEqual([
      expect.stringMatching(/^acks=1 has no effect: .*acks=all/),
      expect.stringMatching(/^security.protocol is ignored: Floe speaks HTTP/),
      "foo is not a setting of Floe's producer; ignored",
    ]);
    expect(() => producerSettings(parsePairs(["compression.type=gzip"], "p"))).toThrow(/uncompressed/);
    expect(() => producerSettings(parsePairs(["compression.type=none"], "p"))).not.toThrow();
    expect(() => producerSettings(parsePairs(["linger.ms=soon"], "p"))).toThrow(
      'linger.ms must be an integer >= 0, got "soon"',
    );
    expect(() => producerSettings(parsePairs(["acks=2"], "p"))).toThrow(/acks must be/);
  });
});

describe("--consumer-property", () => {
  it("maps auto.offset.reset, group.id and the fetch settings", () => {
    const s = consumerSettings(
      parsePairs(
        ["auto.offset.reset=Earliest", "group.id=g", "max.poll.records=10", "enable.auto.commit=false"],
        "c",
      ),
    );
    expect(s).toMatchObject({ autoOffsetReset: "earliest", groupId: "g", maxRecords: 10, autoCommit: false });
    expect(() => consumerSettings(parsePairs(["auto.offset.reset=smallest"], "c"))).toThrow(
      /earliest, latest or none/,
    );
  });

  it("notes isolation.level: everything is committed", () => {
    const notes: string[] = [];
    consumerSettings(parsePairs(["isolation.level=read_committed"], "c"), notes);
    expect(notes).toEqual([expect.stringMatching(/no transactions, so every record is committed/)]);
  });
});

describe("--include and --topic a,b", () => {
  it("matches whole names; commas mean or, as Kafka's IncludeList", () => {
    const { regex, source } = includePattern("'orders.*, audit'");
    expect(source).toBe("orders.*|audit");
    expect(["orders", "orders-eu", "audit", "audit-2", "x-orders"].filter((t) => regex.test(t))).toEqual([
      "orders",
      "orders-eu",
      "audit",
    ]);
    expect(() => includePattern("(")).toThrow(/not a valid regular expression/);
    expect(() => includePattern("a".repeat(1001))).toThrow(/longer than 1000/);
  });

  it("splits --topic at commas, without empties or repeats", () => {
    expect(topicList("a, b,,a")).toEqual(["a", "b"]);
    expect(topicList(undefined)).toEqual([]);
  });
});

describe("the console consumer's formatter (Kafka's DefaultMessageFormatter)", () => {
  const record: ConsumedRecord = {
    offset: 7,
    timestamp: 1700000000000,
    key: Buffer.from("k"),
    value: Buffer.from("v"),
    headers: { h1: Buffer.from("x"), h2: null },
  };
  const show = (pairs: string[], flags = {}, r: ConsumedRecord = record) =>
    Buffer.concat(
      formatRecord(r, 2, {
        ...recordFormat(parsePairs(pairs, "property"), flags),
        timestampType: "CreateTime",
      }),
    ).toString();

  it("prints the value alone by default", () => {
    expect(show([])).toBe("v\n");
  });

  it("prints every field in Kafka's order", () => {
    expect(
      show([
        "print.timestamp=true",
        "print.partition=true",
        "print.offset=true",
        "print.headers=true",
        "print.key=true",
      ]),
    ).toBe("CreateTime:1700000000000\tPartition:2\tOffset:7\th1:x,h2:null\tk\tv\n");
  });

  it("ends the line after the last field when print.value=false", () => {
    expect(show(["print.key=true", "print.value=false"])).toBe("k\n");
    expect(show(["print.value=false"])).toBe("");
  });

  it("uses key.separator, line.separator, headers.separator and null.literal", () => {
    const tombstone = { ...record, key: null, value: null, headers: {} };
    expect(
      show(
        ["print.key=true", "print.headers=true", "key.separator=|", "line.separator=;", "null.literal=NIL"],
        {},
        tombstone,
      ),
    ).toBe("NO_HEADERS|NIL|NIL;");
    expect(show(["print.headers=true", "headers.separator= & "])).toBe("h1:x & h2:null\tv\n");
  });

  it("keeps Floe's flags as aliases, and Kafka's boolean reading", () => {
    expect(show(["print.key=yes"], { printOffset: true, keySeparator: ":" })).toBe("Offset:7:v\n");
    expect(show([], { printKey: true, printHeaders: true })).toBe("h1:x,h2:null\tk\tv\n");
  });

  it("notes keys that are not the formatter's", () => {
    const notes: string[] = [];
    recordFormat(parsePairs(["print.kye=true", "value.deserializer=x"], "property"), {}, notes);
    expect(notes).toHaveLength(2);
    expect(notes[0]).toMatch(/print.kye is not a setting of the formatter/);
    expect(notes[1]).toMatch(/value.deserializer is ignored/);
  });
});

describe("prompted", () => {
  it("prompts before every read, including the one that finds the end", async () => {
    const events: string[] = [];
    async function* source() {
      yield "a";
      yield "b";
    }
    for await (const item of prompted(source(), () => events.push(">"))) events.push(item);
    expect(events).toEqual([">", "a", ">", "b", ">"]);
  });
});
