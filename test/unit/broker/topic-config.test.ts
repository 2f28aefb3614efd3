import { describe, expect, it } from "vitest";
import { Broker } from "../../../src/broker/broker.js";
import { decimalPattern, parseTopicConfig, validateTopicName } from "../../../src/broker/topic-config.js";
import { FloeError } from "../../../src/errors.js";
import { createBackend } from "../../../src/storage/backend.js";
import { thrown } from "../../support/thrown.js";

/** Names Object.prototype answers for: a lookup through the prototype found them (500) or stored them. */
const PROTOTYPE_NAMES = [
  "hasOwnProperty",
  "valueOf",
  "__lookupGetter__",
  "toString",
  "constructor",
  "isPrototypeOf",
  "__proto__",
];

function codeOf(run: () => unknown): string | undefined {
  const e = thrown(run);
  return e instanceof FloeError ? e.code : undefined;
}

describe("topic config validation (Kafka's LogConfig names, types and ranges)", () => {
  it.each(PROTOTYPE_NAMES)("refuses %s as an unknown config with INVALID_CONFIG", (name) => {
    // JSON.parse makes "__proto__" an own key, as a request body does.
    const overrides = JSON.parse(`{${JSON.stringify(name)}:"1"}`);
    expect(codeOf(() => parseTopicConfig(overrides))).toBe("INVALID_CONFIG");
  });

  it.each([
    ["max.message.bytes", 2147483648],
    ["max.message.bytes", 1e15],
    ["max.message.bytes", "2147483648"],
    ["max.message.bytes", -1],
    ["max.message.bytes", 1.5],
    ["max.message.bytes", "1e3"],
    ["max.message.bytes", "0x10"],
    ["max.message.bytes", " 12"],
    ["max.message.bytes", true],
    ["retention.ms", -2],
    ["retention.ms", 2 ** 53],
    ["retention.ms", "9223372036854775807"],
    ["retention.bytes", ""],
    ["cleanup.policy", "delete,compact"],
    ["cleanup.policy", 1],
    ["message.timestamp.type", "createtime"],
  ])("refuses %s=%j with INVALID_CONFIG", (key, value) => {
    expect(codeOf(() => parseTopicConfig({ [key]: value }))).toBe("INVALID_CONFIG");
  });

  it.each([
    ["max.message.bytes", 2147483647, 2147483647],
    ["max.message.bytes", "2147483647", 2147483647],
    ["max.message.bytes", "0", 0],
    ["retention.ms", -1, -1],
    ["retention.ms", "-1", -1],
    // Kafka's retention.bytes is a LONG without a validator: any negative means no limit.
    ["retention.bytes", -5, -5],
    ["retention.bytes", "-9007199254740991", -9007199254740991],
    ["cleanup.policy", "compact", "compact"],
  ])("accepts %s=%j as %j", (key, value, parsed) => {
    expect(parseTopicConfig({ [key]: value })).toEqual({ [key]: parsed });
  });

  it("publishes patterns that match exactly the integers in range", () => {
    for (const [min, max] of [
      [0, 2 ** 31 - 1],
      [-1, Number.MAX_SAFE_INTEGER],
      [-Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
      [1, 9_999],
      [0, 9_999],
    ]) {
      const pattern = new RegExp(decimalPattern(min, max));
      const probes = [min - 1, min, min + 1, max - 1, max, max + 1, 0, 1, -1, 10, 99, 100, 1000, 10_000];
      for (let i = 0; i < 2000; i++) probes.push(Math.floor(Math.random() * max * 2) - 5);
      for (const n of probes) {
        if (!Number.isSafeInteger(n)) continue;
        expect(pattern.test(String(n)), `${n} in [${min}, ${max}]`).toBe(n >= min && n <= max);
      }
      expect(pattern.test(""), "empty").toBe(false);
      expect(pattern.test(`0${max}`), "leading zero").toBe(true);
    }
  });

  it.each([".", ".."])("refuses the topic name %j with INVALID_TOPIC_EXCEPTION", (name) => {
    expect(codeOf(() => validateTopicName(name))).toBe("INVALID_TOPIC_EXCEPTION");
  });

  it("the broker stores nothing for a refused create or update, prototype names included", async () => {
    const backend = await createBackend({ storage: "memory" });
    try {
      const broker = new Broker(backend, {});
      for (const name of PROTOTYPE_NAMES) {
        const config = JSON.parse(`{${JSON.stringify(name)}:"1"}`);
        await expect(broker.createTopic(`t-${name}`, 1, config)).rejects.toMatchObject({
          code: "INVALID_CONFIG",
        });
      }
      expect(await broker.listTopics()).toEqual([]);
      await broker.createTopic("kept", 1, { "retention.ms": 1000 });
      for (const name of PROTOTYPE_NAMES) {
        for (const value of ["1", null]) {
          const config = JSON.parse(`{${JSON.stringify(name)}:${JSON.stringify(value)}}`);
          await expect(broker.updateTopic("kept", { config })).rejects.toMatchObject({
            code: "INVALID_CONFIG",
          });
        }
      }
      await expect(
        broker.updateTopic("kept", { config: { "max.message.bytes": 2147483648 } }),
      ).rejects.toMatchObject({ code: "INVALID_CONFIG" });
      expect((await broker.describeTopic("kept")).configOverrides).toEqual({ "retention.ms": 1000 });
    } finally {
      await backend.close();
    }
  });
});
