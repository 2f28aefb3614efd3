import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Broker } from "../../../src/broker/broker.js";
import { GroupCoordinator } from "../../../src/groups/coordinator.js";
import { resolveSubscriptions } from "../../../src/groups/subscription.js";
import {
  compileTopicRegex,
  MAX_REGEX_LENGTH,
  topicList,
  topicsMatching,
} from "../../../src/groups/topic-regex.js";
import { createBackend } from "../../../src/storage/backend.js";
import type { Backend } from "../../../src/storage/ports.js";
import { expectCode } from "../../support/faults.js";
import { expectThrownCode } from "../../support/thrown.js";

describe("subscription regexes (RE2/J syntax, whole-name match)", () => {
  it("matches the whole topic name, as Kafka's Matcher.matches does", () => {
    const orders = compileTopicRegex("orders");
    expect(orders.matches("orders")).toBe(true);
    expect(orders.matches("orders-dlq")).toBe(false);
    expect(orders.matches("old-orders")).toBe(false);
    const either = compileTopicRegex("orders|payments");
    expect(["orders", "payments", "orders-x", "x-payments"].map((t) => either.matches(t))).toEqual([
      true,
      true,
      false,
      false,
    ]);
  });

  it("takes RE2 syntax JavaScript lacks, and refuses what RE2 has not (lookaround, backreferences)", () => {
    expect(compileTopicRegex("\\Qa.b\\E").matches("a.b")).toBe(true);
    expect(compileTopicRegex("\\Qa.b\\E").matches("axb")).toBe(false);
    expect(compileTopicRegex("(?i)ORDERS-[a-z]+").matches("orders-eu")).toBe(true);
    for (const bad of ["(", "a{1001}", "(?=orders)orders", "(a)\\1", "[z-a]"]) {
      expectThrownCode(() => compileTopicRegex(bad), "INVALID_REGULAR_EXPRESSION");
    }
  });

  it(`refuses patterns longer than ${MAX_REGEX_LENGTH} characters`, () => {
    expect(compileTopicRegex("a".repeat(MAX_REGEX_LENGTH)).matches("a".repeat(MAX_REGEX_LENGTH))).toBe(true);
    expectThrownCode(() => compileTopicRegex("a".repeat(MAX_REGEX_LENGTH + 1)), "INVALID_REGULAR_EXPRESSION");
  });

  it("answers (a+)+$ against aaaa…- at once: matching is linear in the name", () => {
    // A backtracking engine takes 2^n steps here; n = 60 would not finish in a lifetime.
    const re = compileTopicRegex("(a+)+$");
    expect(re.matches("aaaaaaaaaaaaaaaaaaaaaaaaa-")).toBe(false);
    expect(re.matches(`${"a".repeat(60)}-`)).toBe(false);
    expect(re.matches("a".repeat(60))).toBe(true);
  });
});

describe("topicsMatching", () => {
  const names = fc.uniqueArray(
    fc.string({ unit: fc.constantFrom("a", "b", "c", "-"), minLength: 1, maxLength: 4 }),
    { maxLength: 12 },
  );

  it("equals matching every name, over any sequence of listings", () => {
    fc.assert(
      fc.property(
        fc.array(names, { minLength: 1, maxLength: 6 }),
        fc.constantFrom("a.*", "[ab]+", "a|b-c", ".*-.*", "(a+)+$", "c?"),
        (listings, source) => {
          const re = new RegExp(`^(?:${source})$`);
          let list: ReturnType<typeof topicList> | undefined;
          for (const listing of listings) {
            list = topicList([...listing].sort(), list);
            const expected = list.names.filter((t) => re.test(t));
            expect(topicsMatching(source, list)).toEqual(expected);
            // Asked again with the same listing: the cached answer.
            expect(topicsMatching(source, list)).toEqual(expected);
          }
        },
      ),
    );
  });

  it("keeps the same list, and with it the cached matches, while the names do not change", () => {
    const first = topicList(["a", "b"], undefined);
    expect(topicList(["a", "b"], first)).toBe(first);
    const grown = topicList(["a", "b", "c"], first);
    expect(grown).not.toBe(first);
    expect(grown.added).toEqual(["c"]);
    const matched = topicsMatching("[ac]", grown);
    expect(topicsMatching("[ac]", grown)).toBe(matched);
  });
});

describe("regex subscriptions through the coordinator", () => {
  let backend: Backend;
  let broker: Broker;
  beforeAll(async () => {
    backend = await createBackend({ storage: "memory" });
    broker = new Broker(backend);
  });
  afterAll(async () => {
    await backend?.close();
  });

  it("answers the heartbeat of issue 11 (topic aaaa…-, regex (a+)+$) with the matching topics only", async () => {
    // Each of these took a backtracking RegExp 2^n steps: 12.6 s per heartbeat at n = 25, forever at 60.
    for (const t of ["aaaaaaaaaaaaaaaaaaaaaaaaa-", `${"a".repeat(60)}-`, "aaaa"])
      await broker.createTopic(t, 1);
    const c = new GroupCoordinator({ meta: backend.meta, broker });
    const joined = await c.heartbeat("redos", { memberEpoch: 0, subscribedTopicRegex: "(a+)+$" });
    expect(joined.assignment).toEqual([{ topic: "aaaa", partitions: [0] }]);
    const again = await c.heartbeat("redos", {
      memberId: joined.memberId,
      memberEpoch: joined.memberEpoch,
      ownedPartitions: joined.assignment,
    });
    expect(again).toMatchObject({ memberEpoch: joined.memberEpoch, assignment: joined.assignment });
  });

  it("refuses an invalid RE2 pattern with INVALID_REGULAR_EXPRESSION and admits no member", async () => {
    const c = new GroupCoordinator({ meta: backend.meta, broker });
    await expectCode(
      c.heartbeat("bad-regex", { memberEpoch: 0, subscribedTopicRegex: "(?!x)y" }),
      "INVALID_REGULAR_EXPRESSION",
    );
    await expectCode(c.describe("bad-regex"), "GROUP_ID_NOT_FOUND");
  });

  it("resolves members sharing a subscription once, and follows a topic created since", async () => {
    await broker.createTopic("shared-1", 1);
    const members = Array.from({ length: 50 }, (_, i) => ({
      memberId: `m${i}`,
      subscribedTopics: i % 2 === 0 ? ["aaaa"] : [],
      subscribedTopicRegex: "shared-[0-9]+",
    }));
    const first = await resolveSubscriptions(broker, members);
    expect(first.byMember.get("m0")).toEqual(["aaaa", "shared-1"]);
    expect(first.byMember.get("m1")).toEqual(["shared-1"]);
    expect(first.byMember.get("m2")).toBe(first.byMember.get("m0"));
    await broker.createTopic("shared-2", 1);
    const second = await resolveSubscriptions(broker, members);
    expect(second.byMember.get("m1")).toEqual(["shared-1", "shared-2"]);
    expect(second.topics.map((t) => t.name)).toEqual(["aaaa", "shared-1", "shared-2"]);
  });
});
