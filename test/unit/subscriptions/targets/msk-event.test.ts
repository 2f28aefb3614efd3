import { describe, expect, it } from "vitest";
import { mskEvent } from "../../../../src/subscriptions/targets/msk-event.js";
import type { DeliveryRecord } from "../../../../src/subscriptions/types.js";

const utf8 = (text: string) => new Uint8Array(Buffer.from(text, "utf8"));

describe("mskEvent", () => {
  it("has the shape of Lambda's self-managed Kafka event", () => {
    const records: DeliveryRecord[] = [
      {
        topic: "mytopic",
        partition: 0,
        offset: 15,
        timestamp: 1545084650987,
        key: utf8("abc"),
        value: utf8("Hello, this is a test."),
        headers: [{ key: "headerKey", value: utf8("headerValue") }],
      },
    ];
    // Lambda's documented sample event (bootstrapServers aside), written out independently.
    expect(JSON.parse(JSON.stringify(mskEvent("orders-fn", records, "floe.example:443")))).toEqual({
      eventSource: "SelfManagedKafka",
      bootstrapServers: "floe.example:443",
      records: {
        "mytopic-0": [
          {
            topic: "mytopic",
            partition: 0,
            offset: 15,
            timestamp: 1545084650987,
            timestampType: "CREATE_TIME",
            key: "YWJj",
            value: "SGVsbG8sIHRoaXMgaXMgYSB0ZXN0Lg==",
            headers: [{ headerKey: [104, 101, 97, 100, 101, 114, 86, 97, 108, 117, 101] }],
          },
        ],
      },
      floeSubscription: "orders-fn",
    });
  });

  it("omits a null key and a tombstone's value, and keeps repeated and null headers in order", () => {
    const event = mskEvent("s", [
      {
        topic: "t",
        partition: 1,
        offset: 3,
        timestamp: 9,
        key: null,
        value: null,
        headers: [
          { key: "h", value: new Uint8Array([0, 255]) },
          { key: "h", value: null },
          { key: "__proto__", value: new Uint8Array([1]) },
        ],
      },
    ]);
    const [record] = JSON.parse(JSON.stringify(event)).records["t-1"];
    expect("key" in record).toBe(false);
    expect("value" in record).toBe(false);
    expect(record.headers).toEqual([{ h: [0, 255] }, { h: [] }, JSON.parse('{"__proto__":[1]}')]);
  });

  it("groups records by topic-partition, in the order given, and keeps empty values", () => {
    const r = (topic: string, partition: number, offset: number): DeliveryRecord => ({
      topic,
      partition,
      offset,
      timestamp: 0,
      key: new Uint8Array(),
      value: new Uint8Array(),
      headers: [],
    });
    const event = mskEvent("s", [r("a-1", 0, 5), r("a", 10, 7), r("a-1", 0, 6)]);
    expect(Object.keys(event.records)).toEqual(["a-1-0", "a-10"]);
    expect(event.records["a-1-0"].map((x) => x.offset)).toEqual([5, 6]);
    expect(event.records["a-10"][0]).toMatchObject({ key: "", value: "" });
    expect(event.bootstrapServers).toBe("floe");
  });
});
