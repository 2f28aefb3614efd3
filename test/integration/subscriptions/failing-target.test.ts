/**
 * Push subscriptions against a target that fails (issue 14), end to end on a real `floe dev`: one
 * that fails intermittently, answers a partial batch response and chokes on one poison record
 * (retries, bisection down to the poison record, the checkpoint rule, the on-failure topic with the
 * reason in its headers), and one that is down for a while and comes back on the same port (nothing
 * lost, order kept, the last error visible meanwhile).
 */
import { describe, expect, it } from "vitest";
import { uniqueTopic } from "../api/harness.js";
import { itemIdentifier, type WebhookRecord } from "../../support/webhook-target.js";
import {
  createSubscription,
  createTopic,
  floeWithTargets,
  describeSubscription,
  expectCall,
  expectEachOnce,
  expectKeyOrder,
  expectOffsetOrder,
  groupLag,
  produceKeyed,
  untilDelivered,
  waitFor,
  waitForStatus,
} from "./subscription-harness.js";

describe("push subscriptions: a failing target", () => {
  const floe = floeWithTargets();

  it("retries, bisects to a poison record, honours a partial response and sends the poison record to the failure topic", async () => {
    const topic = uniqueTopic("flaky");
    const failureTopic = `${topic}-failures`;
    await createTopic(floe.url, topic, 1);
    await createTopic(floe.url, failureTopic, 1);
    const POISON = 77;
    const PARTIAL = 150;
    let partialAnswered = false;
    const seqOf = (r: WebhookRecord) => (r.value as { seq: number }).seq;
    const isPoison = (r: WebhookRecord) => seqOf(r) === POISON;
    const target = await floe.startTarget({
      behaviour: (delivery) => {
        if (delivery.records.some(isPoison)) return { status: 500, body: { error: "poison" } };
        // Once, past the poison record: the batch's second record (and so the rest) failed.
        if (!partialAnswered && delivery.records.length >= 2 && seqOf(delivery.records[0]) >= PARTIAL) {
          partialAnswered = true;
          const failed = itemIdentifier(delivery.records[1]);
          return { status: 200, body: { batchItemFailures: [{ itemIdentifier: failed }] } };
        }
        // Every fourth delivery fails once; the next attempt is a different delivery and succeeds.
        return delivery.index % 4 === 1 ? { status: 503, body: { error: "busy" } } : { status: 200 };
      },
    });
    const name = `flaky-${topic}`;
    const created = await createSubscription(floe.url, {
      name,
      topics: [topic],
      target: { type: "http", url: target.url },
      // Small batches and retries enough for a poison record's neighbours to outlast the bisection
      // (3 halvings of 8), whether or not a dispatcher counts those failures against them.
      batchSize: 8,
      maximumBatchingWindowMs: 20,
      maximumRetryAttempts: 4,
      bisectBatchOnError: true,
      onFailureTopic: failureTopic,
    });
    target.verifyWith(created.secret);

    // One key: the whole run is one partition's and one key's order.
    const produced = await produceKeyed(floe.url, topic, 200, {
      keys: 1,
      perRequest: 40,
      headers: (i) => ({ origin: `producer-${i}` }),
    });
    const poison = produced[POISON];

    await untilDelivered(floe.url, name, "199 records were accepted", () => target.accepted().length >= 199);
    await waitFor("the group has no lag", async () => (await groupLag(floe.url, name)) === 0);
    const accepted = target.accepted();
    expectEachOnce(
      accepted,
      produced.filter((p) => p !== poison),
    );
    expectOffsetOrder(accepted);
    expectKeyOrder(accepted);
    expect(target.unverified()).toEqual([]);

    // Bisection isolated the poison record: it was offered alone, and only it went to the failure topic.
    expect(target.deliveries.some((d) => d.records.length === 1 && isPoison(d.records[0]))).toBe(true);

    // The partial response: the records before the failed one were never offered again.
    const partialDelivery = target.deliveries.find(
      (d) => (d.answer as { batchItemFailures?: unknown })?.batchItemFailures,
    );
    expect(partialDelivery).toBeDefined();
    const [accepted1, failed1] = partialDelivery!.records;
    const later = target.deliveries.slice(partialDelivery!.index + 1).flatMap((d) => d.records);
    expect(later.map((l) => l.offset)).not.toContain(accepted1.offset);
    expect(later.map((l) => l.offset)).toContain(failed1.offset);

    const failures = await expectCall(
      floe.url,
      "GET",
      `/v1/topics/${failureTopic}/partitions/0/records?offset=0`,
      undefined,
      200,
    );
    expect(failures.records).toHaveLength(1);
    const [dead] = failures.records;
    expect(dead.key).toBe(poison.key);
    expect(dead.value).toEqual({ key: poison.key, seq: POISON });
    expect(dead.headers.origin).toBe(`producer-${POISON}`);
    expect(dead.headers["floe.failure.reason"]).toMatch(/500/);
    expect(dead.headers["floe.failure.subscription"]).toBe(name);
    expect(dead.headers["floe.failure.topic"]).toBe(topic);
    expect(dead.headers["floe.failure.partition"]).toBe("0");
    expect(dead.headers["floe.failure.offset"]).toBe(String(poison.offset));
    expect(Number(dead.headers["floe.failure.timestamp"])).toBeGreaterThan(0);
    expect(Number(dead.headers["floe.failure.attempts"])).toBeGreaterThan(1);

    await waitForStatus(
      floe.url,
      name,
      "the status counts it all",
      (s) => s.delivered === 199 && s.failed === 1,
    );
    const { status } = await describeSubscription(floe.url, name);
    expect(status.retried).toBeGreaterThan(0);
    expect(status.lastError?.message).toBeTruthy();
  });

  it("loses nothing while the target is down, shows the error meanwhile, and keeps order once it is back", async () => {
    const target = await floe.startTarget();
    const topic = uniqueTopic("outage");
    await createTopic(floe.url, topic, 2);
    const name = `outage-${topic}`;
    const created = await createSubscription(floe.url, {
      name,
      topics: [topic],
      target: { type: "http", url: target.url, timeoutMs: 2_000 },
      batchSize: 25,
      maximumBatchingWindowMs: 20,
    });
    target.verifyWith(created.secret);

    const early = await produceKeyed(floe.url, topic, 100, { keys: 8 });
    await untilDelivered(
      floe.url,
      name,
      "the first 100 records were accepted",
      () => target.accepted().length >= 100,
    );

    await target.down();
    const late = await produceKeyed(floe.url, topic, 300, { keys: 8, first: 100 });
    await waitForStatus(
      floe.url,
      name,
      "the status shows the outage",
      (s) => s.lastError !== null && s.oldestUndeliveredAgeMs !== null && s.lag > 0,
    );
    const { status: whileDown } = await describeSubscription(floe.url, name);
    expect(whileDown.lastError.message).toMatch(/POST http:\/\/127\.0\.0\.1/);
    const deliveredWhileDown = target.accepted().length;
    expect(deliveredWhileDown).toBe(100);

    await target.up();
    await untilDelivered(
      floe.url,
      name,
      "all 400 records were accepted",
      () => target.accepted().length >= 400,
    );
    const accepted = target.accepted();
    expectEachOnce(accepted, [...early, ...late]);
    expectOffsetOrder(accepted);
    expectKeyOrder(accepted);
    expect(target.unverified()).toEqual([]);
    await waitFor("the group has no lag", async () => (await groupLag(floe.url, name)) === 0);
    await waitForStatus(floe.url, name, "the status counts 400 delivered", (s) => s.delivered === 400);
  });
});
