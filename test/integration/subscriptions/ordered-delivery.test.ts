/**
 * Push subscriptions end to end (issue 14): a real `floe dev` (in-process, embedded backend) delivers
 * to a real HTTP endpoint, each delivery checked with the `standardwebhooks` package's own verifier.
 * Thousands of keyed records over several partitions arrive each exactly once, in offset order per
 * partition and so in order per key, with the subscription's group left with no lag; a redelivered
 * batch keeps its webhook-id; and the check can fail (a wrong secret or a changed body is refused).
 */
import { describe, expect, it } from "vitest";
import { Webhook } from "standardwebhooks";
import { uniqueTopic } from "../api/harness.js";
import {
  createSubscription,
  createTopic,
  floeWithTargets,
  describeGroupOf,
  describeSubscription,
  expectEachOnce,
  expectKeyOrder,
  expectOffsetOrder,
  groupLag,
  produceKeyed,
  untilDelivered,
  waitFor,
  waitForStatus,
} from "./subscription-harness.js";

describe("push subscriptions: ordered, signed delivery to an HTTP endpoint", () => {
  const floe = floeWithTargets();

  it("delivers 3,000 keyed records over 4 partitions each once, in order per partition and per key", async () => {
    const target = await floe.startTarget();
    const topic = uniqueTopic("ordered");
    await createTopic(floe.url, topic, 4);
    const name = `ordered-${topic}`;
    const created = await createSubscription(floe.url, {
      name,
      topics: [topic],
      target: { type: "http", url: target.url },
      batchSize: 100,
      maximumBatchingWindowMs: 20,
    });
    expect(created.groupId).toBe(`floe-subscription-${name}`);
    expect(created.secret).toMatch(/^whsec_/);
    target.verifyWith(created.secret);

    const produced = await produceKeyed(floe.url, topic, 3_000, { keys: 40, perRequest: 250 });
    expect(new Set(produced.map((p) => p.partition))).toEqual(new Set([0, 1, 2, 3]));

    await untilDelivered(
      floe.url,
      name,
      "3,000 records were accepted",
      () => target.accepted().length >= 3_000,
    );
    const accepted = target.accepted();
    expectEachOnce(accepted, produced);
    expectOffsetOrder(accepted);
    expectKeyOrder(accepted);
    expect(target.unverified().map((d) => d.verificationError)).toEqual([]);
    // Nothing was redelivered: the target accepted everything, so no record came twice in any delivery.
    expect(target.deliveries.flatMap((d) => d.records)).toHaveLength(3_000);
    for (const d of target.deliveries) {
      expect(d.records.length).toBeLessThanOrEqual(100);
      expect(new Set(d.records.map((r) => `${r.topic}/${r.partition}`)).size).toBe(1);
    }

    await waitFor("the subscription's group has no lag", async () => (await groupLag(floe.url, name)) === 0);
    const group = await describeGroupOf(floe.url, name);
    expect(group.offsets).toHaveLength(4);
    await waitForStatus(floe.url, name, "the status counts 3,000 delivered", (s) => s.delivered === 3_000);
    const { status } = await describeSubscription(floe.url, name);
    expect(status).toMatchObject({ delivered: 3_000, failed: 0, lag: 0, lastError: null });
  });

  it("signs every attempt verifiably, keeps the webhook-id across retries, and a wrong secret or body fails", async () => {
    let attempts = 0;
    // The first two attempts fail (500), the third is accepted: the same records three times.
    const target = await floe.startTarget({ behaviour: () => ({ status: ++attempts <= 2 ? 500 : 200 }) });
    const topic = uniqueTopic("signed");
    await createTopic(floe.url, topic, 1);
    const name = `signed-${topic}`;
    const created = await createSubscription(floe.url, {
      name,
      topics: [topic],
      target: { type: "http", url: target.url },
      maximumBatchingWindowMs: 50,
    });
    target.verifyWith(created.secret);
    const produced = await produceKeyed(floe.url, topic, 10, { perRequest: 10 });

    await untilDelivered(floe.url, name, "the records were accepted", () => target.accepted().length >= 10);
    expectEachOnce(target.accepted(), produced);
    expect(target.deliveries.length).toBeGreaterThanOrEqual(3);
    const [first, second, third] = target.deliveries;
    expect(target.unverified()).toEqual([]);
    expect(second.headers["webhook-id"]).toBe(first.headers["webhook-id"]);
    expect(third.headers["webhook-id"]).toBe(first.headers["webhook-id"]);
    expect(third.records).toEqual(first.records);
    await waitForStatus(floe.url, name, "the status counts the retries", (s) => s.retried >= 2);

    // The independent verifier can refuse: another secret, or one changed byte of the body.
    const other = new Webhook(`whsec_${Buffer.alloc(32, 7).toString("base64")}`);
    expect(() => other.verify(first.rawBody, first.headers)).toThrow();
    const own = new Webhook(created.secret);
    expect(() => own.verify(first.rawBody, first.headers)).not.toThrow();
    expect(() => own.verify(first.rawBody.replace('"seq":0', '"seq":1'), first.headers)).toThrow();
  });
});
