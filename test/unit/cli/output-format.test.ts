import { describe, expect, it } from "vitest";
import { errorLine } from "../../../src/cli/error-line.js";
import { UsageError } from "../../../src/cli/args.js";
import { formatRecord, type RecordFormat } from "../../../src/cli/record-format.js";
import { serverUrl } from "../../../src/cli/server-url.js";
import { OptionReader, parseArgs } from "../../../src/cli/args.js";
import { CONNECTION_OPTIONS } from "../../../src/cli/server-url.js";
import { FloeClientError, NETWORK_EXCEPTION } from "../../../src/client/client-error.js";
import { formatDescription } from "../../../src/cli/topics-commands.js";

const plain: RecordFormat = {
  printKey: false,
  printOffset: false,
  printPartition: false,
  printTimestamp: false,
  timestampType: "CreateTime",
  separator: Buffer.from("\t"),
};
const record = {
  offset: 7,
  timestamp: 1700000000000,
  key: Buffer.from("k"),
  value: Buffer.from([0xe2, 0x82, 0xac]),
  headers: {},
};

describe("formatRecord", () => {
  it("prints the value's bytes unchanged and a newline", () => {
    expect(Buffer.concat(formatRecord(record, 2, plain))).toEqual(Buffer.from("€\n"));
  });

  it("prints the optional fields in kafka-console-consumer's order with the separator", () => {
    const all = {
      ...plain,
      printKey: true,
      printOffset: true,
      printPartition: true,
      printTimestamp: true,
      separator: Buffer.from(":"),
    };
    expect(Buffer.concat(formatRecord(record, 2, all)).toString()).toBe(
      "CreateTime:1700000000000:Partition:2:Offset:7:k:€\n",
    );
  });

  it("prints null for a null key or a tombstone, as Kafka does", () => {
    const tombstone = { ...record, key: null, value: null };
    expect(Buffer.concat(formatRecord(tombstone, 0, { ...plain, printKey: true })).toString()).toBe(
      "null\tnull\n",
    );
  });
});

describe("errorLine", () => {
  it("is one line with the command and Kafka's error code", () => {
    const error = new FloeClientError("UNKNOWN_TOPIC_OR_PARTITION", "Topic 'x' does not exist\n(really)", {
      status: 404,
    });
    expect(errorLine("topics describe", error)).toBe(
      "floe topics describe: UNKNOWN_TOPIC_OR_PARTITION: Topic 'x' does not exist (really)",
    );
  });

  it("asks whether floe dev is running when the connection is refused", () => {
    const error = new FloeClientError(
      NETWORK_EXCEPTION,
      "cannot reach Floe at http://127.0.0.1:1: connection refused",
    );
    expect(errorLine("topics list", error)).toBe(
      "floe topics list: NETWORK_EXCEPTION: cannot reach Floe at http://127.0.0.1:1: connection refused — is `floe dev` running?",
    );
  });

  it("points usage mistakes at --help", () => {
    expect(errorLine("produce", new UsageError("--topic is required"))).toBe(
      "floe produce: --topic is required (see: floe produce --help)",
    );
  });
});

describe("serverUrl", () => {
  const url = (argv: string[], env: NodeJS.ProcessEnv = {}) =>
    serverUrl(new OptionReader(parseArgs(argv, CONNECTION_OPTIONS)), env);

  it("prefers --url, then --bootstrap-server, then FLOE_URL, then the floe dev default", () => {
    expect(url(["--url", "http://a:1", "--bootstrap-server", "b:2"], { FLOE_URL: "http://c:3" })).toBe(
      "http://a:1",
    );
    expect(url(["--bootstrap-server", "b:2"], { FLOE_URL: "http://c:3" })).toBe("http://b:2");
    expect(url([], { FLOE_URL: "https://c:3/prod" })).toBe("https://c:3/prod");
    expect(url([])).toBe("http://127.0.0.1:8092");
  });

  it("refuses an empty --url, --bootstrap-server or FLOE_URL instead of falling back to the default (issue 13)", () => {
    expect(() => url(["--url", ""])).toThrow(/^--url is empty/);
    expect(() => url(["--url", "  "], { FLOE_URL: "http://c:3" })).toThrow(/^--url is empty/);
    expect(() => url(["--bootstrap-server", ""])).toThrow(/^--bootstrap-server is empty/);
    expect(() => url([], { FLOE_URL: "" })).toThrow(/^FLOE_URL is set but empty/);
    expect(() => url(["--url", "http://"])).toThrow(/is not an http:\/\/ or https:\/\/ URL/);
  });

  it("takes the first of a Kafka-style bootstrap list", () => {
    expect(url(["--bootstrap-server", "localhost:8092,other:8092"])).toBe("http://localhost:8092");
  });
});

describe("formatDescription", () => {
  it("lays a topic out like kafka-topics --describe, listing only config overrides", () => {
    const text = formatDescription({
      name: "t",
      topicId: "id-1",
      partitions: [
        { partition: 0, logStartOffset: 0, highWatermark: 3, bytes: 120, leaderEpoch: 0, leaseOwner: null },
        {
          partition: 1,
          logStartOffset: 5,
          highWatermark: 9,
          bytes: 80,
          leaderEpoch: 2,
          leaseOwner: "maint-7",
        },
      ],
      config: { "retention.ms": 1000, "cleanup.policy": "delete" },
      configOverrides: { "retention.ms": 1000 },
    });
    expect(text).toBe(
      "Topic: t\tTopicId: id-1\tPartitionCount: 2\tConfigs: retention.ms=1000\n" +
        "\tTopic: t\tPartition: 0\tLogStartOffset: 0\tHighWatermark: 3\tSize: 120\tLeaderEpoch: 0\n" +
        "\tTopic: t\tPartition: 1\tLogStartOffset: 5\tHighWatermark: 9\tSize: 80\tLeaderEpoch: 2\tLeaseHolder: maint-7\n",
    );
  });
});
